"""Harness overhead of the `hf` runner: `lc-bench run --runner hf` end to end versus a plain
transformers script that loads the same model and calls `generate` greedily on the very same prompt
ids, one prompt at a time (the runner's CPU batch size), each in a fresh process.

Both sides pay for starting Python, importing torch and transformers and loading the model; the
harness adds building and fitting the samples, scoring, appending records and writing the run's
leaderboard. The two are run in alternating order (plain first on odd repeats) so a machine that
slows down during the run does not favour one side; every repeat prints both wall times, both CPU
times and their ratios (benchmarks/alternating.py).
Target (issue 20): end to end <= 1.03x plain.

    python benchmarks/hf_overhead.py [--lengths 1k,2k] [--depths 0,50,100] [--samples 2] [--repeats 3]
        [--model PATH] [--tasks niah_single_2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from alternating import alternate

PLAIN = """
import json, sys, time
started = time.perf_counter()
import torch
from transformers import AutoModelForCausalLM
spec = json.load(open(sys.argv[1]))
torch.manual_seed(0)
model = AutoModelForCausalLM.from_pretrained(spec["model"], torch_dtype=torch.float32)
model.eval()
with torch.inference_mode():
    for ids, new in zip(spec["prompts"], spec["max_tokens"]):
        inputs = torch.tensor([ids])
        model.generate(inputs, attention_mask=torch.ones_like(inputs), max_new_tokens=new, do_sample=False,
                       pad_token_id=spec["pad"])
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def run_harness(args: argparse.Namespace, out: Path, name: str) -> None:
    command = [sys.executable, "-m", "lc_bench.cli", "run", "--runner", "hf", "--runner-opt", "batch_size=1",
               "--tasks", args.tasks, "--lengths", args.lengths, "--depths", args.depths, "--samples",
               str(args.samples), "--out", str(out), "--name", name]
    if args.model:
        command += ["--model", args.model]
    subprocess.run(command, check=True, capture_output=True)


def run_plain(spec_path: Path) -> None:
    subprocess.run([sys.executable, "-c", PLAIN, str(spec_path)], check=True, capture_output=True, text=True)


def plain_spec(args: argparse.Namespace, out: Path) -> dict:
    """The model folder and the exact prompt ids the harness builds, from the same settings."""
    from lc_bench.models import resolve_model
    from lc_bench.registry import TASKS
    from lc_bench.run_config import resolve_run_config
    from lc_bench.runloop import build_samples
    from lc_bench.tasks.base import make_task
    from lc_bench.tokenizers import load_tokenizer

    model = resolve_model(args.model)
    tokenizer = load_tokenizer(model)
    config = resolve_run_config(tasks=args.tasks, lengths=args.lengths, depths=args.depths, samples=args.samples,
                                runner="hf", model=args.model, out=out, name="plain")
    tasks = [make_task(TASKS.get(name), config.task_params.get(name)) for name in config.tasks]
    samples, _ = build_samples(tasks, tokenizer, config)
    prompts = [tokenizer.prompt_ids(s.messages, s.use_chat_template, s.answer_prefix) for s in samples]
    pad = tokenizer.hf.pad_token_id if tokenizer.hf.pad_token_id is not None else tokenizer.hf.eos_token_id
    return {"model": str(model.source), "prompts": prompts, "max_tokens": [s.max_new_tokens for s in samples],
            "pad": pad}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="1k,2k")
    parser.add_argument("--depths", default="0,50,100")
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--tasks", default="niah_single_2")
    parser.add_argument("--model", default=None, help="default: the embedded SmolLM2")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        spec = plain_spec(args, out)
        spec_path = out / "spec.json"
        spec_path.write_text(json.dumps(spec))
        print(f"{len(spec['prompts'])} prompts ({args.tasks} at {args.lengths}), CPU, batch 1, greedy")
        alternate(args.repeats, "plain", lambda: run_plain(spec_path),
                  lambda repeat: run_harness(args, out, f"run{repeat}"))


if __name__ == "__main__":
    main()
