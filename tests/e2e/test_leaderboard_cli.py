"""`lc-bench leaderboard` over several runs, in this process: merged outputs, globs, bad input."""

import csv
import json

from tests.e2e.test_cli import lc_bench, one_line
from tests.metrics.helpers import Row, scored, write_run


def make_results(tmp_path):
    results = tmp_path / "results"
    write_run(results / "a", scored("a", 9, 10, length=4096) + scored("b", 6, 10, length=8192))
    write_run(results / "b", scored("c", 10, 10, length=4096, model="m2") + scored("d", 9, 10, length=8192, model="m2"))
    return results


def test_merged_runs_write_into_their_parent(tmp_path):
    results = make_results(tmp_path)
    result = lc_bench("leaderboard", *[str(p) for p in sorted(results.iterdir())])
    # binary scores: Wilson intervals, never a collapsed "± 0.0" at 100
    assert "| m | 90.0 (59.6–98.2) |" in result.stdout
    assert "| m2 | 100.0 (72.2–100.0) | 90.0 (59.6–98.2) |" in result.stdout
    for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.html"):
        assert (results / name).exists()
    document = json.loads((results / "leaderboard.json").read_text())
    assert document["schema"] == "lc_bench.leaderboard/1" and document["models"] == ["m", "m2"]
    cell = next(
        c for c in document["cells"] if c["level"] == "task" and c["model"] == "m" and c["target_length"] == 8192
    )
    assert cell["score"] == 60.0 and cell["n"] == 10 and cell["ci_low"] < 60.0 < cell["ci_high"]
    row = next(r for r in document["rows"] if r["level"] == "overall" and r["model"] == "m2")
    assert row["effective_length"] == 8192 and row["effective_length_strict"] == 8192
    with (results / "leaderboard.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {"level", "model", "task", "target_length", "score", "ci_low", "ci_high", "n"} <= set(rows[0])
    # The shell glob now also matches the outputs: they are skipped, and the result is the same
    again = lc_bench("leaderboard", *[str(p) for p in sorted(results.iterdir())])
    assert again.stdout.split("\nwrote")[0] == result.stdout.split("\nwrote")[0]


def test_out_and_options(tmp_path):
    results = make_results(tmp_path)
    out = tmp_path / "site"
    result = lc_bench("leaderboard", str(results / "a"), "--out", str(out), "--threshold", "50", "--bootstrap", "200")
    assert (out / "leaderboard.html").exists() and not (results / "a" / "leaderboard.html").exists()
    assert "| m | 90.0 (59.6–98.2) |" in result.stdout and "| 8k | 8k |" in result.stdout  # 60 >= 50 now
    assert "200 replicates" in result.stdout


def test_bad_input(tmp_path):
    results = make_results(tmp_path)
    (tmp_path / "notes").mkdir()
    for args, message in [
        ([str(tmp_path / "missing")], "run folder not found"),
        ([str(tmp_path / "notes")], "is not a run folder"),
        ([str(results / "a"), "--bootstrap", "0"], "--bootstrap must be at least 1"),
    ]:
        result = lc_bench("leaderboard", *args, check_rc=2)
        assert message in result.stderr and one_line(result.stderr)


def test_runs_with_different_parents_need_out(tmp_path):
    a = write_run(tmp_path / "x" / "a", [Row("k", 100.0)])
    b = write_run(tmp_path / "y" / "b", [Row("j", 100.0, model="m2")])
    result = lc_bench("leaderboard", str(a), str(b), check_rc=2)
    assert "say where to write with --out" in result.stderr and one_line(result.stderr)
