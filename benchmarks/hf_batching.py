"""The `hf` runner on CPU: batch 1 against batch N on the same requests (the `batch_size=auto` rule).

`batch_size=auto` picks 1 on CPU and 8 on GPU (lc_bench/runners/hf.py). On CPU a batch cannot
run its prompts any faster than one after another (the cores are already busy with one prompt's
matrix products), while left padding, the per-step attention over the widest prompt and the
larger activations cost time and memory. This script measures that on the same machine in the
same run: each configuration runs in a fresh process (its own model load, its own peak RSS read
from VmHWM), and the table prints the generate time and peak memory of batch N as ratios to
batch 1. It prints, never asserts.

    python benchmarks/hf_batching.py [--model default|tiny|PATH] [--batch 4] [--requests 4]
        [--tokens 1000-2000] [--max-new-tokens 16] [--repeats 1]

`--model tiny` builds the tests' tiny random Llama (tests/helpers/tiny_model.py) in a temporary
folder; `default` is the embedded SmolLM2-135M-Instruct. Prompts are cut from the package's
essays to lengths spread evenly over `--tokens` (all within 20% of each other when the range
allows, so `plan_batches` really groups them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from aggregate_scale import PEAK  # noqa: E402 - the child's own peak memory, measured one way

CHILD = PEAK + """
import json, sys, time
model_path, batch, requests_count, low, high, max_new = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:7])


from lc_bench.models import resolve_model
from lc_bench.runners.base import RunnerContext
from lc_bench.runners.hf import HFOptions, HFRunner, plan_batches
from lc_bench.schema import ChatMessage, Request
from lc_bench.tasks.haystack import default_essays
from lc_bench.tokenizers import load_tokenizer

ref = resolve_model(model_path)
tokenizer = load_tokenizer(ref)
essay_ids = tokenizer.encode(default_essays() * 4)
step = (high - low) / max(requests_count - 1, 1)
requests = [
    Request(key=f"r{n}", messages=(ChatMessage(role="user", content=tokenizer.decode(
        essay_ids[n * 97: n * 97 + int(high - n * step)]) + "\\nSummarise the text above."),),
        use_chat_template=True, max_new_tokens=max_new)
    for n in range(requests_count)
]
lengths = [tokenizer.count(r.messages) for r in requests]
runner = HFRunner(RunnerContext(model=ref, tokenizer=tokenizer), HFOptions(device="cpu", batch_size=batch))
loaded = peak_mib()
list(runner.generate([requests[-1].model_copy(update={"max_new_tokens": 1, "key": "warm"})]))  # warm-up
start = time.perf_counter()
completions = list(runner.generate(requests))
seconds = time.perf_counter() - start
batches = plan_batches(lengths, [max_new] * requests_count, runner.batch_size, runner.options.max_batch_tokens)
assert len(completions) == requests_count and not any(c.error for c in completions), completions
print(json.dumps({"seconds": seconds, "peak_mib": peak_mib(), "loaded_mib": loaded, "lengths": lengths,
                  "batches": [len(b) for b in batches],
                  "new_tokens": sum(c.completion_tokens for c in completions)}))
"""


def tiny_model(folder: Path) -> str:
    sys.path.insert(0, str(ROOT))
    from tests.helpers.tiny_model import build_tiny_model

    return str(build_tiny_model(folder / "tiny"))


def measure(model: str, batch: int, args: argparse.Namespace) -> dict:
    low, high = (int(x) for x in args.tokens.split("-"))
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "TRANSFORMERS_VERBOSITY": "error"}
    result = subprocess.run(
        [sys.executable, "-c", CHILD, model, str(batch), str(args.requests), str(low), str(high),
         str(args.max_new_tokens)],
        capture_output=True, text=True, env=env, cwd=ROOT,
    )
    if result.returncode != 0:
        raise SystemExit(f"batch {batch} failed: {result.stderr.strip()[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default", help="default | tiny | an HF folder or GGUF file")
    parser.add_argument("--batch", type=int, default=4, help="the batch size compared with 1")
    parser.add_argument("--requests", type=int, default=4)
    parser.add_argument("--tokens", default="1600-2000", help="prompt lengths, LOW-HIGH tokens before the template")
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=1, help="alternating rounds (1, N, 1, N, ...); medians")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        model = tiny_model(Path(scratch)) if args.model == "tiny" else args.model
        rounds: dict[int, list[dict]] = {1: [], args.batch: []}
        for _ in range(args.repeats):
            for batch in (1, args.batch):  # alternate, so a load change hits both alike
                rounds[batch].append(measure(model, batch, args))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    one, many = (sorted(rounds[b], key=lambda r: r["seconds"])[len(rounds[b]) // 2] for b in (1, args.batch))
    print(f"model {args.model}, {args.requests} requests of {one['lengths']} tokens, "
          f"{args.max_new_tokens} new tokens each, CPU, load average {load:.1f}, {args.repeats} round(s)")
    for label, row in (("batch 1", one), (f"batch {args.batch}", many)):
        print(f"{label:9} {row['seconds']:7.2f} s  peak {row['peak_mib']:6.0f} MiB "
              f"({row['loaded_mib']:.0f} MiB after loading; batches {row['batches']}; {row['new_tokens']} new tokens)")
    print(f"ratio     batch {args.batch} / batch 1: time {many['seconds'] / one['seconds']:.2f}x, "
          f"peak memory {many['peak_mib'] / one['peak_mib']:.2f}x "
          f"(auto = 1 on CPU is right while the time ratio is >= 1)")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"(benchmark wall time {time.perf_counter() - started:.0f} s)")
