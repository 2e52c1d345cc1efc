"""`lc-bench gate`: real drops fail, noise and small drops pass, bad inputs exit 2."""

import json

import pytest

from tests.e2e.test_cli import lc_bench
from tests.metrics.helpers import Row, scored, write_run


def run_with(tmp_path, name, per_task):
    """per_task: {(task, length): (hits, total)}."""
    rows = []
    for (task, length), (hits, total) in per_task.items():
        rows += scored(f"{name}-{task}-{length}-", hits, total, task=task, length=length)
    return write_run(tmp_path / name, rows)


@pytest.fixture
def baseline(tmp_path):
    base = run_with(tmp_path, "base", {("niah", 1024): (48, 50), ("niah", 2048): (45, 50), ("vt", 1024): (5, 5)})
    path = tmp_path / "baseline.json"
    result = lc_bench("gate", str(base), "--baseline", str(path), "--write-baseline")
    assert "3 cells" in result.stdout
    return path


def test_baseline_stores_value_counts(baseline):
    document = json.loads(baseline.read_text())
    cells = {(c["task"], c["target_length"]): c for c in document["cells"]}
    assert cells[("niah", 1024)]["values"] == [[0.0, 2], [100.0, 48]]
    assert cells[("niah", 1024)]["score"] == 96.0 and cells[("niah", 1024)]["n"] == 50
    assert document["schema"] == "lc_bench.baseline/1" and document["model"] == "m"


def test_same_scores_pass(tmp_path, baseline):
    run = run_with(tmp_path, "same", {("niah", 1024): (48, 50), ("niah", 2048): (45, 50), ("vt", 1024): (5, 5)})
    result = lc_bench("gate", str(run), "--baseline", str(baseline))
    assert "gate PASS" in result.stdout and "0 regressions" in result.stdout


def test_a_real_drop_fails(tmp_path, baseline):
    run = run_with(tmp_path, "drop", {("niah", 1024): (30, 50), ("niah", 2048): (25, 50), ("vt", 1024): (5, 5)})
    result = lc_bench("gate", str(run), "--baseline", str(baseline), check_rc=1)
    assert "gate FAIL" in result.stdout and "1 regressions" in result.stdout
    line = next(line for line in result.stdout.splitlines() if line.startswith("niah "))
    # task mean over lengths: baseline (96 + 90) / 2 = 93.0, current (60 + 50) / 2 = 55.0
    assert "93.0" in line and "55.0" in line and "-38.0" in line and line.endswith("regression")


def test_noise_on_five_samples_passes(tmp_path, baseline):
    """vt drops 100 -> 80 (one of five samples): more than the tolerance but not significant."""
    run = run_with(tmp_path, "noisy", {("niah", 1024): (48, 50), ("niah", 2048): (45, 50), ("vt", 1024): (4, 5)})
    result = lc_bench("gate", str(run), "--baseline", str(baseline))
    assert "gate PASS" in result.stdout and "1 drops within noise" in result.stdout
    assert any(line.startswith("vt ") and line.endswith("noise") for line in result.stdout.splitlines())


def test_drop_within_tolerance_passes_even_if_significant(tmp_path):
    base = run_with(tmp_path, "b", {("niah", 1024): (1000, 1000)})
    run = run_with(tmp_path, "r", {("niah", 1024): (985, 1000)})  # -1.5 points, tolerance 2
    path = tmp_path / "b.json"
    lc_bench("gate", str(base), "--baseline", str(path), "--write-baseline")
    lc_bench("gate", str(run), "--baseline", str(path))
    failed = lc_bench("gate", str(run), "--baseline", str(path), "--tolerance", "1", check_rc=1)
    assert "regression" in failed.stdout


def test_per_length_finds_a_drop_that_the_average_hides(tmp_path):
    base = run_with(tmp_path, "b", {("niah", 1024): (50, 100), ("niah", 2048): (100, 100)})
    run = run_with(tmp_path, "r", {("niah", 1024): (65, 100), ("niah", 2048): (85, 100)})
    path = tmp_path / "b.json"
    lc_bench("gate", str(base), "--baseline", str(path), "--write-baseline")
    lc_bench("gate", str(run), "--baseline", str(path))  # the task average is unchanged at 75
    result = lc_bench("gate", str(run), "--baseline", str(path), "--per-length", check_rc=1)
    assert "niah @ 2k" in result.stdout and "niah @ 1k" in result.stdout and "improvement" in result.stdout


def test_improvements_are_reported(tmp_path, baseline):
    run = run_with(tmp_path, "up", {("niah", 1024): (50, 50), ("niah", 2048): (50, 50), ("vt", 1024): (5, 5)})
    result = lc_bench("gate", str(run), "--baseline", str(baseline))
    assert "1 improvements" in result.stdout


def test_missing_cells_fail_unless_allowed(tmp_path, baseline):
    run = run_with(tmp_path, "partial", {("niah", 1024): (48, 50), ("niah", 2048): (45, 50)})
    result = lc_bench("gate", str(run), "--baseline", str(baseline), check_rc=1)
    assert "1 missing" in result.stdout and "missing" in result.stdout.splitlines()[1]
    lc_bench("gate", str(run), "--baseline", str(baseline), "--allow-missing")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "baseline not found"),
        ("{not json", "is not readable JSON"),
        ('{"schema": "other"}', "is not an lc_bench baseline"),
        ('{"schema": "lc_bench.baseline/1", "cells": [{"task": "x"}]}', "malformed cell"),
        ('{"schema": "lc_bench.baseline/1", "cells": [{"task": "qa", "target_length": 1, "values": [[1, 1]]}]}',
         "no cells in common"),
    ],
)
def test_bad_baselines_exit_2(tmp_path, content, message):
    run = run_with(tmp_path, "r", {("niah", 1024): (1, 2)})
    path = tmp_path / "b.json"
    if content is not None:
        path.write_text(content)
    result = lc_bench("gate", str(run), "--baseline", str(path), check_rc=2)
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_several_models_need_a_choice(tmp_path, baseline):
    run = write_run(tmp_path / "two", [Row("a", 100.0, model="m"), Row("b", 100.0, model="other")])
    result = lc_bench("gate", str(run), "--baseline", str(baseline), check_rc=2)
    assert "pick one with --model" in result.stderr
    lc_bench("gate", str(run), "--baseline", str(baseline), "--model", "m", "--allow-missing")


def test_not_a_run_folder_exits_2(tmp_path, baseline):
    result = lc_bench("gate", str(tmp_path / "nothing"), "--baseline", str(baseline), check_rc=2)
    assert "run folder not found" in result.stderr
