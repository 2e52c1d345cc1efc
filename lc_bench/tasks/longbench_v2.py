"""`longbench_v2`: LongBench v2's multiple-choice questions, zero-shot, as THUDM/LongBench v2 asks them.

The published 0-shot prompt (prompts/0shot.txt) with its $DOC$/$Q$/$C_A$..$C_D$ slots, middle
truncation of the token budget (as pred.py truncates), and the published answer extraction: strip
`*`, then "The correct answer is (X)", then without the parentheses; anything else is unanswered.
`compensated=true` scores an unanswered item 0.25 (result.py's optional mode); by default it is 0.

`mode=cot` is the published chain of thought: the first call ends "Let’s think step by step:"
(1024 new tokens); a second call shows the question, the choices and that reasoning, with the
document replaced by "The text is too long and omitted here.", and asks for the answer (128 new
tokens). The second output is scored; the reasoning stays in the record's `stages`.

`mode=no_context` asks the question and choices alone (prompts/0shot_no_context.txt: memorisation,
pred.py's --no_context). `mode=rag` with `rag_top_k=N` (pred.py's --rag N) puts the question's
retrieved chunks in place of the document (prompts/0shot_rag.txt): the first N of the record's
`retrieved_context` (ranked by the retriever), put back in document order by their `c_idx`, each
written "Retrieved chunk K: CONTENT" (K counting from 1 in that order) and joined by blank lines
(pred.py:82-86). The published data holds no retrieval: see RAG_DATA_HINT. No mode has its own
task name, so the suites keep to the 0-shot setting: `--task-opt longbench_v2.mode=no_context`.

Paper protocol (the `longbench-v2-paper` suite): `truncation=paper` cuts as pred.py's query_llm
(pred.py:24-35): the filled prompt, before the chat template, is tokenized with the special
tokens the tokenizer adds (`tokenizer.encode(prompt)`; a tiktoken encoding adds none) and, over
`max_length` (120000, config/model2maxlen.json for every model but Claude), keeps its first
`max_length//2` and last `-(-max_length//2)` ids (`ids[-max_len//2:]` parses as `(-max_len)//2`),
decoded in one call without special tokens; the output budget is not subtracted and the target
length plays no part (it stays the grid's label; `max_length` is in the metadata). The chat
template is applied after, as the server pred.py calls applies it. `drop_empty=true` leaves an
empty reply out of the score as pred.py does (pred.py:98-99 and 105-106: `if output == '':
continue`, so the item is never written and result.py's denominators never see it): its scores
have no `accuracy` (`{"dropped_empty": 1.0}`), and the reporting layer averages the others. Only
an exactly empty reply is dropped; a reply of spaces is written, extracts no answer and scores 0
(result.py's `compensated = False`). In cot mode an empty reasoning is dropped too, without the
answer call. The suite samples at temperature 0.1, as pred.py does.

Samples carry the question's difficulty (easy/hard) and its length class (short/medium/long) as
the length bucket, so the leaderboard's bucket table gives the published short/medium/long split.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from lc_bench.axes import LabelAxis, ReportAxes
from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.schema import Sample
from lc_bench.tasks.base import BuildContext, FollowUp, TaskParams
from lc_bench.tasks.datafiles import (
    TEXT,
    data_cache,
    hub_load,
    layout_problem,
    numbered_jsonl,
    read_json_list,
    warn_fixture_fallback,
)
from lc_bench.tasks.longbench import LongBenchParams, LongBenchTask, original_decode, raw_prompt_ids
from lc_bench.tokenizers import ModelTokenizer

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
# prompts/0shot_no_context.txt and prompts/0shot_rag.txt
PROMPT_NO_CONTEXT = (
    "What is the correct answer to this question: $Q$\nChoices:\n(A) $C_A$\n(B) $C_B$\n(C) $C_C$\n(D) $C_D$\n\n"
    'What is the single, most likely answer choice? Format your response as follows: '
    '"The correct answer is (insert answer here)".'
)
PROMPT_RAG = (
    "Please read the following retrieved text chunks and answer the question below.\n\n<text>\n$DOC$\n</text>\n\n"
    "What is the correct answer to this question: $Q$\nChoices:\n(A) $C_A$\n(B) $C_B$\n(C) $C_C$\n(D) $C_D$\n\n"
    'Format your response as follows: "The correct answer is (insert answer here)".'
)
TEMPLATES = {"0shot": PROMPT_0SHOT, "cot": PROMPT_COT, "no_context": PROMPT_NO_CONTEXT, "rag": PROMPT_RAG}
# config/model2maxlen.json (v2): 120000 for every model but claude-3.5-sonnet (200000)
PAPER_MAX_LENGTH = 120000
RAG_DATA_HINT = (
    "mode=rag reads each question's `retrieved_context` (its ranked chunks, [{c_idx, content}, ...]), which "
    "THUDM/LongBench-v2 does not publish: retrieve them as THUDM/LongBench's README says (THUDM/LongCite "
    "utils/retrieve.py), add the field to each question and pass data=FILE.json|.jsonl"
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


def rag_document(row: dict[str, Any], top_k: int) -> str:
    """pred.py's retrieved context: the first `top_k` chunks, in document order, numbered from 1."""
    chunks = sorted(row["retrieved_context"][:top_k], key=lambda chunk: chunk["c_idx"])
    return "\n\n".join(f"Retrieved chunk {number}: {chunk['content']}" for number, chunk in enumerate(chunks, 1))


def _chunks_problem(value: Any) -> str | None:
    """What is wrong with a record's retrieved_context (None: a list of {c_idx, content})."""
    if not isinstance(value, list):
        return "should be a list of chunks"
    for number, chunk in enumerate(value, 1):
        if not (isinstance(chunk, dict) and isinstance(chunk.get("content"), str)
                and isinstance(chunk.get("c_idx"), int) and not isinstance(chunk.get("c_idx"), bool)):
            return f"chunk {number} should be an object with c_idx (a whole number) and content (text)"
    return None


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


@data_cache(maxsize=8)
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
                for number, row in enumerate(hub_load(lambda: load_dataset(hub_id, split="train")), 1)]
    except Exception as exc:  # noqa: BLE001 - offline or missing: one line
        if data == "auto":
            warn_fixture_fallback(hub_id, exc, how=(
                "download data.json from the hub dataset THUDM/LongBench-v2 on a machine with network, then pass "
                "--task-opt longbench_v2.data=PATH"))
            return load_questions("fixture")
        raise UsageError(f"cannot load LongBench v2 from {hub_id} ({type(exc).__name__})") from None
    return tuple(_check(rows, hub_id)), hub_id


class LongBenchV2Params(LongBenchParams):
    data: str = Field("auto", description="auto (hub, else shipped fixture), fixture, a hub id, or .json/.jsonl")
    compensated: bool = Field(False, description="score an unanswered question 0.25, as result.py can")
    mode: Literal["0shot", "cot", "no_context", "rag"] = Field(
        "0shot", description="0shot; cot: reasoning (1024 tokens), then an answer call (128); no_context; rag"
    )
    rag_top_k: int = Field(0, ge=0, description="mode=rag: the top-N retrieved chunks shown (pred.py's --rag N)")
    max_length: int | None = Field(
        None, ge=2, description="truncation=paper: prompt tokens kept, special ones counted (default 120000)"
    )
    drop_empty: bool = Field(False, description="an empty reply is left out of the score, as pred.py drops it")

    @model_validator(mode="after")
    def _rag_needs_top_k(self) -> LongBenchV2Params:
        if (self.mode == "rag") != (self.rag_top_k > 0):
            raise ValueError("mode=rag and rag_top_k=N (N >= 1, pred.py's --rag N) go together")
        return self


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

    def _context(self, row: dict[str, Any]) -> str:
        if self.params.mode == "rag":
            return rag_document(row, self.params.rag_top_k)
        return row["context"]

    def _prompt(self, row: dict[str, Any], context: str | None = None) -> str:
        return fill_prompt(row, self._context(row) if context is None else context, TEMPLATES[self.params.mode])

    def _paper_max_length(self, length: int) -> int:
        return PAPER_MAX_LENGTH if self.params.max_length is None else self.params.max_length

    def _paper_cut(self, tokenizer: ModelTokenizer, prompt: str, max_length: int) -> tuple[str, bool]:
        """pred.py:27-30: the first max_len//2 and the last -(-max_len//2) ids, decoded at once."""
        ids = raw_prompt_ids(tokenizer, prompt)
        if len(ids) <= max_length:
            return prompt, False
        head, tail = max_length // 2, -(-max_length // 2)
        return original_decode(tokenizer, ids[:head] + ids[-tail:]), True

    def _check_rows(self, rows: Sequence[dict[str, Any]], source: str) -> None:
        if self.params.mode != "rag":
            return
        for row in rows:
            if "retrieved_context" not in row:
                raise UsageError(f"{source}: question {row['_id']} has no retrieved_context; {RAG_DATA_HINT}")
            problem = _chunks_problem(row["retrieved_context"])
            if problem:
                raise UsageError(f"{source}: question {row['_id']}: retrieved_context {problem}")

    def build(self, context: BuildContext) -> list[Sample]:
        rows, _ = self._records()
        self._rows_by_id = {row["_id"]: row for row in rows}
        return super().build(context)

    @property
    def multi_call(self) -> bool:
        return self.params.mode == "cot"

    def follow_up(self, sample: Sample, first_output: str) -> FollowUp | None:
        """cot mode: the answer call, with the reasoning stripped as pred.py strips responses."""
        if self.params.mode != "cot" or (self.params.drop_empty and first_output == ""):
            return None  # pred.py skips the answer call after an empty reasoning: the item is dropped
        row = self._rows_by_id[sample.metadata["_id"]]
        prompt = fill_prompt(row, template=PROMPT_COT_ANSWER, cot=first_output.strip())
        return FollowUp(messages=self._messages(prompt), max_new_tokens=ANSWER_MAX_NEW_TOKENS)

    def _records(self) -> tuple[tuple[dict[str, Any], ...], str]:
        return load_questions(self.params.data)

    def _references(self, row: dict[str, Any]) -> tuple[str, ...]:
        return (str(row["answer"]),)

    def _metadata(self, row: dict[str, Any]) -> dict[str, Any]:
        extra = {"rag_top_k": self.params.rag_top_k} if self.params.mode == "rag" else {}
        return {"dataset": "longbench_v2", "_id": row["_id"], "domain": row["domain"],
                "difficulty": row["difficulty"], "length_bucket": row["length"], "mode": self.params.mode, **extra}

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        """accuracy (x100) and answered; with drop_empty an empty reply has no accuracy at all
        (left out of the mean, as pred.py never writes it) and every reply says `dropped_empty`."""
        if self.params.drop_empty and output == "":
            return {"dropped_empty": 1.0}
        answer = extract_answer(output)
        if answer is None:
            value = 25.0 if self.params.compensated else 0.0
        else:
            value = 100.0 if answer == references[0] else 0.0
        scores = {"accuracy": value, "answered": 0.0 if answer is None else 100.0}
        return {**scores, "dropped_empty": 0.0} if self.params.drop_empty else scores
