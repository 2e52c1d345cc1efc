"""Passkey retrieval in the format of Landmark Attention (Mohtashami & Jaggi 2023,
github.com/epfml/landmark-attention, llama/run_test.py `generate_prompt`), the one LM-Infinite reuses.

The prompt is, joined by newlines: the task description, filler before the key, the information
line, filler after it, and the question, with the original's wording:

    There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I will quiz you
    about the important information there.
    The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. The grass ...
    The pass key is 12345. Remember it. 12345 is the pass key.
    The grass is green. ...
    What is the pass key? The pass key is

Scoring is the original's: the first run of digits in the reply, read as an integer, must equal the
pass key (`int(re.search(r'\\d+', response).group()) == pass_key`): `exact`, the primary metric.
`contains` (the key anywhere in the reply) is reported beside it.

Deviations (also in the README): the key is a 5-digit number (`rng.randint(10000, 99999)`; the
original draws `randint(1, 50000)`); filler is cut at whole repeats of the filler sentence group
(the original cuts the repeated text at a character count, mid-word) so the token count is exact;
the depth is a grid depth (the share of the filler repeats before the key) or, with `--depths random`
or none given, a uniform random share as the original's `randint(0, n_garbage)`. With `chat=True`
(the default) the prompt goes through the chat template, the question ends the user turn and
"The pass key is" starts the assistant's; `chat=False` is the original's single completion prompt.

Exact lengths cost one full tokenization: the prompt's token count is linear in the number of filler
repeats (each repeat is the same text after the same seam), so the count is measured on a few small
prompts, the largest count that fits is solved for, and one encode of the finished prompt checks it
(a tokenizer that breaks linearity falls back to `fit_to_budget`).
"""

from __future__ import annotations

import random
import re
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import Field, model_validator

from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.fitting import fit_to_budget
from lc_bench.tasks.niah import focus_excerpt
from lc_bench.tokenizers import ModelTokenizer

TASK_DESCRIPTION = (
    "There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. "
    "I will quiz you about the important information there."
)
GARBAGE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
INFORMATION = "The pass key is {key}. Remember it. {key} is the pass key."
QUESTION = "What is the pass key?"
ANSWER_START = "The pass key is"
PROBE_REPEATS = (4, 5, 9)  # small sizes whose counts give the line and check it


class PasskeyParams(TaskParams):
    chat: bool = Field(True, description="chat template, 'The pass key is' starting the reply (False: one raw prompt)")
    min_key: int = Field(10000, ge=0, description="smallest pass key")
    max_key: int = Field(99999, ge=0, description="largest pass key")

    @model_validator(mode="after")
    def _ordered(self) -> PasskeyParams:
        if self.min_key > self.max_key:
            raise ValueError("min_key must not exceed max_key")
        return self


def passkey_scores(output: str, passkey: str) -> dict[str, float]:
    """Landmark Attention's rule (`exact`): the reply's first integer equals the key; and `contains`
    (x100, the leaderboard's scale)."""
    match = re.search(r"\d+", output)
    exact = match is not None and int(match.group()) == int(passkey)
    return {"exact": 100.0 * exact, "contains": 100.0 * (passkey in output)}


@TASKS.register("passkey")
class Passkey(TaskBase):
    """A 5-digit pass key in repeated filler at a depth (Landmark Attention / LM-Infinite format)."""

    name: ClassVar[str] = "passkey"
    description: ClassVar[str] = "passkey retrieval in repeated filler (Landmark Attention / LM-Infinite format)"
    params_model: ClassVar[type[TaskParams]] = PasskeyParams
    family: ClassVar[str] = "passkey"
    primary_metric: ClassVar[str] = "exact"
    default_max_new_tokens: ClassVar[int] = 10  # the original's max_new_tokens
    grid_task: ClassVar[bool] = True
    grid_depths: ClassVar[bool] = True
    builds_indices: ClassVar[bool] = True

    def __init__(self, params: PasskeyParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        max_new = context.max_new_tokens or self.default_max_new_tokens
        return [
            self.build_sample(
                context.tokenizer, cell.rng, cell.length, cell.budget, cell.depth, cell.sample_id, max_new
            )
            for cell in self.depth_cells(context, max_new)
        ]

    def _messages(self, key: int, before: int, after: int) -> tuple[tuple[ChatMessage, ...], str]:
        """(messages, answer prefix) with `before` and `after` filler repeats around the key."""
        lines = [
            TASK_DESCRIPTION,
            " ".join([GARBAGE] * before),
            INFORMATION.format(key=key),
            " ".join([GARBAGE] * after),
            QUESTION if self.params.chat else f"{QUESTION} {ANSWER_START}",
        ]
        return (ChatMessage(role="user", content="\n".join(lines)),), ANSWER_START if self.params.chat else ""

    def build_sample(
        self,
        tokenizer: ModelTokenizer,
        rng: random.Random,
        length: int,
        budget: int,
        depth: float | None,
        sample_id: str,
        max_new: int,
    ) -> Sample:
        key = rng.randint(self.params.min_key, self.params.max_key)
        share = rng.random() if depth is None else depth / 100
        chat = self.params.chat

        def split(n: int) -> tuple[int, int]:
            before = round(n * share)
            if 0 < share < 1 and n >= 2:  # a depth inside the text keeps filler on both sides
                before = min(max(before, 1), n - 1)
            return before, n - before

        def render(n: int) -> str:
            messages, prefix = self._messages(key, *split(n))
            return tokenizer.render(messages, use_chat_template=chat, answer_prefix=prefix)

        def encode(text: str) -> tuple[list[int], list[int]]:
            return tokenizer.encode_rendered(text, use_chat_template=chat)

        # the count is linear in n once both sides hold filler: measure it on small sizes
        counts = {n: len(encode(render(n))[0]) for n in PROBE_REPEATS}
        small, next_, check = PROBE_REPEATS
        per_repeat = counts[next_] - counts[small]
        linear = per_repeat > 0 and counts[check] == counts[small] + per_repeat * (check - small)
        fitted_text, ids, offsets, units = "", [], [], 0
        if linear:
            units = max(0, small + (budget - counts[small]) // per_repeat)
            fitted_text = render(units)
            ids, offsets = encode(fitted_text)
            predicted = counts[small] + per_repeat * (units - small)
            linear = len(ids) == predicted and len(ids) <= budget
        if not linear:
            memory = {0: (small, counts[small], counts[small] - per_repeat * small)} if per_repeat > 0 else None
            fitted = fit_to_budget(render, encode, budget, max(16, budget), max(1, per_repeat), memory=memory, key=0)
            fitted_text, ids, offsets, units = fitted.text, fitted.ids, fitted.offsets, fitted.units
        before, after = split(units)
        messages, prefix = self._messages(key, before, after)
        information = INFORMATION.format(key=key)
        needle_char = fitted_text.index(information)
        needle_token = bisect_right(offsets, needle_char) - 1
        overhead = tokenizer.count(self._messages(key, 0, 0)[0], use_chat_template=chat, answer_prefix=prefix)
        overhead -= len(tokenizer.encode(information))
        return Sample(
            task=self.name,
            sample_id=sample_id,
            messages=messages,
            references=(str(key),),
            target_length=length,
            input_tokens=len(ids),
            template_overhead=max(0, overhead),
            max_new_tokens=max_new,
            use_chat_template=chat,
            answer_prefix=prefix,
            depth=depth if depth is not None else round(100 * share, 2),
            needle_token_position=needle_token,
            focus_excerpt=focus_excerpt(fitted_text, needle_char, needle_char + len(information)),
            metadata={
                "filler_repeats": units,
                "repeats_before": before,
                # the share of the filler repeats before the key
                "actual_depth": round(100.0 * before / max(1, units), 2),
                "linear_fit": linear,
            },
        )

    def score(self, output: str, references: Sequence[str], metadata: dict[str, Any]) -> dict[str, float]:
        return passkey_scores(output, references[0])
