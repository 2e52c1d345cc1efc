"""Building at a million tokens: what passkey and Needle Threading samples cost to build.

Builds samples at 1M tokens one at a time (as a streaming run does, through `cell_indices`), then
tokenizes each finished prompt once, plainly, in the same run. Per task it prints:

  build/s   seconds to build one sample
  plain/s   seconds of one plain tokenization of a finished prompt
  ratio     build time / plain tokenization time (goal <= 2x)
  short     tokens short of the budget, the largest over the samples
  peak      the most memory one sample's build adds (peak RSS in a child process, over its RSS
            before the build); /prompt: as a multiple of that prompt's size in bytes (goal: a constant,
            O(one prompt))
  tok-peak  the same for one plain tokenization of the finished prompt (`encode_rendered`: the ids
            and offsets as Python lists, ~100 bytes a token at their peak); /tok: peak / tok-peak

Usage: python benchmarks/million_build.py [--tokenizer tiny|smollm2] [--samples 10] [--length 1m]
       [--tasks passkey,nt_single_thread,nt_multi_thread]
The tiny tokenizer is built by tests.helpers.tiny_model.build_tiny_model in a temporary folder.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lc_bench.lengths import format_length, input_budget, parse_length
from lc_bench.models import resolve_model
from lc_bench.registry import TASKS
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tokenizers import ModelTokenizer, load_tokenizer


def load(kind: str) -> ModelTokenizer:
    if kind == "smollm2":
        return load_tokenizer(resolve_model(None))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests.helpers
    from tests.helpers.tiny_model import build_tiny_model

    folder = Path(tempfile.mkdtemp(prefix="lc-bench-tiny-"))
    return load_tokenizer(resolve_model(str(build_tiny_model(folder / "tiny"))))


def _status(field: str) -> int:
    """A /proc/self/status figure in bytes (VmRSS: now; VmHWM: the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def context(tokenizer: ModelTokenizer, task: Any, length: int, samples: int, index: int) -> BuildContext:
    depths = (50.0,) if task.grid_depths else ()
    return BuildContext(tokenizer, (length,), depths, samples, 0, indices=(index,))


def _child(tokenizer: ModelTokenizer, name: str, length: int, prompt: str | None, queue: Any) -> None:
    """Build one sample (prompt None) or tokenize `prompt` plainly; put the memory it added at its peak."""
    task = make_task(TASKS.get(name), {})
    before = _status("VmRSS")
    if prompt is None:
        sample = task.build(context(tokenizer, task, length, 1, 0))[0]
        peak = _status("VmHWM")
        text = tokenizer.render(sample.messages, sample.use_chat_template, sample.answer_prefix)
        queue.put((peak - before, text))
    else:
        tokenizer.encode_rendered(prompt, task.params.chat if name == "passkey" else True)  # type: ignore[attr-defined]
        queue.put((_status("VmHWM") - before, None))


def _in_child(tokenizer: ModelTokenizer, name: str, length: int, prompt: str | None) -> tuple[int, Any]:
    fork = multiprocessing.get_context("fork")
    queue: Any = fork.Queue()
    process = fork.Process(target=_child, args=(tokenizer, name, length, prompt, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def peak_memory(tokenizer: ModelTokenizer, name: str, length: int) -> tuple[int, int, int]:
    """(bytes one sample's build adds at its peak, bytes one plain tokenization of its prompt adds at
    its peak, the prompt's size in bytes), each in a forked child of its own."""
    added, prompt = _in_child(tokenizer, name, length, None)
    plain, _ = _in_child(tokenizer, name, length, prompt)
    return added, plain, len(prompt.encode())


def measure(tokenizer: ModelTokenizer, name: str, length: int, samples: int) -> str:
    task = make_task(TASKS.get(name), {})
    task.build(context(tokenizer, task, 4096, 1, 0))  # imports and caches warm
    built_s = plain_s = 0.0
    short = 0
    for index in range(samples):
        started = time.perf_counter()
        sample = task.build(context(tokenizer, task, length, samples, index))[0]
        built_s += time.perf_counter() - started
        prompt = tokenizer.render(sample.messages, sample.use_chat_template, sample.answer_prefix)
        started = time.perf_counter()
        tokens = len(tokenizer.encode_rendered(prompt, sample.use_chat_template)[0])
        plain_s += time.perf_counter() - started
        assert tokens == sample.input_tokens, (name, index, tokens, sample.input_tokens)
        short = max(short, input_budget(length, sample.max_new_tokens) - tokens)
        del sample, prompt
    added, plain, prompt_bytes = peak_memory(tokenizer, name, length)
    return (
        f"{name:18} {format_length(length):>5} {samples:>3} {built_s / samples:8.2f} {plain_s / samples:8.2f} "
        f"{built_s / plain_s:7.2f}x {short:6d} {added / 2**20:7.0f}MB {prompt_bytes / 2**20:7.1f}MB "
        f"{added / prompt_bytes:7.1f}x {plain / 2**20:7.0f}MB {added / plain:7.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", choices=("tiny", "smollm2"), default="tiny")
    parser.add_argument("--samples", type=int, default=10, help="samples per task")
    parser.add_argument("--length", default="1m")
    parser.add_argument("--tasks", default="passkey,nt_single_thread,nt_multi_thread")
    args = parser.parse_args()
    tokenizer = load(args.tokenizer)
    length = parse_length(args.length)
    print(f"tokenizer {tokenizer.name}")
    header = f"{'task':18} {'length':>5} {'n':>3} {'build/s':>8} {'plain/s':>8} {'ratio':>8} {'short':>6}"
    print(header + f" {'peak':>9} {'prompt':>9} {'/prompt':>8} {'tok-peak':>9} {'/tok':>8}")
    for name in args.tasks.split(","):
        print(measure(tokenizer, name, length, args.samples), flush=True)


if __name__ == "__main__":
    main()
