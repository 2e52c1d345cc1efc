"""Ctrl-C: the documented line, exit 130, records kept; the next run resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from tests.e2e.test_cli import CONSOLE_SCRIPT, HANG_GUARD_S, lc_bench

ARGS = ("run", "--runner", "echo", "--tasks", "niah_single_1", "--lengths", "1k", "--depths", "0,25,50,75,100")


def test_an_interrupt_anywhere_prints_the_resume_line(tiny_model_dir, tmp_path, monkeypatch):
    from lc_bench import runloop

    def interrupted(*args, **kwargs):  # noqa: ANN002, ANN003 - run_evaluation's signature
        raise KeyboardInterrupt

    monkeypatch.setattr(runloop, "run_evaluation", interrupted)
    result = lc_bench(*ARGS, "--model", str(tiny_model_dir), "--out", str(tmp_path), check_rc=130)
    assert result.stderr.strip() == "lc-bench: interrupted; rerun the same command to resume"


def test_sigint_mid_run_keeps_records_and_resumes(tiny_model_dir, tmp_path):
    command = [str(CONSOLE_SCRIPT), *ARGS, "--model", str(tiny_model_dir), "--out", str(tmp_path), "--name", "r",
               "--runner-opt", "delay_s=1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    records = tmp_path / "r" / "records.jsonl"
    deadline = time.monotonic() + HANG_GUARD_S
    while not (records.exists() and records.read_text().count("\n") >= 1) and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=HANG_GUARD_S)
    assert process.returncode == 130
    assert "lc-bench: interrupted; rerun the same command to resume" in stderr and "Traceback" not in stderr
    kept = [json.loads(line) for line in records.read_text().splitlines()]
    assert 1 <= len(kept) < 5
    again = lc_bench(*ARGS, "--model", str(tiny_model_dir), "--out", str(tmp_path), "--name", "r")
    assert f"{len(kept)} already recorded, {5 - len(kept)} generated" in again.stdout
