"""`bestanswer`: Ada-LEval's BestAnswer at any token length.

A question, its accepted answer and distractors, designated A1..An in a seeded random order, in
Ada-LEval's own prompt. Length is controlled by the number of distractors (the question's own
other answers first, then answers to other questions); one more distractor is cut at a token
boundary so the prompt lands on the budget (exact, or a token under where a seam merges tokens).
Random baseline: 1 / number of candidates, stored per sample and shown beside every length.

`data=stackselect_1k.json` reads Ada-LEval's published pre-built files instead: their answers in
their order, at the file's length (`1k` -> 1024), for comparison with the paper's tables.

Extraction (lc_bench/scoring/adaleval.py): strict by default ("Answer: A4"; several options named
is wrong); `extraction=compat` is the published highest-index rule, which inflates scores.
The published sample counts, length basis and lengths are parameters shared with TSort
(`samples_from_32k`, `length_basis`, `only_lengths`; see lc_bench/tasks/tsort.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.axes import ReportAxes
from lc_bench.errors import UsageError
from lc_bench.lengths import format_length
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.adaleval import bestanswer_scores
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.bestanswer_fit import predicted_choice
from lc_bench.tasks.datafiles import read_adaleval_file
from lc_bench.tasks.fitting import FitMemory, fit_to_budget, window_encoder
from lc_bench.tasks.qa_pool import PoolQuestion, filler_answers, load_pool
from lc_bench.tasks.tsort import AdaLEvalParams

# Ada-LEval's StackSelect meta prompt and closing instruction, verbatim (ada_leval/dataset.py),
# including the trailing space after "to the question." and the literal "\\n" markers
_DECIDE = "Now the answers are over, please decide which answer is the most helpful one to the question. \n"
META_PROMPT = (
    "\nYou are an AI assistant. Your job is to find out the most helpful answer to a given question.\n"
    "Each time, you will be provided with a question and n answers to this question.\n"
    "Each answer begins with an 'A' and a number(e.g. A4), which represents its designation.\n"
    "You need to determine which answer is the most helpful one to the question.\n"
    "The case sample is shown below and you should give me the answer in the format exactly the same as the "
    "sample. \n\n"
    "However, you should NOT focus on the content of sample answer. \n\n"
    "Sample Input (format only): \n\n"
    "The question is given below.\nXXX(The content of question)\nPossible answers are given below.\n"
    "A1:\nXXX(The content of answer 1)\nA2:\nXXX(The content of answer 2)\n.\n.\n.\nAn:\n"
    "XXX(The content of answer n)\n"
    + _DECIDE
    + "You must give me only the designation of the MOST helpful answer.\n"
    "Sample Output (format only): \n\n"
    "Answer: The designation of the most helpful answer.(e.g. A4 means answer 4 is the most helpful answer) \n\n\n"
)
END_PROMPT = "\n" + _DECIDE + "You must give me only the designation of the MOST helpful answer.\n"
MAX_DISTRACTORS = 5000


def build_prompt(question: str, answers: list[str]) -> str:
    """Ada-LEval's StackSelect.build_prompt layout."""
    blocks = "".join(f"A{number}:\n\n{answer}\n\n" for number, answer in enumerate(answers, 1))
    head = META_PROMPT + "The question is given below.\n" + question + "\n\n"
    return head + "Possible answers are given below.\n" + blocks + END_PROMPT


class BestAnswerParams(AdaLEvalParams):
    data: str = Field("synthetic", description="synthetic | FILE.jsonl (question, answers, accepted) | "
                                               "Ada-LEval stackselect_*.json (pre-built)")
    extraction: Literal["strict", "compat"] = Field("strict", description="compat: Ada-LEval's highest-index rule")


@TASKS.register("bestanswer")
class BestAnswer(TaskBase):
    """Pick the accepted answer among distractors (Ada-LEval BestAnswer), built at any length."""

    name: ClassVar[str] = "bestanswer"
    family: ClassVar[str] = "adaleval"
    # each sample states its random-guess score; Ada-LEval prints it beside every length
    report: ClassVar[ReportAxes] = ReportAxes(baseline_field="random_baseline")
    description: ClassVar[str] = "BestAnswer: pick the accepted answer among distractors (accuracy)"
    params_model: ClassVar[type[TaskParams]] = BestAnswerParams
    primary_metric: ClassVar[str] = "accuracy"
    default_max_new_tokens: ClassVar[int] = 32

    def __init__(self, params: BestAnswerParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        if self.params.data.endswith(".json"):
            return self._prebuilt(context)
        pool = load_pool(self.params.data)
        max_new = context.max_new_tokens or self.default_max_new_tokens
        samples = []
        memory: FitMemory = {}  # per build: each sample's first guess learns from the last of its length
        for length in self.params.lengths_of(context.lengths):
            budget = self.params.prompt_budget(length, max_new)
            for index in range(self.params.samples_at(length, context.samples_per_cell)):
                rng = random.Random(f"{context.seed}|{self.name}|{self.params!r}|{length}|{index}")
                question = pool[(context.seed + index) % len(pool)] if len(pool) > 1 else pool[0]
                samples.append(self._sample(context, pool, question, rng, length, budget, index, max_new, memory))
        return samples

    def _sample(
        self, context: BuildContext, pool: list[PoolQuestion], question: PoolQuestion, rng: random.Random,
        length: int, budget: int, index: int, max_new: int, memory: FitMemory | None = None,
    ) -> Sample:
        tokenizer = context.tokenizer
        distractors = list(question.same_question_distractors)
        distractors += filler_answers(pool, question.qid, rng, MAX_DISTRACTORS - len(distractors))
        # a fixed random key per candidate: adding distractors never reorders those already placed
        keys = [rng.random() for _ in range(len(distractors) + 1)]

        @cache
        def distractor_ids(j: int) -> list[int]:
            return tokenizer.encode(distractors[j])

        def candidates(count: int, cut_tokens: int = 0, source: int = 0) -> tuple[list[str], int]:
            """The accepted answer, `count` whole distractors and the first `cut_tokens` tokens of
            distractor `source` (not among the whole ones), in their fixed random order."""
            chosen = [(keys[0], question.accepted)] + list(zip(keys[1:count + 1], distractors[:count], strict=True))
            if cut_tokens:
                partial = tokenizer.decode(distractor_ids(source)[:cut_tokens]).strip()
                chosen.append((keys[source + 1], partial))
            chosen.sort(key=lambda pair: pair[0])
            texts = [text for _, text in chosen]
            return texts, texts.index(question.accepted) + 1

        def render(count: int, cut_tokens: int = 0, source: int = 0) -> str:
            texts, _ = candidates(count, cut_tokens, source)
            return tokenizer.render((ChatMessage(role="user", content=build_prompt(question.question, texts)),))

        window = window_encoder(tokenizer)
        if len(distractors) < 2:
            raise UsageError(f"length {format_length(length)} cannot hold the question with two candidates")
        choice = None
        if memory is not None:  # counted piece by piece, then one encode of the chosen prompt checks it
            choice = predicted_choice(tokenizer, render, distractors, question.accepted, keys, budget, memory,
                                      distractor_ids)
        if choice is None:
            choice = self._searched_choice(render, tokenizer, window, distractors, distractor_ids, budget, length,
                                           memory)
        count, cut, source, input_tokens = choice
        texts, accepted = candidates(count, cut, source)
        return Sample(
            task=self.name,
            sample_id=f"{self.name}/{format_length(length)}/{index}",
            messages=(ChatMessage(role="user", content=build_prompt(question.question, texts)),),
            references=(f"A{accepted}",),
            target_length=length,
            input_tokens=input_tokens,
            max_new_tokens=max_new,
            metadata={"candidates": len(texts), "random_baseline": 100.0 / len(texts), "question_id": question.qid},
        )

    @staticmethod
    def _searched_choice(
        render: Callable[..., str], tokenizer: Any, window: Any, distractors: list[str],
        distractor_ids: Callable[[int], list[int]], budget: int, length: int, memory: FitMemory | None,
    ) -> tuple[int, int, int, int]:
        """(whole distractors, cut tokens, cut source, prompt tokens) by measuring: the largest whole
        count that fits, then the start of one more distractor (the counts of `predicted_choice`
        when its check fails; the same choice when counts are additive)."""
        whole = fit_to_budget(render, tokenizer.encode_rendered, budget, max_units=len(distractors) - 1,
                              unit_tokens=100.0, memory=memory, key=budget, probe=True, encode_window=window)
        if whole.units < 1:
            raise UsageError(f"length {format_length(length)} cannot hold the question with two candidates")
        count, cut, source, fitted = whole.units, 0, whole.units, whole
        # Fill what is left with the start of one more distractor. Each candidate costs a few tokens
        # of "A<n>:" framing and renumbers those after it, so a small gap may only close by dropping
        # the last whole distractor and cutting a longer one: try both, and keep the closest fit.
        for whole_count in (whole.units, whole.units - 1):
            if len(fitted.ids) == budget or whole_count < 1:
                break
            base = len(whole.ids)
            if whole_count < whole.units:  # less the dropped distractor (its framing is a few tokens more)
                base = max(0, base - len(distractor_ids(whole_count)))
            pool_end = min(whole_count + 50, len(distractors))
            room, longest = max((len(distractor_ids(j)), j) for j in range(whole_count, pool_end))
            if room < 2:
                continue
            try:
                # sizes differ only in the cut candidate's text: that stretch is re-encoded alone
                partial = fit_to_budget(lambda cut_tokens, n=whole_count, j=longest: render(n, cut_tokens, j),
                                        tokenizer.encode_rendered, budget, max_units=room - 1, unit_tokens=1.0,
                                        fixed_tokens=base, encode_window=window, measured=whole)
            except UsageError:
                continue
            if partial.units > 0 and len(partial.ids) > len(fitted.ids):
                count, cut, source, fitted = whole_count, partial.units, longest, partial
        return count, cut, source, len(fitted.ids)

    def _prebuilt(self, context: BuildContext) -> list[Sample]:
        path, length, rows = read_adaleval_file(
            self.params.data, ("question", "all_answers", "answer"), "stackselect_4k.json"
        )
        max_new = context.max_new_tokens or self.default_max_new_tokens
        samples = []
        for index, row in enumerate(rows[: self.params.samples_at(length, context.samples_per_cell)]):
            answers = [str(a) for a in row["all_answers"]]
            messages = (ChatMessage(role="user", content=build_prompt(row["question"], answers)),)
            samples.append(Sample(
                task=self.name, sample_id=f"{self.name}/{format_length(length)}/{index}", messages=messages,
                references=(str(row["answer"]),), target_length=length,
                input_tokens=context.tokenizer.count(messages), max_new_tokens=max_new,
                metadata={"candidates": len(answers), "random_baseline": 100.0 / len(answers),
                          "question_id": str(row.get("question_id", index)), "data_source": str(path)},
            ))
        return samples

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        accepted = int(str(references[0]).lstrip("A"))
        return bestanswer_scores(output, accepted, int(metadata["candidates"]), self.params.extraction)
