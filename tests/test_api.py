"""The Python API: the README's notebook example runs as written, and the calls behave as documented."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import lc_bench

README = Path(__file__).resolve().parents[1] / "README.md"
RELEASE_RUNS = Path(__file__).resolve().parent / "fixtures" / "release_0_1" / "runs"


def readme_example() -> str:
    section = README.read_text(encoding="utf-8").split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_the_readme_example_runs(tiny_model_dir, tmp_path, monkeypatch, capsys):
    code = readme_example()
    assert 'model="./my-model"' in code and 'out="results"' in code
    monkeypatch.chdir(tmp_path)
    exec(compile(code.replace("./my-model", str(tiny_model_dir)), "README.md", "exec"), {})
    run = tmp_path / "results" / "notebook-demo"
    assert (run / "records.jsonl").exists() and (run / "leaderboard.html").exists()
    assert "niah_single_1" in capsys.readouterr().out


def test_evaluate_returns_tables_and_records_and_resumes(tiny_model_dir, tmp_path):
    first = lc_bench.evaluate(
        model=str(tiny_model_dir), tasks="niah_single_1", lengths=[1024], depths="0,100", runner="echo",
        out=tmp_path, name="r", write_outputs=False,
    )
    assert first.summary.generated == 2 and not (first.run_dir / "leaderboard.md").exists()
    overall = first.tables["scores"].set_index("level").loc["overall"]
    assert overall[1024] == 100.0  # echo repeats the prompt: every needle is found
    assert list(first.records["score"]) == [100.0, 100.0] and "score.string_match_all" in first.records
    again = lc_bench.evaluate(
        model=str(tiny_model_dir), tasks="niah_single_1", lengths=[1024], depths="0,100", runner="echo",
        out=tmp_path, name="r", write_outputs=False,
    )
    assert again.summary.generated == 0 and again.summary.skipped == 2


def test_bad_input_raises_one_usage_error_and_writes_nothing(tiny_model_dir, tmp_path):
    with pytest.raises(lc_bench.UsageError, match="did you mean .*niah_single_1"):
        lc_bench.evaluate(model=str(tiny_model_dir), tasks="niah_single_l", lengths="1k", out=tmp_path)
    with pytest.raises(lc_bench.UsageError, match="delay_s"):
        lc_bench.evaluate(model=str(tiny_model_dir), tasks="niah_single_1", lengths="1k", runner="echo",
                          runner_options={"delay_s": -1}, out=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_leaderboard_of_release_runs_keeps_their_tables(tmp_path):
    """Runs whose manifests predate task declarations get them from the task registry."""
    runs = tmp_path / "runs"
    shutil.copytree(RELEASE_RUNS, runs)
    board = lc_bench.leaderboard(sorted(runs.iterdir()), out=tmp_path / "board")
    assert {"LongBench-E length (words, or characters for Chinese)", "difficulty"} <= set(board.buckets["scheme"])
    assert set(board.baselines["task"]) == {"tsort", "bestanswer"} and not board.generation.empty
    assert (tmp_path / "board" / "leaderboard.json").exists()
    records = lc_bench.read_records(runs / "adaleval")
    assert len(records) == 12 and set(records["task"]) == {"tsort", "bestanswer"}
