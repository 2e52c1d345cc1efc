"""Paper protocols end to end: named in records, manifest and leaderboard; refused without their
data (one line, exit 2, nothing written) unless a try-out allows the shipped fixtures."""

import json

import pytest

from lc_bench import api
from lc_bench.suites.loader import load_suite, shipped_suites
from tests.e2e.test_cli import lc_bench_in_process

PRESETS = ("ruler-paper", "longbench-paper", "longbench-v2-paper", "adaleval-paper", "longgenbench-paper")


def test_every_preset_is_shipped_and_says_what_it_changes():
    for name in PRESETS:
        assert name in shipped_suites()
        suite = load_suite(name)
        assert suite.protocol == name and suite.changes and "\n" not in suite.changes


@pytest.mark.parametrize(
    ("suite", "task", "where"),
    [
        ("ruler-paper", "qa_1", "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v2.0.json"),
        ("longbench-paper", "longbench_narrativeqa", "huggingface-cli download --repo-type dataset"),
        ("longbench-v2-paper", "longbench_v2", "THUDM/LongBench-v2"),
        ("longgenbench-paper", "longgenbench", "github.com/mozhu621/LongGenBench"),
    ],
)
def test_a_preset_without_its_data_is_one_line_and_writes_nothing(tiny_model_dir, tmp_path, suite, task, where):
    out = tmp_path / "results"
    result = lc_bench_in_process(
        "run", "--suite", suite, "--tasks", task, "--runner", "echo", "--model", str(tiny_model_dir),
        "--lengths", "32k" if suite in ("longbench-v2-paper", "longgenbench-paper") else "4k", "--samples", "1",
        "--out", str(out), check_rc=2,
    )
    lines = [line for line in result.stderr.splitlines() if not line.startswith("lc-bench: warning")]
    assert len(lines) == 1 and lines[0].startswith("lc-bench: error: task ")
    assert f"the {suite} protocol needs the real data" in lines[0] and where in lines[0]
    assert "--allow-fixtures" in lines[0]
    assert not out.exists() or not any(out.iterdir())


def test_a_cached_fixture_never_slips_into_a_later_paper_run(tiny_model_dir, tmp_path):
    # lc_bench's own qa_1 falls back to its fixture (allowed), then the paper preset must still refuse
    api.evaluate(model=str(tiny_model_dir), tasks=["qa_1"], lengths="4k", runner="echo", out=tmp_path / "own",
                 write_outputs=False, task_options={"qa_1": {"dataset_rules": "ruler"}})
    result = lc_bench_in_process(
        "run", "--suite", "ruler-paper", "--tasks", "qa_1", "--runner", "echo", "--model", str(tiny_model_dir),
        "--lengths", "4k", "--samples", "1", "--out", str(tmp_path / "paper"), check_rc=2,
    )
    assert "the ruler-paper protocol needs the real data" in result.stderr


def test_the_protocol_is_in_records_manifest_and_leaderboard(tiny_model_dir, tmp_path):
    result = api.evaluate(suite="ruler-paper", tasks=["niah_single_1", "qa_1"], model=str(tiny_model_dir),
                          runner="echo", lengths="4k", samples=1, out=tmp_path, allow_fixtures=True)
    run_dir = result.summary.run_dir
    rows = [json.loads(line) for line in (run_dir / "records.jsonl").read_text().splitlines()]
    assert {row["protocol"] for row in rows} == {"ruler-paper+fixtures"}
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["protocol"] == "ruler-paper+fixtures"
    assert manifest["invocations"][-1]["settings"]["protocol"] == "ruler-paper+fixtures"
    markdown = (run_dir / "leaderboard.md").read_text()
    assert "\nProtocol: ruler-paper+fixtures.\n" in markdown
    assert "ruler-paper+fixtures" in (run_dir / "leaderboard.html").read_text()
    own = api.evaluate(tasks=["niah_single_1"], model=str(tiny_model_dir), runner="echo", lengths="4k",
                       samples=1, out=tmp_path / "own")
    assert "\nProtocol: lc_bench (lc_bench's own defaults).\n" in (own.summary.run_dir / "leaderboard.md").read_text()


def test_a_paper_run_and_a_default_run_of_one_model_are_two_rows(tiny_model_dir, tmp_path):
    for suite in ("ruler-paper", None):
        api.evaluate(suite=suite, tasks=["niah_single_1"], model=str(tiny_model_dir), runner="echo",
                     lengths="4k", samples=1, out=tmp_path, name="shared", write_outputs=False)
    board = api.leaderboard([tmp_path / "shared"], bootstrap=10)
    labels = sorted(board.pooled)
    assert len(labels) == 2 and any("protocol=ruler-paper" in label for label in labels)
    assert sorted(tuple(facts["protocols"]) for facts in board.pooled.values()) == [("lc_bench",), ("ruler-paper",)]


def test_a_suite_seed_is_used_unless_the_command_line_gives_one(tmp_path):
    from lc_bench.run_config import resolve_run_config

    suite = tmp_path / "s.yaml"
    suite.write_text("tasks: [niah]\nseed: 6211027\nprotocol: mine\n")
    assert resolve_run_config(suite=str(suite)).seed == 6211027
    assert resolve_run_config(suite=str(suite), seed=3).seed == 3
    assert resolve_run_config(tasks="niah").seed == 0


@pytest.mark.parametrize(
    ("suite", "lengths"),
    [("ruler-paper", "2k"), ("longbench-paper", "4k"), ("longbench-v2-paper", "32k"), ("adaleval-paper", "2k"),
     ("longgenbench-paper", "32k")],
)
def test_every_preset_runs_end_to_end_on_fixtures_with_the_echo_runner(tiny_model_dir, tmp_path, suite, lengths):
    result = api.evaluate(suite=suite, model=str(tiny_model_dir), runner="echo", lengths=lengths, samples=1,
                          out=tmp_path, allow_fixtures=True, write_outputs=False)
    rows = [json.loads(line) for line in (result.summary.run_dir / "records.jsonl").read_text().splitlines()]
    assert rows and all(row["completion"]["error"] is None for row in rows)
    assert {row["protocol"] for row in rows} <= {suite, suite + "+fixtures"}
    assert set(load_suite(suite).tasks) >= {row["task"] for row in rows}


def test_the_fixtures_label_is_added_once():
    from lc_bench.config import RunConfig
    from lc_bench.runloop import labelled_for_fixtures

    paper = RunConfig(protocol="ruler-paper", allow_fixtures=True)
    once = labelled_for_fixtures(paper, ["squad"])
    assert once.protocol == "ruler-paper+fixtures"
    assert labelled_for_fixtures(once, ["hotpotqa"]).protocol == "ruler-paper+fixtures"  # a second build
    assert labelled_for_fixtures(paper, []).protocol == "ruler-paper"
    assert labelled_for_fixtures(RunConfig(), ["squad"]).protocol == "lc_bench"
