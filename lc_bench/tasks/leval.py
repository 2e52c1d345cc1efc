"""L-Eval (An et al., 2023; github.com/OpenLMLab/LEval) as lc_bench tasks: `leval_<subtask>`, one per
sub-task (20: 7 closed-ended, 13 open-ended), family `leval`.

Each question of a long document is one sample (documents hold several), asked as the reference
model's script asks it (Baselines/turbo16k-test.py): a system message (LEval_config.py
get_sys_prompt) and a user message, "Document is as follows. {document} Question: {question} ..." for
the closed-ended tasks, the document then the question for gsm100 and codeU, and for the open-ended
tasks "Document is as follows. {document} Instruction: {instruction} The suggested output length is
around N words. Output: " with N the reference's word count: L-Eval's Length-Instruction-Enhanced
evaluation, its recommended setting and the default here (`length_instruction=false` drops that
sentence). Every task gets 512 new tokens (LEval_config.py). Prompts and settings: leval_config.py.

Lengths: the document is cut to each requested length, never padded (leval_fit.py): by default on
the side the original cuts (its end; codeU: its beginning) so that the rendered prompt + 512 fills
the length exactly; `truncation=paper` is the original's word-chunk cut to n * 1000 - 512 tokens
of the document alone (the leval-paper suite); `middle` keeps the document's head and tail.

Questions are taken in turns across documents (the first question of each document, then the
second, ...), so a small `--samples` spans documents. `subset` picks records by their `evaluation`
as the original's --metric does: `ngram_eval` (default) leaves out the documents kept for the LLM
and human judges (the open-ended n-gram protocol; every closed-ended record is `exam`),
`llm_gpt4_eval` is the 96-question GPT-4 subset, `human_eval` the 85-question one, `llm_turbo_eval`
both, `all` everything. sci_fi asks each statement twice (`fact_check`, default on): with the
document (loyalty) and from world knowledge alone (fact: the question with "based on the real-world
knowledge ...", no document, no system prompt, as the open-model scripts ask it); the two are
separate samples (`part`) and auto_eval.py's score is their mean. Scores: scoring/leval.py. The
open-ended tasks declare L-Eval's pairwise LLM judge (`lc-bench judge`, leval_judge.py).

L-Eval defines no length classes of its own, so samples carry the whole document's token count
(the model's tokenizer) as a bucket label: 0-4k, 4k-8k, 8k-16k, 16k-32k, 32k+ (k = 1024).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.axes import ReportAxes
from lc_bench.errors import UsageError
from lc_bench.lengths import format_length, input_budget
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.leval import closed_score, open_score
from lc_bench.tasks.base import BuildContext, JudgePlan, TaskBase, TaskParams
from lc_bench.tasks.leval_config import (
    CLOSED_ENDED,
    EXAM_FORMAT,
    MAX_NEW_TOKENS,
    OPEN_FORMAT_LIE,
    OPEN_FORMAT_PLAIN,
    OPEN_METRIC,
    PAPER_NAMES,
    RAW_FORMAT,
    SCI_FI_FACT_SUFFIX,
    SCI_FI_REAL,
    SCI_FI_WORLD,
    SUBTASKS,
    SYSTEM_PROMPTS,
    system_prompt_key,
    task_name,
)
from lc_bench.tasks.leval_data import load_battle, load_documents
from lc_bench.tasks.leval_fit import fit_document, paper_cut, paper_max_length
from lc_bench.tasks.leval_judge import LEvalPairwiseJudge
from lc_bench.tasks.leval_report import LENGTH_CLASS, TOPIC_POSITIONS, length_class, report_axes

SUBSETS = {
    "ngram_eval": lambda ev: ev not in ("human", "LLM"),
    "llm_gpt4_eval": lambda ev: ev == "LLM",
    "human_eval": lambda ev: ev == "human",
    "llm_turbo_eval": lambda ev: ev in ("human", "LLM"),
    "all": lambda ev: True,
}


class LEvalParams(TaskParams):
    data: str = Field(
        "auto",
        description="auto (hub L4NLP/LEval, else shipped fixture), fixture, a hub id, "
        "the LEval-data folder or a <task>.jsonl",
    )
    truncation: Literal["document", "middle", "paper"] = Field(
        "document",
        description="document: cut the document to fill the length exactly; middle: keep its head "
        "and tail; paper: the original's word-chunk cut to n*1000-512 document tokens",
    )
    max_length: int | None = Field(
        None, ge=1, description="truncation=paper: document tokens kept (default n*1000 - max_new_tokens at n-k)"
    )
    length_instruction: bool = Field(
        True,
        description="open-ended: 'The suggested output length is around N "
        "words.' (L-Eval's recommended LIE evaluation)",
    )
    subset: Literal["ngram_eval", "llm_gpt4_eval", "human_eval", "llm_turbo_eval", "all"] = Field(
        "ngram_eval", description="records by `evaluation`, as the original's --metric picks them"
    )
    fact_check: bool = Field(True, description="sci_fi: also ask each statement from world knowledge (fact)")
    battle_with: str | None = Field(
        None, description="judge opponent: an L-Eval prediction file (default: the reference answer)"
    )
    metric_mode: Literal["compat", "strict"] = "compat"


class LEvalTask(TaskBase):
    """One L-Eval sub-task (see the module docstring)."""

    subtask: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    primary_metric: ClassVar[str]
    family: ClassVar[str] = "leval"
    params_model: ClassVar[type[TaskParams]] = LEvalParams
    default_max_new_tokens: ClassVar[int] = MAX_NEW_TOKENS
    report: ClassVar[ReportAxes] = ReportAxes(labels=(LENGTH_CLASS,))

    def __init__(self, params: LEvalParams) -> None:
        self.params = params

    @property
    def closed(self) -> bool:
        return self.subtask in CLOSED_ENDED

    def user_turn(self, document: str, instruction: str, reference: str) -> str:
        if self.subtask in ("gsm100", "codeU"):
            return RAW_FORMAT.format(document=document, instruction=instruction)
        if self.closed:
            return EXAM_FORMAT.format(document=document, instruction=instruction)
        if self.params.length_instruction:
            return OPEN_FORMAT_LIE.format(document=document, instruction=instruction, words=len(reference.split()))
        return OPEN_FORMAT_PLAIN.format(document=document, instruction=instruction)

    def messages(self, document: str, instruction: str, reference: str) -> tuple[ChatMessage, ...]:
        return (
            ChatMessage(role="system", content=SYSTEM_PROMPTS[system_prompt_key(self.subtask)]),
            ChatMessage(role="user", content=self.user_turn(document, instruction, reference)),
        )

    def questions(self, rows: tuple[dict[str, Any], ...], count: int) -> list[tuple[int, int]]:
        """(document, question) pairs of the chosen subset, in turns across documents."""
        keep = SUBSETS[self.params.subset]
        docs = [i for i, row in enumerate(rows) if keep(row["evaluation"])]
        most = max((len(rows[i]["instructions"]) for i in docs), default=0)
        turns = [(d, q) for q in range(most) for d in docs if q < len(rows[d]["instructions"])]
        return turns[:count]

    def build(self, context: BuildContext) -> list[Sample]:
        rows, source = load_documents(self.params.data, self.subtask)
        chosen = self.questions(rows, context.samples_per_cell)
        if not chosen:
            raise UsageError(f"{source} holds no {self.subtask} records of the {self.params.subset} subset")
        battle = load_battle(self.params.battle_with) if self.params.battle_with and not self.closed else None
        tokenizer, max_new = context.tokenizer, context.max_new_tokens or self.default_max_new_tokens
        keep_end = self.subtask == "codeU"
        ids = {d: tokenizer.encode(rows[d]["input"]) for d in {d for d, _ in chosen}}
        samples: list[Sample] = []
        for length in context.lengths:
            paper = self.params.truncation == "paper"
            max_length = (self.params.max_length or paper_max_length(length, max_new)) if paper else None
            cut_docs: dict[int, tuple[str, bool]] = {}
            skipped = over = 0
            for d, q in chosen:
                row = rows[d]
                instruction, reference = row["instructions"][q], row["outputs"][q]
                if paper:
                    if d not in cut_docs:
                        cut_docs[d] = self._paper_cut(tokenizer, row["input"], max_length, keep_end)
                    document, truncated = cut_docs[d]
                    count = tokenizer.count(self.messages(document, instruction, reference))
                    over += count + max_new > length
                else:
                    budget, middle = input_budget(length, max_new), self.params.truncation == "middle"
                    counter = self._counter(tokenizer, instruction, reference)
                    fitted = fit_document(tokenizer, counter, row["input"], ids[d], budget, keep_end, middle)
                    if fitted is None:
                        skipped += 1
                        continue
                    document, count, truncated = fitted
                metadata = self._metadata(row, d, q, len(ids[d]), source, battle)
                if max_length is not None:
                    metadata["max_length"] = max_length
                common = {
                    "task": self.name,
                    "references": (reference,),
                    "target_length": length,
                    "max_new_tokens": max_new,
                }
                sample_id = f"{self.name}/{format_length(length)}/{d}-{q}"
                samples.append(
                    Sample(
                        sample_id=sample_id,
                        messages=self.messages(document, instruction, reference),
                        input_tokens=count,
                        truncated=truncated,
                        metadata=metadata,
                        **common,
                    )
                )
                if self.subtask == "sci_fi" and self.params.fact_check:
                    fact = (
                        ChatMessage(
                            role="user", content=instruction.replace(SCI_FI_WORLD, SCI_FI_REAL) + SCI_FI_FACT_SUFFIX
                        ),
                    )
                    samples.append(
                        Sample(
                            sample_id=f"{sample_id}-fact",
                            messages=fact,
                            input_tokens=tokenizer.count(fact),
                            metadata={**metadata, "part": "fact"},
                            **common,
                        )
                    )
            if over:
                print(
                    f"lc-bench: {self.name}: {over} of {len(chosen)} prompts (truncation=paper, {max_length} document "
                    f"tokens) and their {max_new} new tokens exceed {format_length(length)}; kept as the original "
                    "keeps them",
                    file=sys.stderr,
                )
            if skipped:
                context.report_skipped(self.name, length, skipped)
                print(
                    f"lc-bench: {self.name}: {skipped} of {len(chosen)} questions do not fit "
                    f"{format_length(length)} even with an empty document; skipped",
                    file=sys.stderr,
                )
        return samples

    def _counter(self, tokenizer: Any, instruction: str, reference: str) -> Callable[[str], int]:
        """The rendered prompt's token count for a document in this question's prompt."""
        return lambda text: tokenizer.count(self.messages(text, instruction, reference))

    def _paper_cut(self, tokenizer: Any, document: str, max_length: int, keep_end: bool) -> tuple[str, bool]:
        try:
            return paper_cut(tokenizer, document, max_length, keep_end)
        except ValueError as exc:
            raise UsageError(f"{self.name}: {exc}") from None

    def _metadata(
        self, row: dict[str, Any], d: int, q: int, doc_tokens: int, source: str, battle: dict[str, str] | None
    ) -> dict[str, Any]:
        instruction, reference = row["instructions"][q], row["outputs"][q]
        metadata: dict[str, Any] = {
            "subtask": self.subtask,
            "document": d,
            "question": q,
            "evaluation": row["evaluation"],
            "source": row.get("source"),
            "doc_tokens": doc_tokens,
            "length_class": length_class(doc_tokens),
            "data_source": source,
            "truncation": self.params.truncation,
        }
        if self.subtask == "sci_fi":
            metadata["part"] = "loyalty"
        elif self.subtask == "topic_retrieval_longchat":
            metadata["position"] = TOPIC_POSITIONS[q % 3]  # auto_eval.py: the i % 3-th list
        if not self.closed:
            metadata.update(
                instruction=instruction,
                reference=reference,
                reference_words=len(reference.split()),
                length_instruction=self.params.length_instruction,
            )
            opponent = reference if battle is None else battle.get(instruction + reference)
            metadata.update(
                opponent="reference" if battle is None else self.params.battle_with, opponent_answer=opponent
            )
        return metadata

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        reference = references[0]
        if self.closed:
            return closed_score(self.subtask, output, reference, metadata.get("part", ""), self.params.metric_mode)
        return {**open_score(OPEN_METRIC[self.subtask], output, reference), "output_words": float(len(output.split()))}


def _register(subtask: str) -> None:
    closed = subtask in CLOSED_ENDED
    metric = "exact_match" if closed else ("f1" if OPEN_METRIC[subtask] == "f1" else "rouge_l")
    group = "closed-ended" if closed else "open-ended"
    attributes: dict[str, Any] = {
        "subtask": subtask,
        "name": task_name(subtask),
        "primary_metric": metric,
        "report": report_axes(subtask),
        "description": f"L-Eval {PAPER_NAMES[subtask]} ({group}, {metric}, {MAX_NEW_TOKENS} new tokens)",
    }
    if not closed:
        attributes["judge_plan"] = LEVAL_JUDGE
    TASKS.register(task_name(subtask))(type(f"LEval_{subtask}", (LEvalTask,), attributes))


LEVAL_JUDGE: JudgePlan = LEvalPairwiseJudge()
for _subtask in SUBTASKS:
    _register(_subtask)
