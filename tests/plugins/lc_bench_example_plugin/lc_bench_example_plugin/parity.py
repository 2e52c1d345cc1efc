"""`example_parity`: find a secret number hidden in filler text.

Each sample records whether its number is even or odd, and the task declares that label as a
report axis, so the leaderboard gets an "example parity" table without lc_bench knowing this task.
Its prompts come close to each requested length (measured with the model's tokenizer) without
the exact fitting the built-in tasks do.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import Field

from lc_bench.axes import LabelAxis, ReportAxes
from lc_bench.errors import UsageError
from lc_bench.lengths import input_budget
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams

QUESTION = "What is the secret number in the text above? Answer with the number only."


class ExampleParityParams(TaskParams):
    filler: str = Field("The grass is green and the sky is blue.", description="the sentence the number hides among")


@TASKS.register("example_parity")
class ExampleParity(TaskBase):
    """One secret number per prompt; exact match on the number."""

    name: ClassVar[str] = "example_parity"
    family: ClassVar[str] = "example"
    description: ClassVar[str] = "Example plugin: find the secret number in filler text (exact match)"
    params_model: ClassVar[type[TaskParams]] = ExampleParityParams
    primary_metric: ClassVar[str] = "exact"
    default_max_new_tokens: ClassVar[int] = 16
    report: ClassVar[ReportAxes] = ReportAxes(
        labels=(
            LabelAxis(
                title="example parity", field="parity", order=("even", "odd"),
                note="the example plugin's parity label",
            ),
        )
    )

    def __init__(self, params: ExampleParityParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        max_new_tokens = context.max_new_tokens or self.default_max_new_tokens
        samples = []
        for length in context.lengths:
            budget = input_budget(length, max_new_tokens)
            for index in range(context.samples_per_cell):
                rng = random.Random(f"{context.seed}|{self.name}|{length}|{index}")
                number = 2 * rng.randint(50, 4999) + index % 2  # both parities at every length
                messages = self._fit(context, number, budget)
                samples.append(
                    Sample(
                        task=self.name,
                        sample_id=f"{length}/{index}",
                        messages=messages,
                        references=(str(number),),
                        target_length=length,
                        input_tokens=context.tokenizer.count(messages),
                        max_new_tokens=max_new_tokens,
                        metadata={"parity": "odd" if number % 2 else "even"},
                    )
                )
        return samples

    def score(self, output: str, references: Sequence[str], metadata: dict[str, Any]) -> dict[str, float]:
        return {"exact": 100.0 if references[0] in output else 0.0}

    def _prompt(self, number: int, repeats: int) -> tuple[ChatMessage, ...]:
        before = " ".join([self.params.filler] * (repeats // 2))
        after = " ".join([self.params.filler] * (repeats - repeats // 2))
        text = f"{before} The secret number is {number}. {after}\n\n{QUESTION}".strip()
        return (ChatMessage(role="user", content=text),)

    def _fit(self, context: BuildContext, number: int, budget: int) -> tuple[ChatMessage, ...]:
        """As many filler sentences as the budget holds: estimated from one sentence, then shrunk."""
        per_sentence = max(1, len(context.tokenizer.encode(self.params.filler + " ")))
        bare = context.tokenizer.count(self._prompt(number, 0))
        if bare > budget:
            raise UsageError(f"a budget of {budget} tokens cannot hold the question ({bare} tokens)")
        repeats = (budget - bare) // per_sentence
        while repeats and context.tokenizer.count(self._prompt(number, repeats)) > budget:
            repeats = repeats * 9 // 10
        return self._prompt(number, repeats)
