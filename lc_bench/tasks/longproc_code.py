"""Running pseudo_to_code's C++ the way LongProc's spoc_evaluator.py does, with guards around it.

The original writes the program (its header + the model's code) to spoctmp/<sha1>.cpp, compiles it
with `g++ -std=c++11 -O`, and runs the binary on the first 10 test cases, each with the inputs
joined by newlines on stdin and a 3-second timeout; the output must equal the expected lines joined
by newlines plus a final newline, byte for byte. Any compile error, timeout, mismatch, crash or
undecodable output fails the sample.

Model-written code is untrusted, so lc_bench runs it with more guards than the original (the
verdict for a well-behaved program is the same): a fresh temporary folder per program (removed
after), an empty environment, compile time capped at 60 s, and for each test case an rlimit on CPU
time (3 s), address space (1 GiB), file size (16 MiB) and open files, in its own session, killed with
its whole process group on timeout. Nothing sandboxes the network or the file system beyond that:
use `run_code=no` (the sample stays unscored) where that matters.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from lc_bench.scoring.longproc import MAX_TESTCASES, RUN_TIMEOUT_S

COMPILE_TIMEOUT_S = 60.0
MEMORY_LIMIT = 1 << 30
FILE_LIMIT = 16 << 20


def compiler() -> str | None:
    """The g++ on PATH (None: C++ cannot be compiled here)."""
    return shutil.which("g++")


def _limits() -> None:  # pragma: no cover - runs in the child
    import resource

    cpu = int(RUN_TIMEOUT_S) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.communicate()


def run_cpp(program: str, testcases: list[Any]) -> tuple[bool, str]:
    """(passed, reason) for a whole program (header included), as spoc_evaluator.evaluate_spoc_code."""
    gxx = compiler()
    if gxx is None:
        return False, "no g++"
    with tempfile.TemporaryDirectory(prefix="lc-bench-longproc-") as folder:
        source, binary = Path(folder) / "program.cpp", Path(folder) / "program.bin"
        source.write_text(program, encoding="utf-8")
        try:
            subprocess.run(
                [gxx, "-std=c++11", "-O", "-o", str(binary), str(source)],
                cwd=folder,
                env={"PATH": "/usr/bin:/bin"},
                capture_output=True,
                timeout=COMPILE_TIMEOUT_S,
                check=True,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            return False, "compilation error"
        for inputs, outputs in testcases[:MAX_TESTCASES]:
            proc = subprocess.Popen(
                [str(binary)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=folder,
                env={},
                preexec_fn=_limits,
                start_new_session=True,
            )
            try:
                out, _ = proc.communicate(("\n".join(inputs) + "\n").encode("utf-8"), timeout=RUN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _kill(proc)
                return False, "timeout"
            try:
                text = out.decode("utf-8")
            except UnicodeDecodeError:
                return False, "decode error"
            if text != "\n".join(outputs) + "\n":
                return False, "inconsistent"
    return True, ""
