"""Harness overhead of the `vllm` runner: `lc-bench run --runner vllm` end to end versus a raw
script that makes one `LLM.generate` call on the very same prompts (token ids) and sampling settings.

Both sides pay for starting Python, importing vLLM and starting the engine; the harness adds
building and fitting the samples, scoring, appending records and writing the run's leaderboard.
Both are timed the same way, as the wall time of a fresh process from start to exit, and they
take turns (the raw script first on odd repeats) so a machine that slows down during the run
favours neither; every repeat prints both times and the ratio, then the min and median.
Target (issue 20): end to end <= 1.03x raw. Run it in the vLLM venv
(`.venv-vllm/bin/python benchmarks/vllm_overhead.py`); on CPU it uses float32 and an eager engine,
on a GPU pass --gpu.

    python benchmarks/vllm_overhead.py [--lengths 1k,2k] [--depths 0:100:6] [--samples 2] [--repeats 3] [--gpu]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from alternating import alternate

RAW = """
import json, sys
from vllm import LLM, SamplingParams
spec = json.load(open(sys.argv[1]))
llm = LLM(**spec["engine"])
prompts = [{"prompt_token_ids": ids} for ids in spec["prompts"]]
params = [SamplingParams(max_tokens=m, temperature=0.0) for m in spec["max_tokens"]]
outputs = llm.generate(prompts, params, use_tqdm=False)
print(json.dumps({"outputs": len(outputs)}))
"""


def run_harness(args: argparse.Namespace, out: Path, name: str) -> None:
    engine_options = [] if args.gpu else ["dtype=float32", "enforce_eager=true", "cpu_kv_cache_gib=2"]
    command = [sys.executable, "-m", "lc_bench.cli", "run", "--runner", "vllm", "--lengths", args.lengths,
               "--depths", args.depths, "--samples", args.samples, "--out", str(out), "--name", name,
               *[x for option in engine_options for x in ("--runner-opt", option)]]
    if args.model:
        command += ["--model", args.model]
    subprocess.run(command, check=True, capture_output=True)


def run_raw(spec_path: Path) -> None:
    subprocess.run([sys.executable, "-c", RAW, str(spec_path)], check=True, capture_output=True, text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="1k,2k")
    parser.add_argument("--depths", default="0:100:6")
    parser.add_argument("--samples", default="2")
    parser.add_argument("--model", default=None, help="default: the embedded SmolLM2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gpu", action="store_true", help="GPU engine settings (bfloat16, compiled)")
    args = parser.parse_args()
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    if not args.gpu:
        os.environ["VLLM_CPU_KVCACHE_SPACE"] = "2"
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        spec = raw_spec(args, out)
        spec_path = out / "spec.json"
        spec_path.write_text(json.dumps(spec))
        print(f"{len(spec['prompts'])} prompts ({args.lengths}), {'GPU' if args.gpu else 'CPU'} engine, greedy")
        alternate(args.repeats, "raw", lambda: run_raw(spec_path),
                  lambda repeat: run_harness(args, out, f"run{repeat}"))


def raw_spec(args: argparse.Namespace, out: Path) -> dict:
    """The engine settings and exact prompt ids the harness builds, from the same settings."""
    from lc_bench.models import resolve_model
    from lc_bench.run_config import resolve_run_config
    from lc_bench.runloop import build_samples
    from lc_bench.tokenizers import load_tokenizer

    model = resolve_model(args.model)
    tokenizer = load_tokenizer(model)
    config = resolve_run_config(
        suite=None, tasks=None, lengths=args.lengths, depths=args.depths, samples=int(args.samples), seed=0,
        runner="vllm", runner_opt=[], task_opt=[], haystack=None, model=args.model, max_new_tokens=None,
        temperature=0.0, out=out, name="raw",
    )
    samples, _ = build_samples(list(_tasks(config)), tokenizer, config)
    prompts = [tokenizer.prompt_ids(s.messages, s.use_chat_template, s.answer_prefix) for s in samples]
    engine = {"model": model.source, "max_model_len": max(len(p) + s.max_new_tokens for p, s in
                                                           zip(prompts, samples, strict=True)),
              "enable_prefix_caching": True, "seed": 0}
    if not args.gpu:
        engine.update(dtype="float32", enforce_eager=True)
    return {"engine": engine, "prompts": prompts, "max_tokens": [s.max_new_tokens for s in samples]}


def _tasks(config):  # noqa: ANN001, ANN202
    from lc_bench.registry import TASKS
    from lc_bench.tasks.base import make_task

    return [make_task(TASKS.get(name), config.task_params.get(name)) for name in config.tasks]


if __name__ == "__main__":
    main()
