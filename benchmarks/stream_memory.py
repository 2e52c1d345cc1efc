"""Peak memory of a streamed run against its sample count: a RULER run at 128k with the `constant`
runner and SmolLM2's tokenizer, at several sample counts, each in a child process of its own.

Samples are built a few at a time and handed to the runner as they are ready, and records are
appended to disk, so the peak should not grow with the number of samples (goal: the largest count's
peak within 10% of the smallest's). Each line prints the child's own peak RSS (wait4's ru_maxrss,
not this parent's) and its ratio to the first count's peak, measured in the same run.

The embedded SmolLM2's window is 8k: the script makes a folder with its tokenizer and a config
saying 131072 positions (the constant runner never loads weights), so 128k prompts are accepted.

Usage: python benchmarks/stream_memory.py [--samples 20,100] [--tasks niah_single_2,vt,qa_1]
                                          [--length 128k] [--repeats 1]
       python benchmarks/stream_memory.py --samples 500 --tasks ruler   # the whole suite, once
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lc_bench.models import default_model


def long_window_copy(folder: Path) -> Path:
    """SmolLM2's tokenizer files with a config that claims a 128k window."""
    source = Path(default_model().source)
    target = folder / "smollm2-128k"
    target.mkdir()
    for item in source.iterdir():
        if item.name.startswith("tokenizer") or item.name in ("special_tokens_map.json", "generation_config.json"):
            shutil.copy(item, target / item.name)
    config = json.loads((source / "config.json").read_text())
    config["max_position_embeddings"] = 131072
    (target / "config.json").write_text(json.dumps(config))
    return target


def one_run(model: Path, tasks: str, length: str, samples: int, out: Path) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in bytes, records written) of one run in a child process."""
    selection = ["--suite", "ruler"] if tasks == "ruler" else ["--suite", "ruler", "--tasks", tasks]
    command = [sys.executable, "-m", "lc_bench.cli", "run", *selection, "--lengths", length, "--samples",
               str(samples), "--runner", "constant", "--model", str(model), "--out", str(out), "--depths", "50"]
    began = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    stderr = child.stderr.read().decode() if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run failed ({samples} samples): {stderr.strip().splitlines()[-1:]}")
    records = sum(sum(1 for _ in path.open()) for path in out.rglob("records.jsonl"))
    return wall, usage.ru_maxrss * 1024, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", default="20,100", help="sample counts per cell, the first is the baseline")
    parser.add_argument("--tasks", default="niah_single_2,vt,qa_1", help="RULER tasks, or 'ruler' for all 13")
    parser.add_argument("--length", default="128k")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    counts = [int(part) for part in args.samples.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        model = long_window_copy(Path(scratch))
        print(f"tasks {args.tasks} at {args.length}, constant runner, SmolLM2 tokenizer, depth 50")
        print(f"{'samples':>8} {'records':>8} {'wall s':>8} {'peak MiB':>9} {'ratio':>7}")
        baseline: int | None = None
        for repeat in range(args.repeats):
            for samples in counts:
                out = Path(scratch) / f"run-{repeat}-{samples}"
                wall, peak, records = one_run(model, args.tasks, args.length, samples, out)
                baseline = baseline or peak
                print(f"{samples:>8} {records:>8} {wall:>8.1f} {peak / 2**20:>9.1f} {peak / baseline:>6.2f}x")
                shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
