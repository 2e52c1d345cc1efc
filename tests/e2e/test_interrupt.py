"""Ctrl-C: the documented line, exit 130, records kept; the next run resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.e2e.test_cli import CONSOLE_SCRIPT, HANG_GUARD_S, lc_bench

ARGS = ("run", "--runner", "echo", "--tasks", "niah_single_1", "--lengths", "1k", "--depths", "0,25,50,75,100")
# the interrupted runs: 40 samples a second apart, so that however long a loaded machine keeps the
# test from polling (a CI run saw a 5-sample run finish before its Ctrl-C), the signal lands mid-run
SLOW_ARGS = (*ARGS, "--samples", "8", "--runner-opt", "delay_s=1")
SLOW_TOTAL = 40


def _default_sigint() -> None:
    """In the child: Ctrl-C's default action. A test run started in the background by a shell
    without job control (`nohup make test &`) passes SIGINT on as ignored, and an ignored SIGINT
    never reaches the run (it finished with exit 0; a user's own Ctrl-C is never ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_an_interrupt_anywhere_prints_the_resume_line(tiny_model_dir, tmp_path, monkeypatch):
    from lc_bench import runloop

    def interrupted(*args, **kwargs):  # noqa: ANN002, ANN003 - run_evaluation's signature
        raise KeyboardInterrupt

    monkeypatch.setattr(runloop, "run_evaluation", interrupted)
    result = lc_bench(*ARGS, "--model", str(tiny_model_dir), "--out", str(tmp_path), check_rc=130)
    assert result.stderr.strip() == "lc-bench: interrupted; rerun the same command to resume"


def test_sigint_mid_run_keeps_records_and_resumes(tiny_model_dir, tmp_path):
    command = [str(CONSOLE_SCRIPT), *SLOW_ARGS, "--model", str(tiny_model_dir), "--out", str(tmp_path), "--name", "r"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=_default_sigint)
    records = tmp_path / "r" / "records.jsonl"
    deadline = time.monotonic() + HANG_GUARD_S
    while not (records.exists() and records.read_text().count("\n") >= 1) and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=HANG_GUARD_S)
    assert process.returncode == 130
    assert "lc-bench: interrupted; rerun the same command to resume" in stderr and "Traceback" not in stderr
    kept = [json.loads(line) for line in records.read_text().splitlines()]
    assert 1 <= len(kept) < SLOW_TOTAL
    again = lc_bench(*ARGS, "--samples", "8", "--model", str(tiny_model_dir), "--out", str(tmp_path), "--name", "r")
    assert f"{len(kept)} already recorded, {SLOW_TOTAL - len(kept)} generated" in again.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_sigint_under_the_live_display_still_ends_with_the_resume_line(tiny_model_dir, tmp_path):
    """In a terminal the rich live display is up when Ctrl-C lands: it is taken down (the run's
    state left as one line) and the resume line still comes last."""
    import pty

    command = [str(CONSOLE_SCRIPT), *SLOW_ARGS, "--model", str(tiny_model_dir), "--out", str(tmp_path), "--name", "r"]
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower,
                               env={**os.environ, "TERM": "xterm", "PYTHONUNBUFFERED": "1"}, preexec_fn=_default_sigint)
    os.close(follower)
    output = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                return
            if not chunk:
                return
            output.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    records = tmp_path / "r" / "records.jsonl"
    deadline = time.monotonic() + HANG_GUARD_S
    while not (records.exists() and records.read_text().count("\n") >= 1) and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=HANG_GUARD_S) == 130
    reader.join(timeout=HANG_GUARD_S)
    os.close(leader)
    text = output.decode("utf-8", errors="replace")
    assert "\x1b[" in text and "samples, " in text  # the live display was up
    assert "Traceback" not in text and "stopped at " in text
    assert text.rstrip().endswith("lc-bench: interrupted; rerun the same command to resume")
