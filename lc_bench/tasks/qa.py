"""RULER's QA tasks: a question over a pile of documents (gold ones plus shuffled distractors).

qa_1 uses SQuAD, qa_2 HotpotQA (distractor setting), loaded through `datasets` from the hub or
from local JSONL. Offline, `data=auto` falls back to small fixtures written for this project
(with a warning on stderr and `data_source: fixture` in every sample), so a run never fails
for lack of network but never passes a fixture off as the real dataset.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from lc_bench.errors import UsageError
from lc_bench.lengths import format_length, input_budget
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.ruler import ruler_scores
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.datafiles import read_jsonl, warn_fixture_fallback
from lc_bench.tasks.fitting import fit_to_budget
from lc_bench.tasks.haystack import default_essays

QA_TEMPLATE = (
    "Answer the question based on the given documents. Only give me the answer and do not output any other words."
    "\n\nThe following are given documents.\n\n{context}\n\n"
    "Answer the question based on the given documents. Only give me the answer and do not output any other words."
    "\n\nQuestion: {query}"
)
QA_PREFIX = " Answer:"
DOCUMENT = "Document {i}:\n{document}"


@dataclass(frozen=True)
class QAItem:
    question: str
    answers: tuple[str, ...]
    gold: tuple[str, ...]


@dataclass(frozen=True)
class QAData:
    items: tuple[QAItem, ...]
    documents: tuple[str, ...]
    source: str


def _from_squad(rows: Any) -> QAData:
    items, docs = [], {}
    for row in rows:
        docs.setdefault(row["context"], None)
        items.append(QAItem(row["question"], tuple(row["answers"]["text"]), (row["context"],)))
    return QAData(tuple(items), tuple(docs), "squad")


def _from_hotpot(rows: Any) -> QAData:
    items, docs = [], {}
    for row in rows:
        titles, sentences = row["context"]["title"], row["context"]["sentences"]
        paragraphs = {t: f"{t}\n{''.join(s)}" for t, s in zip(titles, sentences, strict=True)}
        for paragraph in paragraphs.values():
            docs.setdefault(paragraph, None)
        gold = tuple(paragraphs[t] for t in dict.fromkeys(row["supporting_facts"]["title"]) if t in paragraphs)
        items.append(QAItem(row["question"], (row["answer"],), gold))
    return QAData(tuple(items), tuple(docs), "hotpotqa")


def _from_jsonl(path: Path) -> QAData:
    """Rows {question, answers, gold: [paragraphs], distractors?: [paragraphs]}; or raw SQuAD / HotpotQA rows."""
    rows = read_jsonl(path)
    if not rows:
        raise UsageError(f"{path} holds no questions")
    if "supporting_facts" in rows[0]:
        return _from_hotpot(rows)
    if "context" in rows[0] and isinstance(rows[0].get("answers"), dict):
        return _from_squad(rows)
    items, docs = [], {}
    for number, row in enumerate(rows, 1):
        missing = {"question", "answers", "gold"} - set(row)
        if missing:
            raise UsageError(f"{path}:{number} lacks {', '.join(sorted(missing))}")
        for paragraph in [*row["gold"], *row.get("distractors", [])]:
            docs.setdefault(paragraph, None)
        items.append(QAItem(row["question"], tuple(row["answers"]), tuple(row["gold"])))
    return QAData(tuple(items), tuple(docs), str(path))


def fixture(name: str) -> QAData:
    """A shipped fixture; its distractors are its other gold paragraphs plus essay paragraphs."""
    path = resources.files("lc_bench") / "data" / "qa" / f"{name}.jsonl"
    data = _from_jsonl(Path(str(path)))
    essays = [p.strip() for p in default_essays().split("\n\n") if len(p.split()) > 20]
    return QAData(data.items, (*data.documents, *essays), "fixture")


HUB = {"squad": ("rajpurkar/squad", None, "validation", _from_squad),
       "hotpotqa": ("hotpotqa/hotpot_qa", "distractor", "validation", _from_hotpot)}


@lru_cache(maxsize=8)
def load_qa(data: str, dataset: str, fixture_name: str) -> QAData:
    if data == "fixture":
        return fixture(fixture_name)
    if data.endswith(".jsonl"):
        path = Path(data).expanduser()
        if not path.exists():
            raise UsageError(f"QA data file {data} not found")
        return _from_jsonl(path)
    hub_id, config, split, convert = HUB[dataset] if data == "auto" else (data, None, "validation", HUB[dataset][3])
    try:
        from datasets import load_dataset

        rows = load_dataset(hub_id, config, split=split)
    except Exception as exc:  # noqa: BLE001 - offline or missing: say so in one line
        if data == "auto":
            warn_fixture_fallback(hub_id, exc, f"{fixture_name} fixture")
            return fixture(fixture_name)
        raise UsageError(f"cannot load QA data {hub_id}: {str(exc).splitlines()[0]}") from None
    return convert(rows)


class QAParams(TaskParams):
    data: str = Field("auto", description="auto (hub, else shipped fixture) | fixture | hub id | FILE.jsonl")


class QATask(TaskBase):
    name: ClassVar[str]
    description: ClassVar[str]
    dataset: ClassVar[str]
    fixture_name: ClassVar[str]
    params_model: ClassVar[type[TaskParams]] = QAParams
    family: ClassVar[str] = "ruler"
    primary_metric: ClassVar[str] = "string_match_part"
    default_max_new_tokens: ClassVar[int] = 32

    def __init__(self, params: QAParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        data = load_qa(self.params.data, self.dataset, self.fixture_name)
        max_new = context.max_new_tokens or self.default_max_new_tokens
        order = list(range(len(data.items)))
        random.Random(f"{context.seed}|{self.name}|order").shuffle(order)
        tokenizer = context.tokenizer
        samples = []
        for length in context.lengths:
            budget = input_budget(length, max_new)
            for index in range(context.samples_per_cell):
                item = data.items[order[index % len(order)]]
                seed = f"{context.seed}|{self.name}|{length}|{index}"
                pool = [d for d in data.documents if d not in item.gold]
                random.Random(seed).shuffle(pool)

                def make(n: int, item: QAItem = item, pool: list[str] = pool, seed: str = seed) -> str:
                    docs = [*item.gold, *(pool[i % len(pool)] for i in range(n))] if pool else list(item.gold)
                    random.Random(f"{seed}|{n}").shuffle(docs)
                    text = "\n\n".join(DOCUMENT.format(i=i + 1, document=d) for i, d in enumerate(docs))
                    return QA_TEMPLATE.format(context=text, query=item.question)

                def render(n: int, make: Any = make) -> str:
                    return tokenizer.render((ChatMessage(role="user", content=make(n)),), answer_prefix=QA_PREFIX)

                fixed = len(tokenizer.encode_rendered(render(0))[0])
                fitted = fit_to_budget(
                    render, tokenizer.encode_rendered, budget, max_units=budget // 8, unit_tokens=120,
                    fixed_tokens=fixed,
                )
                samples.append(
                    Sample(
                        task=self.name,
                        sample_id=f"{self.name}/{format_length(length)}/{index}",
                        messages=(ChatMessage(role="user", content=make(fitted.units)),),
                        references=item.answers,
                        target_length=length,
                        input_tokens=len(fitted.ids),
                        template_overhead=fixed,
                        max_new_tokens=max_new,
                        answer_prefix=QA_PREFIX,
                        metadata={
                            "question": item.question,
                            "documents": fitted.units + len(item.gold),
                            "documents_repeated": fitted.units > len(pool),
                            "data_source": data.source,
                        },
                    )
                )
        return samples

    def score(self, output: str, references: Sequence[str], metadata: dict[str, Any]) -> dict[str, float]:
        return ruler_scores(output, references)


@TASKS.register("qa_1")
class SquadQA(QATask):
    """RULER qa_1: SQuAD question over its paragraph and distractor paragraphs."""

    name: ClassVar[str] = "qa_1"
    description: ClassVar[str] = "RULER QA-1: SQuAD, gold paragraph among distractors"
    dataset: ClassVar[str] = "squad"
    fixture_name: ClassVar[str] = "squad_mini"


@TASKS.register("qa_2")
class HotpotQA(QATask):
    """RULER qa_2: HotpotQA multi-hop question over its supporting paragraphs and distractors."""

    name: ClassVar[str] = "qa_2"
    description: ClassVar[str] = "RULER QA-2: HotpotQA, supporting paragraphs among distractors"
    dataset: ClassVar[str] = "hotpotqa"
    fixture_name: ClassVar[str] = "hotpot_mini"
