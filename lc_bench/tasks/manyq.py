"""`manyq`: K short questions in one prompt, answered in one long response (LongGenBench, Liu et al.).

LongGenBench concatenates GSM8K or MMLU questions; the package generates its own arithmetic word
problems with exact integer answers (seeded), so it runs offline and its answers are certain.
The reply must give `Answer_k: <number>` for every k. Scores: accuracy over all K (the primary),
accuracy over the answered ones, the share answered, and accuracy by position (first, middle and
last third), which is where long sequential answers drift.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

from pydantic import Field

from lc_bench.axes import ReportAxes
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.longgen import final_number, parse_numbered_answers, shape_checks
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.generation import DEFAULT_MAX_OUTPUT_TOKENS, OUTPUT_LENGTH, GenerationSamples

WORDS_PER_ANSWER = 40  # a short reasoning line and the answer line


def word_problem(rng: random.Random) -> tuple[str, int]:
    """One arithmetic word problem and its answer."""
    a, b, c = rng.randint(3, 12), rng.randint(4, 15), rng.randint(2, 9)
    kind = rng.randrange(5)
    if kind == 0:
        sold = rng.randint(1, a * b - 1)
        return (f"A farmer packs {a} crates with {b} apples each and sells {sold} apples. "
                "How many apples are left?", a * b - sold)
    if kind == 1:
        return (f"A bus starts with {a + b} passengers. At the first stop {a} get off and {c} get on. "
                "How many passengers are on the bus now?", b + c)
    if kind == 2:
        return (f"Mia reads {b} pages a day for {a} days and then {c} more pages. "
                "How many pages has she read?", a * b + c)
    if kind == 3:
        return (f"A box holds {c} rows of {b} tiles. How many tiles are in {a} boxes?", a * b * c)
    return (f"Tom has {a * c} marbles and shares them equally among {c} friends, keeping none. "
            "How many marbles does each friend get?", a)


class ManyQParams(TaskParams):
    questions: list[int] = Field([10, 20], description="K questions per prompt; one sample set per K")
    max_output_tokens: int = Field(DEFAULT_MAX_OUTPUT_TOKENS, ge=1)


@TASKS.register("manyq")
class ManyQ(TaskBase):
    """K questions answered in one long response; accuracy overall, answered and by position."""

    name: ClassVar[str] = "manyq"
    family: ClassVar[str] = "longgen"
    report: ClassVar[ReportAxes] = ReportAxes(output_length=OUTPUT_LENGTH)
    description: ClassVar[str] = "LongGenBench (Liu et al.): K questions answered in one response (accuracy)"
    params_model: ClassVar[type[TaskParams]] = ManyQParams
    primary_metric: ClassVar[str] = "accuracy"
    default_max_new_tokens: ClassVar[int] = DEFAULT_MAX_OUTPUT_TOKENS

    def __init__(self, params: ManyQParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        samples = []
        for length in context.lengths:
            batch = GenerationSamples(context, self.name, length, self.params.max_output_tokens)
            for count in self.params.questions:
                for index in range(context.samples_per_cell):
                    rng = random.Random(f"{context.seed}|{self.name}|{length}|{count}|{index}")
                    problems = [word_problem(rng) for _ in range(count)]
                    prompt = "\n".join([
                        f"Answer each of the following {count} questions in order. For each question, reason in "
                        "one short sentence, then write a line of the form 'Answer_k: <number>' (for example "
                        "'Answer_1: 12').",
                        "",
                        *(f"Question_{k}: {text}" for k, (text, _) in enumerate(problems, 1)),
                    ])
                    batch.add(
                        (ChatMessage(role="user", content=prompt),), count * WORDS_PER_ANSWER, f"{count}/{index}",
                        references=tuple(str(answer) for _, answer in problems), metadata={"questions": count},
                    )
            samples += batch.finish()
        return samples

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        return {**manyq_scores(output, list(references)), **shape_checks(output)}


def manyq_scores(output: str, answers: list[str]) -> dict[str, float]:
    given = parse_numbered_answers(output)
    correct = [final_number(given[k]) == answer if k in given else False for k, answer in enumerate(answers, 1)]
    answered = sum(1 for k in range(1, len(answers) + 1) if k in given)
    thirds = [correct[i * len(correct) // 3:(i + 1) * len(correct) // 3] for i in range(3)]
    scores = {
        "accuracy": 100.0 * sum(correct) / len(correct),
        "answered": 100.0 * answered / len(correct),
        "accuracy_answered": 100.0 * sum(correct) / answered if answered else 0.0,
    }
    for name, part in zip(("first_third", "middle_third", "last_third"), thirds, strict=True):
        scores[name] = 100.0 * sum(part) / len(part) if part else 0.0
    return scores
