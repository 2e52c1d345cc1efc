"""Length control speed: building N needle samples at L tokens, against two baselines measured
in the same run on the same prompts.

(a) one plain tokenization of each finished prompt: the floor any exact-length method pays to
    know a prompt's length. Target: lc_bench within 2x of it.
(b) binary search over the haystack size with a whole re-tokenization per step, per sample,
    down to the same exactness (RULER's method since 2025, made exact). Target: 10x faster.
(c) RULER as shipped, for reference: one binary search per length in 500-word units, then per
    sample a regenerate-and-step-down; cheaper, but its prompts fall short of the target by up to
    a unit, so it is not an exact-length method.

Usage: python benchmarks/length_control.py [--samples 100] [--length 128k] [--model PATH]
Every other task's fitting cost (RULER, qa, tsort, bestanswer): benchmarks/fitting_cost.py.
"""

from __future__ import annotations

import argparse
import statistics
import time

from lc_bench.lengths import input_budget, parse_length
from lc_bench.models import resolve_model
from lc_bench.schema import ChatMessage
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.haystack import default_essays
from lc_bench.tasks.niah import Niah
from lc_bench.tokenizers import load_tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--search-samples", type=int, default=10,
                        help="samples the binary search (b) is timed on, scaled to --samples (0: all of them)")
    parser.add_argument("--length", default="128k")
    parser.add_argument("--model", default=None, help="default: the embedded SmolLM2")
    args = parser.parse_args()
    length = parse_length(args.length)
    tokenizer = load_tokenizer(resolve_model(args.model))
    task = make_task(Niah, {})
    depths = tuple(round(100 * i / max(1, args.samples - 1), 2) for i in range(args.samples))
    context = BuildContext(tokenizer, (length,), depths, 1, 0)

    task.build(BuildContext(tokenizer, (length,), (50.0,), 1, 99))  # warm the haystack cache
    started = time.perf_counter()
    samples = task.build(context)
    ours = time.perf_counter() - started
    budget = input_budget(length, samples[0].max_new_tokens)
    shortfall = [budget - s.input_tokens for s in samples]

    prompts = [tokenizer.render(s.messages, answer_prefix=s.answer_prefix) for s in samples]
    started = time.perf_counter()
    for prompt in prompts:
        tokenizer.encode_rendered(prompt)
    plain = time.perf_counter() - started

    corpus_words = (default_essays() + "\n\n") * (length // 4000 + 2)
    words = corpus_words.split(" ")

    def prompt_with(n_words: int, sample_index: int) -> str:
        sample = samples[sample_index]
        needle = f"One of the special magic numbers for {sample.metadata['query']} is: {sample.references[0]}."
        hay = words[:n_words]
        point = int(len(hay) * (sample.depth or 0) / 100)
        text = " ".join([*hay[:point], needle, *hay[point:]])
        content = sample.messages[0].content
        head = content[: content.index("\n") + 1]
        tail = content[content.rindex("\n") :]
        messages = (ChatMessage(role="user", content=head + text + tail),)
        return tokenizer.render(messages, answer_prefix=sample.answer_prefix)

    def count(text: str) -> int:
        return len(tokenizer.encode_rendered(text)[0])

    # (b) is slow: timed on --search-samples samples and scaled to N, which the output says
    search_samples = args.samples if args.search_samples <= 0 else min(args.samples, args.search_samples)
    started = time.perf_counter()
    steps = []
    for index in range(search_samples):
        low, high, taken = 0, len(words), 0
        while low < high:
            middle = (low + high + 1) // 2
            taken += 1
            if count(prompt_with(middle, index)) <= budget:
                low = middle
            else:
                high = middle - 1
        steps.append(taken)
    binary = (time.perf_counter() - started) * args.samples / search_samples

    started = time.perf_counter()
    low, high = 0, 3 * (budget // 500 + 1)
    while low < high:  # RULER as shipped: units of 500 words, once per length
        middle = (low + high + 1) // 2
        if count(prompt_with(middle * 500, 0)) <= budget:
            low = middle
        else:
            high = middle - 1
    ruler_shortfall = []
    for index in range(args.samples):
        units = low
        while (measured := count(prompt_with(units * 500, index))) > budget:
            units -= 1
        ruler_shortfall.append(budget - measured)
    ruler = time.perf_counter() - started

    rows = [
        f"{args.samples} samples at {args.length} ({budget} input tokens each), tokenizer {tokenizer.name}",
        f"lc_bench build                   {ours:8.2f} s   shortfall mean {statistics.mean(shortfall):.1f} "
        f"tokens, max {max(shortfall)}",
        f"(a) one plain tokenization each  {plain:8.2f} s   ratio lc_bench / (a) = {ours / plain:.2f}x "
        "(target <= 2x)",
        f"(b) exact binary search          {binary:8.2f} s   (b) / lc_bench = {binary / ours:.1f}x faster "
        f"(target >= 10x); {statistics.mean(steps):.1f} tokenizations per sample; "
        + ("timed on all samples" if search_samples == args.samples else
           f"timed on {search_samples} of {args.samples} samples and scaled (--search-samples 0: all)"),
        f"(c) RULER as shipped             {ruler:8.2f} s   shortfall mean {statistics.mean(ruler_shortfall):.1f} "
        "tokens (not exact; for reference)",
    ]
    print("\n".join(rows))


if __name__ == "__main__":
    main()
