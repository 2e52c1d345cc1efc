"""What loading the model's tokenizer costs: the `tokenizers` fast path against transformers.

Every run, `lc-bench leaderboard` and `lc-bench show` loads the tokenizer; through transformers
that imports torch (torch._dynamo, torch.distributed), seconds and hundreds of MiB before any
work. Each path runs in a fresh process, alternating, `--runs` times; the table shows the median
wall time of the whole process (import, load, one prompt counted), its peak RSS (VmHWM) and
whether torch was imported, with the fast path's ratio to the transformers path. It prints,
never asserts.

    python benchmarks/tokenizer_load.py [--model default|PATH] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = """
import json, sys
from lc_bench.models import resolve_model
from lc_bench.schema import ChatMessage
from lc_bench.tokenizers import load_tokenizer
tokenizer = load_tokenizer(resolve_model(sys.argv[1]), fast=sys.argv[2] == "fast")
count = tokenizer.count((ChatMessage(role="user", content="Where is the lantern?"),))
peak = 0.0
with open("/proc/self/status") as status:
    for line in status:
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
print(json.dumps({"backend": tokenizer.backend, "torch": "torch" in sys.modules, "peak_mib": peak, "count": count}))
"""


def measure(model: str, path: str) -> dict:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", CHILD, model, path], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{path} path failed: {result.stderr.strip()[-2000:]}")
    return {**json.loads(result.stdout.strip().splitlines()[-1]), "seconds": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default", help="default (the embedded SmolLM2) or an HF folder")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    measure(args.model, "fast")  # warm-up: disk cache, .pyc files, the default model's conversion
    runs: dict[str, list[dict]] = {"fast": [], "transformers": []}
    for _ in range(args.runs):
        for path in runs:  # alternating, so a change in machine load hits both alike
            runs[path].append(measure(args.model, path))
    rows = {}
    for path, results in runs.items():
        rows[path] = {"seconds": statistics.median(r["seconds"] for r in results),
                      "peak_mib": statistics.median(r["peak_mib"] for r in results), **results[-1]}
        assert results[-1]["count"] == runs["fast"][-1]["count"], "the two paths disagree"
        row = rows[path]
        print(f"{path:12} {row['seconds']:6.2f} s  peak {row['peak_mib']:5.0f} MiB  torch imported: "
              f"{row['torch']}  ({row['backend']})")
    fast, slow = rows["fast"], rows["transformers"]
    print(f"ratio        fast / transformers: time {fast['seconds'] / slow['seconds']:.2f}x, "
          f"peak memory {fast['peak_mib'] / slow['peak_mib']:.2f}x (median of {args.runs} runs each)")


if __name__ == "__main__":
    main()
