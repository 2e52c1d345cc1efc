"""Leaderboard aggregation at scale: N synthetic records (default 1M) to every table.

Target (issue 4): 1M records to all tables in under 10 s, with memory bounded by the compact
per-sample columns rather than by the records. The baseline, measured in the same run on the same
file, is the cheapest possible line-by-line Python reader: `json.loads` of every line, keeping
nothing. A third row runs the whole `lc-bench leaderboard` command on the same run folder (startup,
aggregation, bootstrap intervals and every default output file: md, csv, json, html), as a user
would; goal (issue 20): <= 0.8x the baseline's time. A reference row adds `--plots` (the PNGs
for papers, opt-in: matplotlib draws each heatmap in ~0.4 s). Process wall times (start to exit) are
compared with the baseline's process wall time too.

Each measurement runs in a fresh subprocess and reports its own peak RSS: the high-water mark of
its own address space (VmHWM in /proc/self/status, which exec resets). `ru_maxrss` is not used:
Linux carries it over fork and exec, so a child reports at least the parent's peak (this script
holds ~270 MiB while generating, which the 11 MiB baseline used to report as its own).

    python benchmarks/aggregate_scale.py [--records 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TASKS = ["niah_single_1", "niah_single_2", "niah_multikey_1", "niah_multivalue", "vt", "cwe", "fwe", "qa_1"]
LENGTHS = [4096, 8192, 16384, 32768, 65536, 131072]
MODELS = ["model-a", "model-b"]

TEMPLATE = {
    "key": "@KEY@", "task": "@TASK@", "family": "ruler", "sample_id": "@TASK@/@LENGTH@/@N@", "model": "@MODEL@",
    "runner": "vllm", "target_length": -1, "input_tokens": -2, "template_overhead": 90, "max_new_tokens": 128,
    "depth": -3, "needle_token_position": 51, "truncated": False, "references": ["2405159"],
    "prompt_sha256": "a" * 64, "prompt_head": "You are a helpful assistant. " * 14, "prompt_tail": "essay text " * 40,
    "metadata": {"query": "legal-publicity", "haystack": "essay", "haystack_units": 784},
    "completion": {"key": "@KEY@", "text": "The special magic number is 2405159.", "finish_reason": "stop",
                   "prompt_tokens": None, "completion_tokens": 12, "latency_s": 0.5, "error": None},
    "scores": {"string_match_all": -4, "string_match_part": -4}, "primary_metric": "string_match_all",
    "score": -4, "created": "2026-11-22T11:42:29+00:00",
}


def generate(path: Path, count: int) -> None:
    """Records shaped like the store's (about 1.3 KB each); models differ in accuracy by length."""
    text = json.dumps(TEMPLATE)
    for marker, slot in [("-1", "{length}"), ("-2", "{tokens}"), ("-3", "{depth}"), ("-4", "{score}")]:
        text = text.replace(f": {marker}", f": {slot}")
    text = text.replace("{", "{{").replace("}", "}}")
    for slot in ("length", "tokens", "depth", "score"):
        text = text.replace("{{" + slot + "}}", "{" + slot + "}")
    text = text.replace("@KEY@", "{key}").replace("@TASK@", "{task}").replace("@MODEL@", "{model}")
    text = text.replace("@LENGTH@", "{length}").replace("@N@", "{n}")
    rng = random.Random(0)
    with path.open("w") as handle:
        lines = []
        for n in range(count):
            model = MODELS[n % 2]
            length = LENGTHS[(n // 2) % len(LENGTHS)]
            accuracy = 0.95 - (0.05 if model == "model-b" else 0.1) * LENGTHS.index(length)
            score = 100.0 if rng.random() < accuracy else 0.0
            lines.append(
                text.format(key=f"{n:032x}", task=TASKS[(n // 12) % len(TASKS)], model=model, length=length,
                            tokens=length - 128, depth=float(rng.randrange(0, 101, 10)), score=score, n=n)
            )
            if len(lines) == 50_000:
                handle.write("\n".join(lines) + "\n")
                lines = []
        if lines:
            handle.write("\n".join(lines) + "\n")
    (path.parent / "manifest.json").write_text(json.dumps({
        "run_name": "scale", "lc_bench_version": "0", "model": "model-a", "model_path": None, "runner": "vllm",
        "runner_config": {}, "tokenizer": "x", "chat_template_sha256": None, "context_window": None, "seed": 0,
        "config": {}, "package_versions": {}, "git_revision": None, "python": "3", "platform": "x", "started": "t",
    }))


# the child's own peak resident memory (see the docstring); ru_maxrss only where there is no /proc
PEAK = """
def peak_mib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

BASELINE = PEAK + """
import json, sys, time
start = time.perf_counter()
with open(sys.argv[1], "rb") as handle:
    for line in handle:
        json.loads(line)
print(json.dumps({"seconds": time.perf_counter() - start, "peak_mib": peak_mib()}))
"""

LC_BENCH = PEAK + """
import json, sys, time
from pathlib import Path
import lc_bench.metrics.aggregate as aggregate, lc_bench.metrics.leaderboard as leaderboard
imported = peak_mib()
start = time.perf_counter()
board = aggregate.build_leaderboard([Path(sys.argv[1])])
markdown = leaderboard.leaderboard_markdown(board)
print(json.dumps({"seconds": time.perf_counter() - start, "samples": len(board.samples),
                  "cells": len(board.cells), "imported_mib": imported, "peak_mib": peak_mib()}))
"""

# the console script's own entry point (`lc-bench = lc_bench.cli:main`), its peak read at exit
COMMAND = PEAK + """
import json, sys
sys.argv = ["lc-bench", "leaderboard", *sys.argv[1:]]
from lc_bench.cli import main
try:
    main()
finally:
    print(json.dumps({"peak_mib": peak_mib()}), file=sys.stderr)
"""


def measure(script: str, *arguments: str) -> dict:
    """Run `script` in a fresh Python; its JSON line plus the process's wall time (start to exit)."""
    started = time.perf_counter()
    output = subprocess.run([sys.executable, "-c", script, *arguments], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if output.returncode != 0:
        raise SystemExit(f"measurement failed ({output.returncode}): {output.stderr.strip()[-2000:]}")
    stream = output.stderr if script is COMMAND else output.stdout
    result = json.loads(stream.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the run folder here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = args.keep or Path(scratch) / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / "records.jsonl"
        started = time.perf_counter()
        generate(path, args.records)
        size_mib = path.stat().st_size / 2**20
        print(f"generated {args.records:,} records, {size_mib:,.0f} MiB, in {time.perf_counter() - started:.1f} s")
        baseline = measure(BASELINE, str(path))
        ours = measure(LC_BENCH, str(run_dir))
        command = measure(COMMAND, str(run_dir), "--out", str(Path(scratch) / "board"))
        command["seconds"] = command["wall"]
        with_plots = measure(COMMAND, str(run_dir), "--out", str(Path(scratch) / "board-plots"), "--plots")
    print(f"baseline  json.loads per line:   {baseline['seconds']:6.2f} s  peak {baseline['peak_mib']:6.0f} MiB "
          f"(process {baseline['wall']:.2f} s)")
    print(f"lc_bench  records -> all tables: {ours['seconds']:6.2f} s  peak {ours['peak_mib']:6.0f} MiB "
          f"({ours['imported_mib']:.0f} MiB after imports; {ours['samples']:,} samples, {ours['cells']} cells; "
          f"process {ours['wall']:.2f} s)")
    print(f"command   lc-bench leaderboard:  {command['seconds']:6.2f} s  peak {command['peak_mib']:6.0f} MiB "
          f"(whole process: startup, tables, intervals, md/csv/json/html)")
    print(f"reference lc-bench leaderboard --plots: {with_plots['wall']:6.2f} s  (the same plus the PNG plots, "
          f"{with_plots['wall'] - command['seconds']:.2f} s more)")
    print(f"ratio     time {ours['seconds'] / baseline['seconds']:.2f}x the baseline; "
          f"peak memory {ours['peak_mib'] / size_mib:.2f}x the file size; "
          f"target < 10 s: {'met' if ours['seconds'] < 10 else 'MISSED'}")
    goal = command["seconds"] <= 0.8 * baseline["wall"]
    print(f"command   {command['seconds'] / baseline['seconds']:.2f}x the baseline's loop, "
          f"{command['seconds'] / baseline['wall']:.2f}x its whole process "
          f"(goal <= 0.80x: {'met' if goal else 'MISSED'})")


if __name__ == "__main__":
    main()
