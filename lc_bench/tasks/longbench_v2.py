"""`longbench_v2`: LongBench v2's multiple-choice questions, zero-shot, as THUDM/LongBench v2 asks them.

The published 0-shot prompt (prompts/0shot.txt) with its $DOC$/$Q$/$C_A$..$C_D$ slots, middle
truncation of the token budget (as pred.py truncates), and the published answer extraction: strip
`*`, then "The correct answer is (X)", then without the parentheses; anything else is unanswered.
`compensated=true` scores an unanswered item 0.25 (result.py's optional mode); by default it is 0.

`mode=cot` is the published chain of thought: the first call ends "Let’s think step by step:"
(1024 new tokens); a second call shows the question, the choices and that reasoning, with the
document replaced by "The text is too long and omitted here.", and asks for the answer (128 new
tokens). The second output is scored; the reasoning stays in the record's `stages`.

Samples carry the question's difficulty (easy/hard) and its length class (short/medium/long) as
the length bucket, so the leaderboard's bucket table gives the published short/medium/long split.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.axes import LabelAxis, ReportAxes
from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.schema import Sample
from lc_bench.tasks.base import BuildContext, FollowUp, TaskParams
from lc_bench.tasks.datafiles import TEXT, layout_problem, numbered_jsonl, read_json_list, warn_fixture_fallback
from lc_bench.tasks.longbench import LongBenchParams, LongBenchTask

PROMPT_0SHOT = (
    "Please read the following text and answer the question below.\n\n<text>\n$DOC$\n</text>\n\n"
    "What is the correct answer to this question: $Q$\nChoices:\n(A) $C_A$\n(B) $C_B$\n(C) $C_C$\n(D) $C_D$\n\n"
    'Format your response as follows: "The correct answer is (insert answer here)".'
)
# prompts/0shot_cot.txt and prompts/0shot_cot_ans.txt (note the typographic apostrophe in "Let’s")
PROMPT_COT = (
    "Please read the following text and answer the questions below.\n\n<text>\n$DOC$\n</text>\n\n"
    "What is the correct answer to this question: $Q$\nChoices:\n(A) $C_A$\n(B) $C_B$\n(C) $C_C$\n(D) $C_D$\n\n"
    "Let’s think step by step:"
)
PROMPT_COT_ANSWER = (
    "Please read the following text and answer the questions below.\n\nThe text is too long and omitted here.\n\n"
    "What is the correct answer to this question: $Q$\nChoices:\n(A) $C_A$\n(B) $C_B$\n(C) $C_C$\n(D) $C_D$\n\n"
    "Let’s think step by step: $COT$\n\n"
    'Based on the above, what is the single, most likely answer choice? Format your response as follows: '
    '"The correct answer is (insert answer here)".'
)
COT_MAX_NEW_TOKENS = 1024
ANSWER_MAX_NEW_TOKENS = 128
# LongBench v2's field layout: every field is text (a null context would be rendered as "None")
LAYOUT = {name: TEXT for name in ("_id", "domain", "difficulty", "length", "question", "choice_A", "choice_B",
                                  "choice_C", "choice_D", "answer", "context")}
HUB_ID = "THUDM/LongBench-v2"


def extract_answer(response: str) -> str | None:
    """LongBench v2's extraction: the letter of "The correct answer is (X)", else "... is X", else None."""
    response = response.replace("*", "")
    match = re.search(r"The correct answer is \(([A-D])\)", response)
    if match is None:
        match = re.search(r"The correct answer is ([A-D])", response)
    return match.group(1) if match else None


def fill_prompt(
    row: dict[str, Any], context: str | None = None, template: str = PROMPT_0SHOT, cot: str = ""
) -> str:
    """A template filled with the record's stripped fields, in pred.py's order ($COT$ last, so a
    reasoning that happens to contain "$Q$" is left as written)."""
    document = (row["context"] if context is None else context).strip()
    prompt = template.replace("$DOC$", document).replace("$Q$", row["question"].strip())
    for letter in "ABCD":
        prompt = prompt.replace(f"$C_{letter}$", row[f"choice_{letter}"].strip())
    return prompt.replace("$COT$", cot)


def _check(rows: list[tuple[str, dict[str, Any]]], where: str) -> list[dict[str, Any]]:
    """The questions, each checked against the layout; `rows` pairs each with where it is."""
    if not rows:
        raise UsageError(f"{where} holds no questions")
    for location, row in rows:
        problem = layout_problem(row, LAYOUT)
        if problem:
            raise UsageError(f"{location}: {problem} (LongBench v2's field layout)")
    return [row for _, row in rows]


def _read_file(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """A .jsonl (located by line) or a .json list (by record) of questions."""
    if path.suffix == ".jsonl":
        return [(f"{path}:{number}", row) for number, row in numbered_jsonl(path)]
    return [(f"{path}: record {number}", row) for number, row in enumerate(read_json_list(path), 1)]


@lru_cache(maxsize=8)
def load_questions(data: str) -> tuple[tuple[dict[str, Any], ...], str]:
    if data == "fixture":
        path = Path(str(resources.files("lc_bench") / "data" / "longbench_v2" / "questions.jsonl"))
        return tuple(_check(_read_file(path), "the shipped fixture")), "fixture"
    if data.endswith((".json", ".jsonl")):
        path = Path(data).expanduser()
        if not path.exists():
            raise UsageError(f"LongBench v2 data {path} not found")
        return tuple(_check(_read_file(path), str(path))), str(path)
    hub_id = HUB_ID if data == "auto" else data
    try:
        from datasets import load_dataset

        rows = [(f"{hub_id}: record {number}", dict(row))
                for number, row in enumerate(load_dataset(hub_id, split="train"), 1)]
    except Exception as exc:  # noqa: BLE001 - offline or missing: one line
        if data == "auto":
            warn_fixture_fallback(hub_id, exc)
            return load_questions("fixture")
        raise UsageError(f"cannot load LongBench v2 from {hub_id} ({type(exc).__name__})") from None
    return tuple(_check(rows, hub_id)), hub_id


class LongBenchV2Params(LongBenchParams):
    data: str = Field("auto", description="auto (hub, else shipped fixture), fixture, a hub id, or .json/.jsonl")
    compensated: bool = Field(False, description="score an unanswered question 0.25, as result.py can")
    mode: Literal["0shot", "cot"] = Field(
        "0shot", description="0shot, or cot: reasoning (1024 tokens) then a separate answer call (128)"
    )


@TASKS.register("longbench_v2")
class LongBenchV2(LongBenchTask):
    """LongBench v2: 503 multiple-choice questions, 8k to 2M words, zero-shot."""

    dataset: ClassVar[str] = "longbench_v2"
    name: ClassVar[str] = "longbench_v2"
    description: ClassVar[str] = "LongBench v2 multiple choice, 0-shot or CoT (accuracy; easy/hard, short/medium/long)"
    family: ClassVar[str] = "longbench_v2"
    params_model: ClassVar[type[TaskParams]] = LongBenchV2Params
    # the published tables: short/medium/long (words) and easy/hard
    report: ClassVar[ReportAxes] = ReportAxes(labels=(
        LabelAxis(title="LongBench v2 length (short 0-32k, medium 32k-128k, long 128k-2M words)",
                  field="length_bucket", order=("short", "medium", "long"),
                  note="LongBench v2: its short/medium/long and easy/hard labels"),
        LabelAxis(title="difficulty", field="difficulty", order=("easy", "hard")),
    ))
    primary_metric: ClassVar[str] = "accuracy"
    default_max_new_tokens: ClassVar[int] = 128

    def __init__(self, params: LongBenchV2Params) -> None:
        super().__init__(params)
        self.default_max_new_tokens = COT_MAX_NEW_TOKENS if params.mode == "cot" else ANSWER_MAX_NEW_TOKENS
        self._rows_by_id: dict[str, dict[str, Any]] = {}

    def _prompt(self, row: dict[str, Any], context: str | None = None) -> str:
        return fill_prompt(row, context, PROMPT_COT if self.params.mode == "cot" else PROMPT_0SHOT)

    def build(self, context: BuildContext) -> list[Sample]:
        rows, _ = self._records()
        self._rows_by_id = {row["_id"]: row for row in rows}
        return super().build(context)

    @property
    def multi_call(self) -> bool:
        return self.params.mode == "cot"

    def follow_up(self, sample: Sample, first_output: str) -> FollowUp | None:
        """cot mode: the answer call, with the reasoning stripped as pred.py strips responses."""
        if self.params.mode != "cot":
            return None
        row = self._rows_by_id[sample.metadata["_id"]]
        prompt = fill_prompt(row, template=PROMPT_COT_ANSWER, cot=first_output.strip())
        return FollowUp(messages=self._messages(prompt), max_new_tokens=ANSWER_MAX_NEW_TOKENS)

    def _records(self) -> tuple[tuple[dict[str, Any], ...], str]:
        return load_questions(self.params.data)

    def _references(self, row: dict[str, Any]) -> tuple[str, ...]:
        return (str(row["answer"]),)

    def _metadata(self, row: dict[str, Any]) -> dict[str, Any]:
        return {"dataset": "longbench_v2", "_id": row["_id"], "domain": row["domain"],
                "difficulty": row["difficulty"], "length_bucket": row["length"]}

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        answer = extract_answer(output)
        if answer is None:
            value = 25.0 if self.params.compensated else 0.0
        else:
            value = 100.0 if answer == references[0] else 0.0
        return {"accuracy": value, "answered": 0.0 if answer is None else 100.0}
