"""Fitting cost per task: what building samples at an exact token budget costs in tokenizer work.

For every RULER task and for tsort, bestanswer and qa, builds a few samples per length with the
tokenizer's encode functions wrapped in a counter, then tokenizes each finished prompt once, plainly,
in the same run (the median of three passes). Per task and length it prints:

  ratio     build time / one plain tokenization of the finished prompts (goal <= 1.3x)
  enc-ratio the part of it spent in the tokenizer's encode calls (fitting's tokenizer work)
  other     the rest: the task making its text (shuffles, random words, joins) and the fit's
            bookkeeping, also in plain tokenizations (ratio = enc-ratio + other)
  tok-ratio tokens encoded while building / tokens of the finished prompts (the same cost in
            tokens, free of timing noise on a loaded machine)

The plain tokenization is `encode_rendered`: ids and each token's offset, as every encode of a fit
returns them. A closing line says what ids alone cost over the same prompts (the offsets' Python
lists are most of the difference), so the ratios can be read against that floor too.
  full/s    full-size tokenizations (at least half the budget) per sample
  short     tokens short of the budget, the largest over the samples

Each task is built once first at another seed, two samples (haystack caches warm, as in a run's second
task; NeedleBench alternates English and Chinese haystacks).
Usage: python benchmarks/fitting_cost.py [--lengths 32k,128k] [--samples 5,2] [--tasks vt,cwe]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lc_bench.lengths import input_budget, parse_length
from lc_bench.models import resolve_model
from lc_bench.registry import TASKS
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tokenizers import ModelTokenizer, load_tokenizer

RULER_TASKS = (
    "niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2", "niah_multikey_3",
    "niah_multivalue", "niah_multiquery", "vt", "cwe", "fwe", "qa_1", "qa_2",
)
OTHER_TASKS = ("tsort", "bestanswer", "needlebench_single", "needlebench_multi_reasoning", "passkey",
               "nt_single_needle", "nt_multi_thread")
PLAIN_PASSES = 3  # the plain tokenization's time is the median of this many passes
PARAMS: dict[str, dict[str, Any]] = {"qa_1": {"data": "fixture"}, "qa_2": {"data": "fixture"}}


@dataclass
class EncodeCounter:
    """Counts the encodes made through a tokenizer: each call's size in tokens."""

    sizes: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def reset(self) -> None:
        self.sizes.clear()
        self.seconds = 0.0

    def full_size(self, budget: int) -> int:
        return sum(1 for size in self.sizes if size >= budget // 2)


def count_encodes(tokenizer: ModelTokenizer) -> EncodeCounter:
    """Wrap the tokenizer's encode functions (on this instance) in a counter."""
    counter = EncodeCounter()

    def wrap(function: Callable[..., Any], size_of: Callable[[Any], int]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            result = function(*args, **kwargs)
            counter.seconds += time.perf_counter() - started
            counter.sizes.append(size_of(result))
            return result

        return counted

    encode_with_offsets = tokenizer.encode_with_offsets
    encode = tokenizer.encode
    tokenizer.encode_with_offsets = wrap(encode_with_offsets, lambda result: len(result[0]))  # type: ignore[method-assign]
    tokenizer.encode = wrap(encode, len)  # type: ignore[method-assign]
    if tokenizer.fast is not None:  # without the fast path it calls encode_with_offsets, counted above
        count_only = tokenizer.encode_rendered_for_count
        tokenizer.encode_rendered_for_count = wrap(count_only, lambda result: len(result[0]))  # type: ignore[method-assign]
    return counter


def budget_of(task: Any, sample: Any) -> int:
    """The sample's token budget: the task's own rule where it has one (Ada-LEval's tasks)."""
    params = getattr(task, "params", None)
    if hasattr(params, "prompt_budget"):
        return params.prompt_budget(sample.target_length, sample.max_new_tokens)
    return input_budget(sample.target_length, sample.max_new_tokens)


def _median_seconds(work: Callable[[], Any], passes: int = PLAIN_PASSES) -> tuple[float, Any]:
    """The median time of `passes` runs of `work`, and what the last returned: one pass over ten
    32k prompts varies by 15% from pass to pass here, the build's own time much less."""
    times, result = [], None
    for _ in range(passes):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


BASELINES: list[tuple[float, float]] = []  # per task and length: (ids and offsets, ids alone) seconds


def measure(tokenizer: ModelTokenizer, counter: EncodeCounter, name: str, length: int, samples: int) -> str:
    task = make_task(TASKS.get(name), PARAMS.get(name, {}))
    task.build(BuildContext(tokenizer, (length,), (), 2, 99))  # warm the haystack caches (needlebench: en and zh)
    counter.reset()
    started = time.perf_counter()
    built = task.build(BuildContext(tokenizer, (length,), (), samples, 0))
    took = time.perf_counter() - started
    in_encodes = counter.seconds  # before the plain tokenization below, which the counter also sees
    if not built:
        return f"{name:16} {length // 1024:>4}k   0 (no samples)"
    budget = budget_of(task, built[0])
    encoded, full = sum(counter.sizes), counter.full_size(budget)
    prompts = [tokenizer.render(s.messages, answer_prefix=s.answer_prefix) for s in built]
    plain, encodings = _median_seconds(lambda: [tokenizer.encode_rendered(prompt) for prompt in prompts])
    final = sum(len(ids) for ids, _ in encodings)
    ids_alone, _ = _median_seconds(lambda: [tokenizer.prompt_ids(s.messages, s.use_chat_template, s.answer_prefix)
                                            for s in built])
    BASELINES.append((plain, ids_alone))
    shortfall = max(budget_of(task, s) - s.input_tokens for s in built)
    return (
        f"{name:16} {length // 1024:>4}k {len(built):>3} {took / plain:7.2f}x {in_encodes / plain:8.2f}x "
        f"{(took - in_encodes) / plain:6.2f}x {encoded / final:8.2f}x {full / len(built):7.2f} {shortfall:6d}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="32k,128k")
    parser.add_argument("--samples", default="5,2", help="samples per task at each length")
    parser.add_argument("--tasks", default=",".join(RULER_TASKS + OTHER_TASKS))
    parser.add_argument("--model", default=None, help="default: the embedded SmolLM2")
    args = parser.parse_args()
    tokenizer = load_tokenizer(resolve_model(args.model))
    counter = count_encodes(tokenizer)
    lengths = [parse_length(text) for text in args.lengths.split(",")]
    counts = [int(text) for text in args.samples.split(",")]
    print(f"tokenizer {tokenizer.name}")
    print(f"{'task':16} {'length':>5} {'n':>3} {'ratio':>8} {'enc-ratio':>9} {'other':>7} {'tok-ratio':>8} "
          f"{'full/s':>7} {'short':>6}")
    for length, samples in zip(lengths, counts + counts[-1:] * len(lengths), strict=False):  # last count repeats
        for name in args.tasks.split(","):
            print(measure(tokenizer, counter, name, length, samples), flush=True)
    with_offsets, ids_alone = (sum(column) for column in zip(*BASELINES, strict=True))
    print(f"plain tokenization: ids alone (prompt_ids, rendering included) take {ids_alone / with_offsets:.2f}x "
          "the time of ids with offsets (encode_rendered, the baseline above), summed over every row")


if __name__ == "__main__":
    main()
