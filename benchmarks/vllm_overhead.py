"""Harness overhead of the `vllm` runner: `lc-bench run --runner vllm` end to end versus one raw
`LLM.generate` call on the very same prompts (token ids) and sampling settings.

Both sides pay for starting Python and the engine; the harness adds building and fitting the
samples, scoring, and appending records. Target (issue 5): end to end <= 1.05x raw. Run it in the
vLLM venv (`.venv-vllm/bin/python benchmarks/vllm_overhead.py`); on CPU it uses float32 and an
eager engine, on a GPU pass --gpu.

    python benchmarks/vllm_overhead.py [--lengths 1k,2k] [--depths 0:100:6] [--samples 2] [--gpu]
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

RAW = """
import json, sys, time
started = time.perf_counter()
from vllm import LLM, SamplingParams
spec = json.load(open(sys.argv[1]))
llm = LLM(**spec["engine"])
prompts = [{"prompt_token_ids": ids} for ids in spec["prompts"]]
params = [SamplingParams(max_tokens=m, temperature=0.0) for m in spec["max_tokens"]]
outputs = llm.generate(prompts, params, use_tqdm=False)
print(json.dumps({"seconds": time.perf_counter() - started, "outputs": len(outputs)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="1k,2k")
    parser.add_argument("--depths", default="0:100:6")
    parser.add_argument("--samples", default="2")
    parser.add_argument("--model", default=None, help="default: the embedded SmolLM2")
    parser.add_argument("--gpu", action="store_true", help="GPU engine settings (bfloat16, compiled)")
    args = parser.parse_args()
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    engine_options = [] if args.gpu else ["dtype=float32", "enforce_eager=true", "cpu_kv_cache_gib=2"]
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        command = [sys.executable, "-m", "lc_bench.cli", "run", "--runner", "vllm", "--lengths", args.lengths,
                   "--depths", args.depths, "--samples", args.samples, "--out", str(out), "--name", "bench",
                   *[x for option in engine_options for x in ("--runner-opt", option)]]
        if args.model:
            command += ["--model", args.model]
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        harness = time.perf_counter() - started
        spec = raw_spec(out / "bench", args)
        (out / "spec.json").write_text(json.dumps(spec))
        raw = json.loads(subprocess.run([sys.executable, "-c", RAW, str(out / "spec.json")], check=True,
                                        capture_output=True, text=True).stdout.strip().splitlines()[-1])
        started_python = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import vllm"], check=True, capture_output=True)
        import_s = time.perf_counter() - started_python
    raw_total = raw["seconds"] + import_s  # the raw script timed itself after its interpreter started
    print(f"{len(spec['prompts'])} prompts ({args.lengths}), {'GPU' if args.gpu else 'CPU'} engine")
    print(f"raw LLM.generate (incl. python + import vllm {import_s:.1f} s): {raw_total:7.1f} s")
    print(f"lc-bench run --runner vllm, end to end:           {harness:7.1f} s")
    ratio = harness / raw_total
    print(f"ratio {ratio:.3f}x raw (target <= 1.05: {'met' if ratio <= 1.05 else 'MISSED'})")


def raw_spec(run_dir: Path, args: argparse.Namespace) -> dict:
    """The engine settings and exact prompt ids the harness used, rebuilt from its records."""
    from lc_bench.models import resolve_model
    from lc_bench.tokenizers import load_tokenizer

    manifest = json.loads((run_dir / "manifest.json").read_text())
    model = resolve_model(args.model)
    tokenizer = load_tokenizer(model)
    from lc_bench.run_config import resolve_run_config
    from lc_bench.runloop import build_samples

    config = resolve_run_config(
        suite=None, tasks=None, lengths=args.lengths, depths=args.depths, samples=int(args.samples), seed=0,
        runner="vllm", runner_opt=[], task_opt=[], haystack=None, model=args.model, max_new_tokens=None,
        temperature=0.0, out=run_dir.parent, name="raw",
    )
    samples, _ = build_samples(list(_tasks(config)), tokenizer, config)
    prompts = [tokenizer.prompt_ids(s.messages, s.use_chat_template, s.answer_prefix) for s in samples]
    engine = {"model": model.source, "max_model_len": max(len(p) + s.max_new_tokens for p, s in
                                                           zip(prompts, samples, strict=True)),
              "enable_prefix_caching": True, "seed": 0}
    if not args.gpu:
        engine.update(dtype="float32", enforce_eager=True)
        os.environ["VLLM_CPU_KVCACHE_SPACE"] = "2"
    assert manifest["config"]["lengths"]
    return {"engine": engine, "prompts": prompts, "max_tokens": [s.max_new_tokens for s in samples]}


def _tasks(config):  # noqa: ANN001, ANN202
    from lc_bench.registry import TASKS
    from lc_bench.tasks.base import make_task

    return [make_task(TASKS.get(name), config.task_params.get(name)) for name in config.tasks]


if __name__ == "__main__":
    main()
