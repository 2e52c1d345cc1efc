"""Needle in a haystack: one needle at a requested depth, in a prompt of an exact token length.

RULER's niah template and needle wording; the needle goes between sentences at the requested
depth (percent of the haystack); the rendered chat prompt plus the output budget fills the
target length as closely as the tokenizer allows.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.lengths import format_length, input_budget
from lc_bench.metrics.ruler import ruler_scores
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.tasks.base import BuildContext, TaskParams
from lc_bench.tasks.fitting import fit_to_budget
from lc_bench.tasks.haystack import TokenHaystack, load_corpus, tokenize_haystack
from lc_bench.tasks.words import SINGULAR, VALUE_GENERATORS, random_key

INSTRUCTION = (
    "Some special magic {kind} are hidden within the following text. Make sure to memorize it. "
    "I will quiz you about the {kind} afterwards."
)
QUESTION = "What is the special magic {singular} for {key} mentioned in the provided text?"
ANSWER_PREFIX = "The special magic {singular} for {key} mentioned in the provided text is"
NEEDLE = "One of the special magic {kind} for {key} is: {value}."


class NeedleParams(TaskParams):
    haystack: str = Field("essay", description="essay | noise | folder of .txt | FILE.jsonl:FIELD | hf:ID")
    value_type: Literal["numbers", "uuids", "words"] = "numbers"
    answer_prefix: bool = Field(True, description="start the answer for the model (off for reasoning models)")
    repeat_haystack: bool = Field(True, description="repeat the corpus when it is shorter than the length")


@TASKS.register("niah_single")
class SingleNeedle:
    """One key-value needle; the model must return the value."""

    name: ClassVar[str] = "niah_single"
    description: ClassVar[str] = "single needle (RULER niah_single_2 style) at a requested depth"
    params_model: ClassVar[type[TaskParams]] = NeedleParams
    primary_metric: ClassVar[str] = "string_match_all"
    default_max_new_tokens: ClassVar[int] = 128

    def __init__(self, params: NeedleParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        max_new = context.max_new_tokens or self.default_max_new_tokens
        longest = max(context.lengths)
        corpus = load_corpus(self.params.haystack)
        haystack = tokenize_haystack(context.tokenizer, corpus, longest, self.params.repeat_haystack)
        samples = []
        for length in context.lengths:
            budget = input_budget(length, max_new)
            for depth in context.depths:
                for index in range(context.samples_per_cell):
                    rng = random.Random(f"{context.seed}|{self.name}|{self.params!r}|{length}|{depth}|{index}")
                    samples.append(
                        self._sample(context, haystack, rng, length, budget, depth, index, max_new)
                    )
        return samples

    def _sample(
        self,
        context: BuildContext,
        haystack: TokenHaystack,
        rng: random.Random,
        length: int,
        budget: int,
        depth: float,
        index: int,
        max_new: int,
    ) -> Sample:
        tokenizer = context.tokenizer
        kind = self.params.value_type
        key, value = random_key(rng), VALUE_GENERATORS[kind](rng)
        needle = NEEDLE.format(kind=kind, key=key, value=value)
        singular = SINGULAR[kind]
        prefix = ANSWER_PREFIX.format(singular=singular, key=key) if self.params.answer_prefix else ""

        def messages_for(hay: str) -> tuple[ChatMessage, ...]:
            body = "\n".join(
                [INSTRUCTION.format(kind=kind), hay, QUESTION.format(singular=singular, key=key)]
            )
            return (ChatMessage(role="user", content=body),)

        def context_text(n_tokens: int) -> str:
            point = haystack.boundary_near(round(n_tokens * depth / 100.0), n_tokens)
            left = tokenizer.decode(haystack.ids[:point]).rstrip()
            right = tokenizer.decode(haystack.ids[point:n_tokens]).lstrip()
            return " ".join(part for part in (left, needle, right) if part)

        empty = tokenizer.count(messages_for(""), answer_prefix=prefix)
        guess = budget - empty - len(tokenizer.encode(needle)) - 1
        fitted = fit_to_budget(
            render=lambda n: tokenizer.render(messages_for(context_text(n)), answer_prefix=prefix),
            encode=tokenizer.encode_rendered,
            budget=budget,
            first_guess=guess,
            max_haystack=len(haystack.ids),
        )
        point = haystack.boundary_near(round(fitted.haystack_tokens * depth / 100.0), fitted.haystack_tokens)
        needle_char = fitted.text.index(needle)
        needle_token = sum(1 for start in fitted.offsets if start < needle_char)
        hay = context_text(fitted.haystack_tokens)
        return Sample(
            task=self.name,
            sample_id=f"{self.name}/{format_length(length)}/d{depth:g}/{index}",
            messages=messages_for(hay),
            references=(value,),
            target_length=length,
            input_tokens=len(fitted.ids),
            template_overhead=empty,
            max_new_tokens=max_new,
            answer_prefix=prefix,
            depth=depth,
            needle_token_position=needle_token,
            metadata={
                "key": key,
                "haystack": self.params.haystack,
                "haystack_tokens": fitted.haystack_tokens,
                "haystack_repeats": haystack.repeats,
                "actual_depth": round(100.0 * point / max(1, fitted.haystack_tokens), 2),
            },
        )

    def score(self, output: str, references: Sequence[str], metadata: dict[str, Any]) -> dict[str, float]:
        return ruler_scores(output, references)
