"""`lc-bench gate`: real drops fail, noise and small drops pass, errored samples and (with
--strict-config) a run made another way fail, bad inputs exit 2; text, JSON, JUnit and markdown."""

import json
import xml.etree.ElementTree as ET

import pytest

from tests.e2e.test_cli import lc_bench
from tests.metrics.helpers import Row, scored, write_run


def run_with(tmp_path, name, per_task):
    """per_task: {(task, length): (hits, total)}."""
    rows = []
    for (task, length), (hits, total) in per_task.items():
        rows += scored(f"{name}-{task}-{length}-", hits, total, task=task, length=length)
    return write_run(tmp_path / name, rows)


@pytest.fixture(autouse=True)
def no_step_summary(monkeypatch):
    """A test run inside GitHub Actions must not append gate tables to the job's own summary."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


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
    assert document["schema"] == "lc_bench.baseline/2" and document["model"] == "m"


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


# --- errored samples ---------------------------------------------------------------------------


def run_with_errors(tmp_path, name, hits, total, errors):
    rows = scored(f"{name}-", hits, total) + [Row(f"{name}-e{i}", None, error=True) for i in range(errors)]
    return write_run(tmp_path / name, rows)


@pytest.fixture
def clean_baseline(tmp_path):
    path = tmp_path / "clean.json"
    lc_bench("gate", str(run_with_errors(tmp_path, "clean", 12, 12, 0)), "--baseline", str(path), "--write-baseline")
    return path


def test_errored_samples_fail_the_gate_unless_allowed(tmp_path, clean_baseline):
    """6 of 12 samples errored and the other 6 all score 100: the scores alone would pass."""
    run = run_with_errors(tmp_path, "half", 6, 6, 6)
    failed = lc_bench("gate", str(run), "--baseline", str(clean_baseline), check_rc=1)
    assert "gate FAIL" in failed.stdout and "0 regressions" in failed.stdout
    assert "6 of 12 samples errored (50.0%), more than --max-error-rate 0" in failed.stdout
    cell = next(line for line in failed.stdout.splitlines() if line.startswith("niah "))
    assert cell.split()[-2:] == ["6", "ok"]  # the cell's errors, and its scores compare fine
    passed = lc_bench("gate", str(run), "--baseline", str(clean_baseline), "--max-error-rate", "0.5")
    assert "gate PASS" in passed.stdout and "within --max-error-rate 0.5" in passed.stdout
    lc_bench("gate", str(run), "--baseline", str(clean_baseline), "--max-error-rate", "0.49", check_rc=1)


def test_a_cell_with_every_sample_errored_is_missing_and_shows_the_baseline(tmp_path):
    base = run_with(tmp_path, "b", {("niah", 1024): (5, 5), ("vt", 1024): (5, 5)})
    path = tmp_path / "b.json"
    lc_bench("gate", str(base), "--baseline", str(path), "--write-baseline")
    rows = scored("n", 5, 5) + [Row(f"v{i}", None, task="vt", error=True) for i in range(5)]
    run = write_run(tmp_path / "r", rows)
    result = lc_bench("gate", str(run), "--baseline", str(path), "--max-error-rate", "1", check_rc=1)
    line = next(line for line in result.stdout.splitlines() if line.startswith("vt @ 1k"))
    assert line.split()[3:] == ["100.0", "–", "5", "missing"]


@pytest.mark.parametrize(("args", "message"), [
    (["--max-error-rate", "1.5"], "--max-error-rate is a share of the samples, from 0 to 1 (got 1.5)"),
    (["--max-error-rate", "-0.1"], "--max-error-rate is a share of the samples, from 0 to 1 (got -0.1)"),
    (["--tolerance", "-1"], "--tolerance must be 0 or more (got -1)"),
    (["--format", "jsn"], "unknown --format 'jsn'; did you mean json, junit? (formats: text, json, junit, md)"),
])
def test_bad_gate_options_are_one_line_exit_2_and_write_nothing(tmp_path, clean_baseline, monkeypatch, args, message):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run = run_with_errors(tmp_path, "r", 12, 12, 0)
    result = lc_bench("gate", str(run), "--baseline", str(clean_baseline), *args, "--output", str(tmp_path / "o"),
                      check_rc=2)
    assert result.stderr == f"lc-bench: error: {message}\n" and result.stdout == ""
    assert not summary.exists() and not (tmp_path / "o").exists()


def test_the_cli_formats_match_the_library():
    from lc_bench import cli
    from lc_bench.metrics.gate import FORMATS

    assert cli.GATE_FORMATS == FORMATS


# --- the missing-row bug -------------------------------------------------------------------------


def test_a_missing_row_shows_the_baseline_value(tmp_path, baseline):
    run = run_with(tmp_path, "partial", {("niah", 1024): (48, 50), ("niah", 2048): (45, 50)})
    result = lc_bench("gate", str(run), "--baseline", str(baseline), check_rc=1)
    line = next(line for line in result.stdout.splitlines() if line.startswith("vt @ 1k"))
    assert line.split()[3:] == ["100.0", "–", "missing"]
    as_json = json.loads(lc_bench("gate", str(run), "--baseline", str(baseline), "--format", "json",
                                  check_rc=1).stdout)
    cell = next(c for c in as_json["cells"] if c["verdict"] == "missing")
    assert (cell["task"], cell["length"], cell["baseline"], cell["current"]) == ("vt", 1024, 100.0, None)


# --- what produced the run: runner, config, version ----------------------------------------------

CONFIG = {"tasks": ["niah"], "task_params": {}, "lengths": [1024, 2048], "depths": [0.0, 50.0, 100.0],
          "samples_per_cell": 5, "seed": 0, "temperature": 0.0, "top_p": 1.0, "max_new_tokens": None,
          "protocol": "lc_bench", "runner": "hf", "model": None, "out_dir": "results", "run_name": "r",
          "runner_options": {}, "tokenizer": None, "allow_fixtures": False}


def set_manifest(run_dir, runner="hf", version="0.1.0", **changes):
    """Give a helper run folder the manifest a real run writes: its config in every invocation."""
    path = run_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    config = {**CONFIG, **changes, "runner": runner}
    manifest.update(runner=runner, lc_bench_version=version, config=config,
                    invocations=[{"started": "t", "config": config}])
    path.write_text(json.dumps(manifest))
    return run_dir


def configured_run(tmp_path, name, runner="hf", **changes):
    rows = [Row(f"{name}-{i}", 100.0, runner=runner, length=length) for i in range(5) for length in (1024, 2048)]
    return set_manifest(write_run(tmp_path / name, rows), runner, **changes)


@pytest.fixture
def hf_baseline(tmp_path):
    path = tmp_path / "hf.json"
    lc_bench("gate", str(configured_run(tmp_path, "base")), "--baseline", str(path), "--write-baseline")
    return path


def test_the_baseline_records_runner_config_and_version(hf_baseline):
    from lc_bench.metrics.gate import config_hash

    document = json.loads(hf_baseline.read_text())
    assert document["schema"] == "lc_bench.baseline/2"
    assert (document["runner"], document["protocol"], document["lc_bench_version"]) == ("hf", "lc_bench", "0.1.0")
    assert document["config"] == {key: CONFIG[key] for key in (
        "tasks", "task_params", "lengths", "depths", "samples_per_cell", "seed", "temperature", "top_p",
        "max_new_tokens", "protocol")}
    assert document["config_hash"] == config_hash(document["config"]) and document["config_hash"].startswith("sha256:")
    assert (document["lengths"], document["depths"], document["samples"]) == ([1024, 2048], [0.0, 50.0, 100.0], 5)


def test_the_same_setup_passes_without_a_warning(tmp_path, hf_baseline):
    result = lc_bench("gate", str(configured_run(tmp_path, "same")), "--baseline", str(hf_baseline),
                      "--strict-config")
    assert "gate PASS" in result.stdout and "warning" not in result.stdout and "note" not in result.stdout


def test_another_runner_or_grid_warns_and_fails_with_strict_config(tmp_path, hf_baseline):
    run = configured_run(tmp_path, "other", runner="constant", samples_per_cell=3, depths=[50.0])
    warned = lc_bench("gate", str(run), "--baseline", str(hf_baseline))
    assert "gate PASS" in warned.stdout
    warning = next(line for line in warned.stdout.splitlines() if line.startswith("warning: "))
    assert "runner: baseline hf, run constant" in warning and "samples_per_cell: baseline 5, run 3" in warning
    assert "depths: baseline [0.0, 50.0, 100.0], run [50.0]" in warning and "lengths" not in warning
    strict = lc_bench("gate", str(run), "--baseline", str(hf_baseline), "--strict-config", check_rc=1)
    assert "gate FAIL" in strict.stdout and "config mismatch (--strict-config): " in strict.stdout
    assert "the run's setup differs from the baseline's (--strict-config)" in strict.stdout


def test_another_lc_bench_version_or_protocol_is_named(tmp_path, hf_baseline):
    run = configured_run(tmp_path, "newer", version="0.2.0", protocol="ruler-paper", seed=7)
    result = lc_bench("gate", str(run), "--baseline", str(hf_baseline), "--format", "json")
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "pass" and verdict["config"]["failed"] is False
    assert set(verdict["config"]["differences"]) == {
        "protocol: baseline lc_bench, run ruler-paper", "lc_bench_version: baseline 0.1.0, run 0.2.0",
        "seed: baseline 0, run 7",
    }
    assert "lc-bench: warning: the run was made differently from the baseline: " in result.stderr  # not stdout


def test_a_resumed_run_counts_every_invocation(tmp_path, hf_baseline):
    """A run resumed with another length holds both: its config is the union of its invocations."""
    run = configured_run(tmp_path, "resumed")
    manifest = json.loads((run / "manifest.json").read_text())
    first = {**manifest["config"], "lengths": [1024]}
    manifest["invocations"] = [{"started": "1", "config": first}, {"started": "2", "config": manifest["config"]},
                               {"started": "3", "judge": {"runner": "constant"}}]
    (run / "manifest.json").write_text(json.dumps(manifest))
    result = lc_bench("gate", str(run), "--baseline", str(hf_baseline), "--strict-config")
    assert "gate PASS" in result.stdout


def test_a_hand_edited_config_is_refused(tmp_path, hf_baseline):
    document = json.loads(hf_baseline.read_text())
    document["config"]["samples_per_cell"] = 50
    hf_baseline.write_text(json.dumps(document))
    result = lc_bench("gate", str(configured_run(tmp_path, "r")), "--baseline", str(hf_baseline), check_rc=2)
    assert "config_hash sha256:" in result.stderr and "was it edited by hand?" in result.stderr
    assert result.stderr.count("\n") == 1


# --- formats -------------------------------------------------------------------------------------


@pytest.fixture
def failing_run(tmp_path, baseline):
    """A real drop on niah, vt missing, and 2 errored samples."""
    rows = []
    for length, hits in ((1024, 30), (2048, 25)):
        rows += scored(f"d{length}-", hits, 50, length=length)
    rows += [Row("e1", None, error=True), Row("e2", None, error=True, length=2048)]
    return write_run(tmp_path / "failing", rows)


def test_json_is_the_whole_verdict(failing_run, baseline):
    result = lc_bench("gate", str(failing_run), "--baseline", str(baseline), "--format", "json", check_rc=1)
    verdict = json.loads(result.stdout)
    assert verdict["schema"] == "lc_bench.gate/1" and verdict["verdict"] == "fail" and verdict["passed"] is False
    assert verdict["model"] == "m" and len(verdict["reasons"]) == 3
    assert verdict["errors"] == {"errored": 2, "samples": 102, "rate": round(2 / 102, 6), "max_rate": 0.0,
                                 "failed": True}
    cells = {cell["name"]: cell for cell in verdict["cells"]}
    niah = cells["niah"]
    assert (niah["verdict"], niah["baseline"], niah["current"], niah["delta"]) == ("regression", 93.0, 55.0, -38.0)
    assert niah["interval"][0] < niah["interval"][1] < 0 and niah["errors"] == 2 and niah["n"] == 100
    assert cells["vt @ 1k"]["verdict"] == "missing" and cells["vt @ 1k"]["baseline"] == 100.0
    assert verdict["counts"]["regression"] == 1 and verdict["counts"]["missing"] == 1
    assert verdict["options"]["max_error_rate"] == 0.0 and verdict["config"]["strict"] is False


def test_junit_has_a_testcase_per_cell_and_failures_for_drops_and_errors(failing_run, baseline, tmp_path):
    target = tmp_path / "reports" / "gate.xml"
    result = lc_bench("gate", str(failing_run), "--baseline", str(baseline), "--format", "junit",
                      "--output", str(target), check_rc=1)
    assert "gate FAIL" in result.stdout  # the text report still goes to stdout
    root = ET.parse(target).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(cases) == {"niah", "vt @ 1k", "errored samples", "run setup matches the baseline"}
    assert cases["niah"].find("failure").get("type") == "regression"
    assert "93.0 -> 55.0" in cases["niah"].find("failure").get("message")
    assert cases["vt @ 1k"].find("failure").get("type") == "missing"
    assert cases["errored samples"].find("failure").get("type") == "errors"
    assert cases["run setup matches the baseline"].find("failure") is None
    assert suite.get("tests") == "4" and suite.get("failures") == "3" and root.get("failures") == "3"


def test_junit_of_a_passing_run_has_no_failures(tmp_path, baseline):
    run = run_with(tmp_path, "same", {("niah", 1024): (48, 50), ("niah", 2048): (45, 50), ("vt", 1024): (4, 5)})
    result = lc_bench("gate", str(run), "--baseline", str(baseline), "--format", "junit", "--per-length")
    root = ET.fromstring(result.stdout)
    assert root.get("failures") == "0"
    assert {case.get("name") for case in root.iter("testcase")} >= {"niah @ 1k", "niah @ 2k", "vt @ 1k"}
    assert all(case.find("failure") is None for case in root.iter("testcase"))


def test_markdown_table(failing_run, baseline):
    result = lc_bench("gate", str(failing_run), "--baseline", str(baseline), "--format", "md", check_rc=1)
    lines = result.stdout.splitlines()
    assert lines[0] == "### lc-bench gate: FAIL (m)"
    header = lines.index("| cell | baseline | current | diff | 95% CI of diff | errors | verdict |")
    assert lines[header + 1] == "|---|---|---|---|---|---|---|"
    rows = {line.split(" | ")[0].lstrip("| "): line.strip("|").split(" | ") for line in lines[header + 2:]
            if line.startswith("| ")}
    assert rows["niah"][1:4] == ["93.0", "55.0", "-38.0"] and rows["niah"][-1].strip() == "**regression**"
    assert rows["vt @ 1k"][1:3] == ["100.0", "–"] and rows["vt @ 1k"][-1].strip() == "**missing**"
    assert lines[-1].startswith("gate FAIL: m: ")


def test_github_step_summary_is_appended(tmp_path, baseline, failing_run, monkeypatch):
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    lc_bench("gate", str(failing_run), "--baseline", str(baseline), check_rc=1)
    text = summary.read_text()
    assert text.startswith("earlier step\n### lc-bench gate: FAIL (m)\n")
    assert "| niah | 93.0 | 55.0 | -38.0 |" in text
    lc_bench("gate", str(failing_run), "--baseline", str(baseline), "--format", "json", check_rc=1)
    assert summary.read_text().count("### lc-bench gate: FAIL (m)") == 2


def test_an_unwritable_step_summary_warns_and_keeps_the_verdict(tmp_path, baseline, monkeypatch):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "no-such-folder" / "summary.md"))
    run = run_with(tmp_path, "same", {("niah", 1024): (48, 50), ("niah", 2048): (45, 50), ("vt", 1024): (5, 5)})
    result = lc_bench("gate", str(run), "--baseline", str(baseline))
    assert "gate PASS" in result.stdout
    assert result.stderr.startswith("lc-bench: warning: cannot append the gate summary to GITHUB_STEP_SUMMARY=")


def test_a_baseline_from_a_run_with_errors_says_so(tmp_path):
    path = tmp_path / "b.json"
    result = lc_bench("gate", str(run_with_errors(tmp_path, "r", 4, 4, 2)), "--baseline", str(path),
                      "--write-baseline")
    assert "1 cells, runner echo, config not recorded" in result.stdout
    assert result.stderr.startswith("lc-bench: warning: 2 samples of the run errored; the baseline holds only")
    assert json.loads(path.read_text())["errored_samples"] == 2
