"""`m4le_*`: M4LE (Kwan et al., ACL 2024; github.com/KwanWaiChung/M4LE): long inputs made by concatenating
short instances, built here at any length (lc_bench's own: exact within one instance).

A representative subset of the 36 tasks, chosen so that every metric is reproduced without rouge / jieba /
BLEU (which the summarisation and translation tasks need) and every source has a published layout we can
ship a fixture of:

=====================================  =======================  ========  ==================================
task (M4LE name)                        ability                  language  metric (evaluation.py)
=====================================  =======================  ========  ==================================
m4le_mnds_news_explicit_single         explicit single-span     en        exact_match
m4le_thucnews_explicit_single          explicit single-span     zh        exact_match
m4le_mnds_news_explicit_multiple       explicit multiple-span   en        cls_f1 (mnds preprocess)
m4le_thucnews_explicit_multiple        explicit multiple-span   zh        cls_f1 (thucnews preprocess)
m4le_mnds_news_semantic_multiple       semantic multiple-span   en        exact_match (count)
m4le_thucnews_semantic_multiple        semantic multiple-span   zh        exact_match (count)
m4le_hotpotqa                          semantic multiple-span   en        acc
m4le_nq_open                           semantic single-span     en        acc
=====================================  =======================  ========  ==================================

The news tasks follow data/create_classification_data.py (mnds_news_classify_one / _retrieval / _count,
thucnews_classify_one / _retrieval / _count): instruction, one-shot example, article and question wording
character for character; the prompt is instruction + "\\n" + input (inference.py), raw (no chat template;
`chat_template=true` sends it as one user message, as its OpenAI path does). The original draws articles
until a word / character bucket (1k-8k) holds them; here the number of articles is fitted to the token
budget, the questioned article (single-span) or the category's articles (counting) at seeded places.
HotpotQA follows create_qa_data.py's hotpotqa: the question's own ten paragraphs ("Paragraph i: ..."); the
original keeps each record at its natural length (about 1k words), lc_bench pads it with paragraphs of other
records to the length (its own paragraphs keep their order, at seeded places). NQ-open follows
multi_document_qa (lost-in-the-middle's documents and prompt): the top retrieved documents without the
answer, in retrieval order, fitted to the length, the gold chunk at a seeded place (the original cycles it
over positions 0, 4, 9, ...), the one-shot example appended as the next document.
Also lc_bench's: article ids come from a seeded generator (the original's `secrets` is unseeded); 128 new
tokens (the original's OpenAI budget; its local runs allow `length_bucket` new tokens). The global
tasks are not built: each is one whole document at its natural length (it cannot be filled to a length
without cutting it) and most need rouge / jieba / BLEU; nor the remaining single-span tasks (their
sources: DRCD, C3, DuReader, NewsQA, DuoRC, WoW, wikitext, summarisation and translation corpora).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import Field

from lc_bench.axes import LabelAxis, ReportAxes
from lc_bench.errors import UsageError
from lc_bench.lengths import format_length, input_budget
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.m4le import accuracy
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.fitting import FitMemory, fit_to_budget
from lc_bench.tasks.m4le_data import load_source

MAX_NEW_TOKENS = 128
ABILITIES = (
    "explicit single-span",
    "semantic single-span",
    "explicit multiple-span",
    "semantic multiple-span",
    "global context understanding",
)
ARTS = "arts, culture, entertainment and media"
HOTPOT_INSTRUCTION = "Answer the question based on the given paragraphs. Note that some paragraphs might be irrelevant."
HOTPOT_EXAMPLE = (
    "Paragraph 1: Pratia is a genus of flowering plants in the family Campanulaceae, native to Asia, Australia and "
    "New Zealand.\nParagraph 2: Sutherlandia is a genus of flowering plants in the family Fabaceae.\nQuestion: Are "
    "Sutherlandia and Pratia in the same family?\nAnswer: no."
)
# (prompt text, reference, metadata) for n units
Maker = Callable[[int], tuple[str, str, dict[str, Any]]]


def hex_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(24):06X}"  # secrets.token_hex(3).upper(), seeded


def insert_at(rows: list[Any], extra: list[Any], places: list[float]) -> list[Any]:
    """`rows` with each of `extra` inserted at its fraction of the way through (in order of place)."""
    rows = list(rows)
    for item, place in sorted(zip(extra, places, strict=True), key=lambda pair: pair[1]):
        rows.insert(round(place * len(rows)), item)
    return rows


class M4LEParams(TaskParams):
    data: str = Field(
        "auto",
        description="auto / fixture (shipped fixture) | the source file or folder in "
        "M4LE's raw_data layout (see the task's docstring)",
    )
    chat_template: bool = Field(False, description="the original feeds local models the raw prompt")


class M4LETask(TaskBase):
    family: ClassVar[str] = "m4le"
    params_model: ClassVar[type[TaskParams]] = M4LEParams
    default_max_new_tokens: ClassVar[int] = MAX_NEW_TOKENS
    grid_task: ClassVar[bool] = True
    builds_indices: ClassVar[bool] = True
    report: ClassVar[ReportAxes] = ReportAxes(
        labels=(
            LabelAxis(title="M4LE ability", field="ability", order=ABILITIES, note="M4LE: the ability a task tests"),
            LabelAxis(title="M4LE language", field="language", order=("en", "zh")),
        )
    )
    source: ClassVar[str]
    ability: ClassVar[str]
    language: ClassVar[str] = "en"
    unit_tokens: ClassVar[float] = 100.0
    min_units: ClassVar[int] = 0  # fewer units than this: the sample is left out (counted as skipped)
    params: M4LEParams

    def __init__(self, params: M4LEParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        records, source = load_source(self.source, self.params.data)
        tokenizer, chat = context.tokenizer, self.params.chat_template
        max_new = context.max_new_tokens or MAX_NEW_TOKENS
        memory: FitMemory = {}
        samples = []
        for length in context.lengths:
            budget = input_budget(length, max_new)
            short = 0
            for index in context.cell_indices():
                rng = random.Random(f"{context.seed}|{self.name}|{self.params!r}|{length}|{index}")
                make, max_units = self.generator(rng, records, index)

                def render(n: int, make: Maker = make) -> str:
                    return tokenizer.render((ChatMessage(role="user", content=make(n)[0]),), chat)

                try:
                    fitted = fit_to_budget(
                        render,
                        lambda text: tokenizer.encode_rendered(text, chat),
                        budget,
                        max_units=max_units,
                        unit_tokens=self.unit_tokens,
                        memory=memory,
                        key=budget,
                        probe=True,
                    )
                except UsageError:  # the example and the question's own instances leave no room
                    fitted = None
                if fitted is None or fitted.units < self.min_units:
                    context.report_skipped(self.name, length, 1)
                    continue
                short += fitted.units == max_units
                prompt, answer, extra = make(fitted.units)
                samples.append(
                    Sample(
                        task=self.name,
                        sample_id=f"{self.name}/{format_length(length)}/{index}",
                        messages=(ChatMessage(role="user", content=prompt),),
                        references=(answer,),
                        target_length=length,
                        input_tokens=len(fitted.ids),
                        max_new_tokens=max_new,
                        use_chat_template=chat,
                        metadata={
                            "ability": self.ability,
                            "language": self.language,
                            "data_source": source,
                            "input_words": len(prompt.split()),
                            "input_chars": len(prompt),
                            **extra,
                        },
                    )
                )
            if short:
                print(
                    f"lc-bench: warning: {self.name}: {source} ran out of instances at {format_length(length)}: "
                    f"{short} prompt(s) shorter than the length",
                    file=sys.stderr,
                )
        return samples

    def generator(self, rng: random.Random, records: tuple[Any, ...], index: int) -> tuple[Maker, int]:
        raise NotImplementedError


@TASKS.register("m4le_hotpotqa")
class HotpotQA(M4LETask):
    """HotpotQA (distractor) with paragraphs of other records added to the length (create_qa_data.py)."""

    name: ClassVar[str] = "m4le_hotpotqa"
    description: ClassVar[str] = "M4LE hotpotqa (semantic multiple-span, en): multi-hop QA, padded with paragraphs"
    primary_metric: ClassVar[str] = "acc"
    source: ClassVar[str] = "hotpotqa"
    ability: ClassVar[str] = "semantic multiple-span"
    unit_tokens: ClassVar[float] = 60.0

    def generator(self, rng: random.Random, records: tuple[Any, ...], index: int) -> tuple[Maker, int]:
        row = records[index % len(records)]
        own = [" ".join(sentences) for _, sentences in row["context"]]
        fillers = [
            " ".join(sentences)
            for k in rng.sample(range(len(records)), len(records))
            if k != index % len(records)
            for _, sentences in records[k]["context"]
        ]
        places = sorted(rng.random() for _ in own)

        def make(n: int) -> tuple[str, str, dict[str, Any]]:
            paragraphs = insert_at(fillers[:n], own, places)
            lines = [f"Paragraph {i}: {text}" for i, text in enumerate(paragraphs, start=1)]
            lines += [f"Question: {row['question']}", "Answer:"]
            prompt = HOTPOT_INSTRUCTION + "\n" + HOTPOT_EXAMPLE + "\n\n" + "\n".join(lines)
            return prompt, row["answer"], {"n_para": len(paragraphs), "added_paragraphs": n}

        return make, len(fillers)

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        return {"acc": accuracy(output, references)}


NQ_INSTRUCTION = (
    "Write a high-quality answer for the given question using only the provided search results (some of which might "
    "be irrelevant)."
)


@TASKS.register("m4le_nq_open")
class NQOpen(M4LETask):
    """NQ-open over retrieved documents (create_qa_data.py's multi_document_qa, lost-in-the-middle's data and
    prompt): the top distractors without the answer in retrieval order, the gold chunk at a seeded place, the
    one-shot example appended as the next document, then the question."""

    name: ClassVar[str] = "m4le_nq_open"
    description: ClassVar[str] = "M4LE nq-open (semantic single-span, en): QA over retrieved documents, filled"
    primary_metric: ClassVar[str] = "acc"
    source: ClassVar[str] = "nq"
    ability: ClassVar[str] = "semantic single-span"
    unit_tokens: ClassVar[float] = 60.0

    def generator(self, rng: random.Random, records: tuple[Any, ...], index: int) -> tuple[Maker, int]:
        row = records[index % len(records)]
        distractors = [c for c in row["ctxs"] if c["hasanswer"] is False]
        gold = {"title": row["nq_annotated_gold"]["title"], "text": row["nq_annotated_gold"]["chunked_long_answer"]}
        place = rng.random()

        def make(n: int) -> tuple[str, str, dict[str, Any]]:
            documents = insert_at(distractors[:n], [gold], [place])
            listed = "\n".join(f"Document [{i + 1}](Title: {d['title']}) {d['text']}" for i, d in enumerate(documents))
            example = (
                f"Document [{len(documents) + 1}](Title: LLaMA) LLaMA (Large Language Model Meta AI) is a family of "
                "large language models (LLMs), released by Meta AI starting in February 2023.\n\nQuestion: when is "
                "LLaMA released\nAnswer: February 2023."
            )
            prompt = NQ_INSTRUCTION + "\n" + listed + "\n" + example + f"\nQuestion: {row['question']}\nAnswer:"
            extra = {"n_para": len(documents), "gold_index": documents.index(gold), "answers": row["answers"]}
            return prompt, row["answers"][0], extra

        return make, len(distractors)

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        return {"acc": accuracy(output, metadata.get("answers") or references)}
