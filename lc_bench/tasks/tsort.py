"""`tsort`: Ada-LEval's TSort at any token length, with the model's own tokenizer.

A window of consecutive text is cut from a corpus (the package's generated chronicle by default; a
folder of books, FILE.jsonl:FIELD or hf:ID), split into N parts at sentence starts near equal
sizes, shuffled, and the model is asked for the original order. The window's size is fitted so the
rendered prompt lands on the token budget (target length minus the output budget), as the needle
tasks do. The text just before and after the window is shown as hints, as in the original.

`data=textsort_8k.json` instead reads Ada-LEval's published pre-built files (their `prompt` and
`answer` fields), so the paper's own setting can sit next to the adaptive one; those samples are
placed at the file's length (`8k` -> 8192), whatever --lengths says.

Scores: exact order (published; random 1/N!), Kendall tau and the share of parts in the right
place (partial ability), valid; extraction in lc_bench/scoring/adaleval.py.

The published protocol (suite `adaleval-paper`) is a set of parameters both Ada-LEval tasks share
(`AdaLEvalParams`): at most 200 samples per cell from 32k (Ada-LEval's dataset.py keeps the first
1000 records of a setting below 32k and 200 from 32k), lengths that count the prompt alone (its
settings measure the prompt; the 1024-token reply budget comes on top) and the lengths each task
was published at.
"""

from __future__ import annotations

import json
import random
import re
from bisect import bisect_left
from functools import lru_cache
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from lc_bench.axes import ReportAxes
from lc_bench.errors import UsageError
from lc_bench.lengths import format_length, input_budget, parse_lengths
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.adaleval import tsort_random_baseline, tsort_scores
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.chronicle import chronicle
from lc_bench.tasks.datafiles import read_adaleval_file
from lc_bench.tasks.fitting import fit_to_budget, window_encoder
from lc_bench.tasks.haystack import TokenHaystack, load_corpus, tokenize_haystack

CHRONICLE_TOKENS_PER_PARAGRAPH = 90  # a low estimate, so the generated corpus is long enough
ULTRA_LONG = 32 * 1024  # Ada-LEval's "ultra-long-context" settings: 32k and above


class AdaLEvalParams(TaskParams):
    """The parameters both Ada-LEval tasks share. They are left out of the parameters' repr, which
    seeds the samples: a sample's text never depends on them beyond the budget they give."""

    samples_from_32k: int | None = Field(
        None, ge=1, repr=False,
        description="at most this many samples per cell at lengths of 32k and above (Ada-LEval: 1000 below 32k, "
                    "200 from 32k)")
    length_basis: Literal["window", "prompt"] = Field(
        "window", repr=False,
        description="window: prompt + output budget fill the length; prompt: the prompt alone does, the output "
                    "budget comes on top (Ada-LEval's settings)")
    only_lengths: str | None = Field(
        None, repr=False, description="build only at these of the run's lengths, e.g. 2k:128k (others are left out)")

    @field_validator("only_lengths")
    @classmethod
    def _lengths_parse(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_lengths(value)
            except UsageError as exc:
                raise ValueError(str(exc)) from None
        return value

    def lengths_of(self, lengths: tuple[int, ...]) -> tuple[int, ...]:
        """The run's lengths this task builds at."""
        if self.only_lengths is None:
            return lengths
        allowed = set(parse_lengths(self.only_lengths))
        return tuple(length for length in lengths if length in allowed)

    def samples_at(self, length: int, samples_per_cell: int) -> int:
        """Samples at a length: the run's count, capped from 32k by `samples_from_32k`."""
        if self.samples_from_32k is not None and length >= ULTRA_LONG:
            return min(samples_per_cell, self.samples_from_32k)
        return samples_per_cell

    def prompt_budget(self, length: int, max_new_tokens: int) -> int:
        """The prompt's token budget at a length."""
        return length if self.length_basis == "prompt" else input_budget(length, max_new_tokens)


class TSortParams(AdaLEvalParams):
    segments: int = Field(4, ge=2, le=20, description="parts to order (published: 4; random exact = 1/N!)")
    corpus: str = Field("chronicle", description="chronicle | essay | folder of .txt | FILE.jsonl:FIELD | hf:ID")
    hints: bool = Field(True, description="show the text just before and after the parts, as Ada-LEval does")
    hint_tokens: int = Field(96, ge=8, description="tokens of each hint")
    data: str | None = Field(None, description="Ada-LEval textsort_*.json: use its pre-built prompts instead")
    extraction: Literal["strict", "compat"] = Field("strict", description="compat: Ada-LEval's published parser")


def instruction(n: int, hints: bool) -> str:
    """Ada-LEval's TSort instruction, for N parts (the paper's wording, its sample answer for N=4)."""
    example = [4, 1, 3, 2] if n == 4 else [n, *range(1, n)]
    arrows = " -> ".join(f"Part {i}" for i in example)
    sample_parts = "\n".join(f"Part {i}: XXX" for i in range(1, n + 1))
    lines = [
        "You are an AI assistant. Your job is to sort multiple book sections into the correct order.",
        f"Each time, you will be provided with {n} pieces of text.",
        "These texts form a continuous part of a book, but are provided in random order.",
        "You need to find the correct order and return the answer in a string.",
        f"For example, if you output {example}, that means the correct order is: {arrows}.",
    ]
    if hints:
        lines.append(f"You will also be provided with the neighboring paragraphs before and after the {n} pieces "
                     "of texts.")
    lines += [
        "The case sample is shown below and you should give me the answer in the format exactly the same as the "
        "sample.",
        "However, you should NOT focus on the content of sample answer.",
        "Please do NOT output any extra content.",
        "Sample Input (format only):",
        *(["Before: XXX (Text before the continuous book part)"] if hints else []),
        sample_parts,
        *(["After: XXX (Text after the continuous book part)"] if hints else []),
        "Sample Output (format only):",
        f"Answer: {example}",
    ]
    return "\n".join(lines)


def render_question(parts: list[str], before: str | None, after: str | None) -> str:
    blocks = ["The question you need to answer is given below."]
    if before is not None:
        blocks.append(f"Before: {before}")
    blocks += [f"Part {index}: {text}" for index, text in enumerate(parts, 1)]
    if after is not None:
        blocks.append(f"After: {after}")
    blocks.append("Now you need to find the correct order of these parts.")
    return "\n\n".join(blocks)


@TASKS.register("tsort")
class TSort(TaskBase):
    """Order N shuffled consecutive parts of a text (Ada-LEval TSort), built at any length."""

    name: ClassVar[str] = "tsort"
    family: ClassVar[str] = "adaleval"
    # each sample states its random-guess score; Ada-LEval prints it beside every length
    report: ClassVar[ReportAxes] = ReportAxes(baseline_field="random_baseline")
    description: ClassVar[str] = "TSort: order N shuffled parts of a text (exact order; Kendall tau; positions)"
    params_model: ClassVar[type[TaskParams]] = TSortParams
    primary_metric: ClassVar[str] = "exact"
    default_max_new_tokens: ClassVar[int] = 64

    def __init__(self, params: TSortParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        if self.params.data:
            return self._prebuilt(context)
        max_new = context.max_new_tokens or self.default_max_new_tokens
        lengths = self.params.lengths_of(context.lengths)
        if not lengths:
            return []
        longest = max(self.params.prompt_budget(length, max_new) for length in lengths)
        corpus = self._corpus(context, longest)
        samples = []
        for length in lengths:
            budget = self.params.prompt_budget(length, max_new)
            for index in range(self.params.samples_at(length, context.samples_per_cell)):
                rng = random.Random(f"{context.seed}|{self.name}|{self.params!r}|{length}|{index}")
                samples.append(self._sample(context, corpus, rng, length, budget, index, max_new))
        return samples

    def _corpus(self, context: BuildContext, longest_budget: int) -> TokenHaystack:
        """The tokenized corpus, long enough for the longest budget plus both hints."""
        hint = self.params.hint_tokens if self.params.hints else 0
        needed = longest_budget + 2 * hint + 1
        if self.params.corpus == "chronicle":
            text = chronicle(needed // CHRONICLE_TOKENS_PER_PARAGRAPH + 16)
        else:
            text = load_corpus(self.params.corpus)
        passages = sum(1 for block in re.split(r"\n\s*\n", text) if block.strip())
        if passages < self.params.segments:
            raise UsageError(f"corpus {self.params.corpus} has {passages} passages, fewer than the "
                             f"{self.params.segments} segments asked for")
        tokens = tokenize_haystack(context.tokenizer, text, 0, repeat=False)
        if len(tokens.ids) < needed:
            raise UsageError(
                f"corpus {self.params.corpus} has {len(tokens.ids)} tokens, too small for the length: a "
                f"{format_length(longest_budget)}-token prompt needs {needed} (a repeat would make the order ambiguous)"
            )
        return tokens

    def _sample(
        self, context: BuildContext, corpus: TokenHaystack, rng: random.Random, length: int, budget: int,
        index: int, max_new: int,
    ) -> Sample:
        tokenizer = context.tokenizer
        n = self.params.segments
        hint = self.params.hint_tokens if self.params.hints else 0
        ids, starts = corpus.ids, corpus.sentence_starts
        latest_start = len(ids) - budget - hint
        start = _snap_forward(starts, rng.randint(hint, max(hint, latest_start)), latest_start)
        order = list(range(n))
        rng.shuffle(order)  # shown part j holds original segment order[j]; uniform, so 1/N! is the floor
        head = instruction(n, self.params.hints)

        @lru_cache(maxsize=4 * n + 8)
        def text_of(a: int, b: int) -> str:
            return tokenizer.decode(ids[a:b]).strip()

        def parts_of(units: int) -> tuple[list[str], str | None, str | None]:
            # sizes tried a few tokens apart cut most segments at the same sentence starts: each
            # stretch is decoded once per sample (decoding was a quarter of a 128k sample's build)
            bounds = _split_points(starts, start, start + units, n)
            segments = [text_of(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
            shown = [segments[original] for original in order]
            before = text_of(start - hint, start) if hint else None
            after = text_of(start + units, start + units + hint) if hint else None
            return shown, before, after

        def render(units: int) -> str:
            shown, before, after = parts_of(units)
            content = head + "\n\n" + render_question(shown, before, after)
            return tokenizer.render((ChatMessage(role="user", content=content),))

        # sizes differ at the last segment's end and in the context after the window: spliced, not re-encoded
        fitted = fit_to_budget(render, tokenizer.encode_rendered, budget, max_units=budget, unit_tokens=1.0,
                               encode_window=window_encoder(tokenizer))
        if fitted.units < n:
            raise UsageError(f"length {format_length(length)} leaves no room for {n} segments")
        shown, before, after = parts_of(fitted.units)
        # answer[k]: the shown part that holds original segment k
        answer = [order.index(original) + 1 for original in range(n)]
        return Sample(
            task=self.name,
            sample_id=f"{self.name}/{format_length(length)}/{index}",
            messages=(ChatMessage(role="user", content=head + "\n\n" + render_question(shown, before, after)),),
            references=(json.dumps(answer),),
            target_length=length,
            input_tokens=len(fitted.ids),
            max_new_tokens=max_new,
            metadata={"segments": n, "window_tokens": fitted.units, "start_token": start,
                      "random_baseline": tsort_random_baseline(n), "corpus": self.params.corpus},
        )

    def _prebuilt(self, context: BuildContext) -> list[Sample]:
        """Ada-LEval's own textsort_<setting>.json samples, at the file's setting length."""
        path, length, rows = read_adaleval_file(self.params.data, ("prompt", "answer"), "textsort_8k.json")
        max_new = context.max_new_tokens or self.default_max_new_tokens
        samples = []
        for index, row in enumerate(rows[: self.params.samples_at(length, context.samples_per_cell)]):
            answer = json.loads(row["answer"]) if isinstance(row["answer"], str) else list(row["answer"])
            messages = (ChatMessage(role="user", content=row["prompt"]),)
            samples.append(Sample(
                task=self.name, sample_id=f"{self.name}/{format_length(length)}/{index}", messages=messages,
                references=(json.dumps(answer),), target_length=length,
                input_tokens=context.tokenizer.count(messages), max_new_tokens=max_new,
                metadata={"segments": len(answer), "random_baseline": tsort_random_baseline(len(answer)),
                          "data_source": str(path), "book_id": row.get("book_id")},
            ))
        return samples

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        return tsort_scores(output, json.loads(references[0]), self.params.extraction)


def _snap_forward(starts: tuple[int, ...], position: int, limit: int) -> int:
    """The first sentence start at or after `position` (not past `limit`), else `position`."""
    index = bisect_left(starts, position)
    return starts[index] if index < len(starts) and starts[index] <= limit else position


def _split_points(starts: tuple[int, ...], begin: int, end: int, n: int) -> list[int]:
    """n+1 bounds from begin to end: near-equal parts, each cut moved to the nearest sentence start
    that keeps every part non-empty."""
    bounds = [begin]
    for k in range(1, n):
        target = begin + (end - begin) * k // n
        low, high = bounds[-1] + 1, end - (n - k)
        index = bisect_left(starts, target)
        candidates = [s for s in starts[max(0, index - 1):index + 1] if low <= s <= high]
        cut = min(candidates, key=lambda s: abs(s - target)) if candidates else min(max(target, low), high)
        bounds.append(cut)
    bounds.append(end)
    return bounds

