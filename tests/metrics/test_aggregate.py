"""Hand-computed per-length tables from records written by the real store."""

import json

import pytest

from lc_bench.errors import UsageError
from lc_bench.metrics.aggregate import load_records, per_depth_table, per_length_table
from lc_bench.metrics.leaderboard import leaderboard_markdown


def write_run(folder, rows):
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(
        json.dumps(
            dict(
                run_name="r", lc_bench_version="0", model="m", model_path=None, runner="echo",
                runner_config={}, tokenizer="m", chat_template_sha256=None, context_window=None, seed=0,
                config={}, package_versions={}, git_revision=None, python="3", platform="x", started="t",
            )
        )
    )
    with (folder / "records.jsonl").open("w") as handle:
        for key, model, length, depth, score, error in rows:
            handle.write(
                json.dumps(
                    {
                        "key": key, "task": "niah", "model": model, "runner": "echo",
                        "target_length": length, "depth": depth, "input_tokens": length - 100,
                        "truncated": False, "primary_metric": "string_match_all",
                        "scores": {} if error else {"string_match_all": score},
                        "completion": {"error": {"type": "E", "message": "x"} if error else None},
                    }
                )
                + "\n"
            )


@pytest.fixture
def run_dir(tmp_path):
    folder = tmp_path / "run"
    write_run(
        folder,
        [
            ("k1", "m", 1024, 0.0, 100.0, False),
            ("k2", "m", 1024, 100.0, 0.0, False),
            ("k3", "m", 2048, 0.0, 100.0, False),
            ("k4", "m", 2048, 100.0, None, True),   # error: counted, not scored
            ("k2", "m", 1024, 100.0, 100.0, False),  # k2 retried later: the latest record wins
        ],
    )
    return folder


def test_per_length_table(run_dir):
    table = per_length_table(load_records([run_dir])).set_index("target_length")
    assert table.loc[1024, "score"] == 100.0 and table.loc[1024, "n"] == 2
    assert table.loc[2048, "score"] == 100.0 and table.loc[2048, "n"] == 2
    assert table.loc[2048, "errors"] == 1 and table.loc[1024, "errors"] == 0
    assert table.loc[1024, "input_tokens"] == 924


def test_per_depth_table(run_dir):
    depth = per_depth_table(load_records([run_dir])).set_index(["depth", "target_length"])["score"]
    assert depth[(0.0, 1024)] == 100.0 and depth[(100.0, 1024)] == 100.0


def test_markdown_has_lengths_as_columns_and_counts(run_dir, tmp_path):
    other = tmp_path / "other"
    write_run(other, [("x1", "m2", 1024, 0.0, 0.0, False), ("x2", "m2", 1024, 0.0, 50.0, False)])
    frame = load_records([run_dir, other])
    markdown = leaderboard_markdown(per_length_table(frame), per_depth_table(frame))
    assert "| model | task | 1k | 2k | avg | n | errors | truncated |" in markdown
    assert "| m | niah | 100.0 | 100.0 | 100.0 | 4 | 1 | 0 |" in markdown
    assert "| m2 | niah | 25.0 | – | 25.0 | 2 | 0 | 0 |" in markdown


def test_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(UsageError, match="not a run folder"):
        load_records([tmp_path])
