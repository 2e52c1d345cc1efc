"""RULER's QA tasks: a question over a pile of documents (gold ones plus shuffled distractors).

qa_1 uses SQuAD, qa_2 HotpotQA (distractor setting), loaded through `datasets` from the hub or
from local files. Offline, `data=auto` falls back to small fixtures written for this project
(with a warning on stderr and `data_source: fixture` in every sample), so a run never fails
for lack of network but never passes a fixture off as the real dataset.

Two sets of rules choose what a sample holds (`dataset_rules`):

* `lc_bench` (default): SQuAD v1.1 validation and HotpotQA's supporting paragraphs as the gold
  documents; questions in a seeded random order; distractors drawn from the whole pool; every
  sample fitted to its own budget.
* `ruler`: what RULER's scripts/data/synthetic/qa.py does with its files (SQuAD 2.0 dev,
  HotpotQA dev distractor, both in their published json layout): the answerable SQuAD questions
  in file order (sample i asks question i at every length); a SQuAD question's distractors are
  its article's other paragraphs first, then random others; a HotpotQA question's gold documents
  are all of its (10) paragraphs; one document count per length (the most that fit with the
  first question), lowered by 10 for a sample that does not fit; the documents shuffled with a
  fixed seed (42 + --seed), so a document count always gives the same order. Documents are the
  distinct paragraphs sorted as text; a count beyond them repeats the whole sorted list.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.errors import UsageError
from lc_bench.lengths import format_length, input_budget
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.ruler import ruler_scores
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.datafiles import data_cache, decode_utf8, hub_load, read_bytes, read_jsonl, warn_fixture_fallback
from lc_bench.tasks.fitting import FitMemory, PrefixCounts, fit_to_budget
from lc_bench.tasks.haystack import SEAM_TOKENS, default_essays

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
        answers = tuple(row["answers"]["text"])
        if answers:  # SQuAD 2.0's unanswerable questions have none
            items.append(QAItem(row["question"], answers, (row["context"],)))
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


# -- the published files (RULER's download_qa_dataset.sh) -------------------------------------------


@dataclass(frozen=True)
class Official:
    """Where one of RULER's QA files comes from, and how a run is given it."""

    task: str
    what: str
    url: str
    file_name: str
    hub: tuple[str, str | None, str]
    fixture: str

    def hint(self) -> str:
        return (f"RULER downloads it from {self.url} (scripts/data/synthetic/json/download_qa_dataset.sh); "
                f"pass it as --task-opt {self.task}.data=PATH/{self.file_name}")


OFFICIAL = {
    "squad": Official("qa_1", "SQuAD 2.0 dev", "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v2.0.json",
                      "dev-v2.0.json", ("rajpurkar/squad_v2", None, "validation"), "squad_v2_dev_mini.json"),
    "hotpotqa": Official("qa_2", "HotpotQA dev distractor", "http://curtis.ml.cmu.edu/datasets/hotpot/"
                         "hotpot_dev_distractor_v1.json", "hotpot_dev_distractor_v1.json",
                         ("hotpotqa/hotpot_qa", "distractor", "validation"), "hotpot_dev_distractor_mini.json"),
}


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _squad_problem(data: Any) -> str | None:
    """What keeps `data` from being SQuAD 2.0 in its published layout (None: nothing)."""
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        return 'no "data" list of articles at the top'
    answerable = 0
    for a, article in enumerate(data["data"], 1):
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            return f'article {a} has no "paragraphs" list'
        for p, paragraph in enumerate(article["paragraphs"], 1):
            where = f"article {a}, paragraph {p}"
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str) \
                    or not isinstance(paragraph.get("qas"), list):
                return f'{where} lacks a "context" text or a "qas" list'
            for q, item in enumerate(paragraph["qas"], 1):
                if not isinstance(item, dict) or not isinstance(item.get("question"), str):
                    return f'{where}, question {q} has no "question" text'
                if "is_impossible" not in item:
                    return f'{where}, question {q} has no "is_impossible" (a SQuAD v1.1 file? RULER uses 2.0)'
                answers = item.get("answers")
                if not isinstance(answers, list) or not all(
                        isinstance(x, dict) and isinstance(x.get("text"), str) for x in answers):
                    return f'{where}, question {q} has no "answers" list of {{"text": ...}}'
                if not item["is_impossible"]:
                    if not answers:
                        return f"{where}, question {q} is answerable but has no answer"
                    answerable += 1
    return None if answerable else "it holds no answerable question"


def _hotpot_problem(data: Any) -> str | None:
    """What keeps `data` from being HotpotQA in its published layout (None: nothing)."""
    if not isinstance(data, list):
        return "it is not a JSON list of questions"
    if not data:
        return "it holds no questions"
    for number, record in enumerate(data, 1):
        if not isinstance(record, dict) or not isinstance(record.get("question"), str):
            return f'record {number} has no "question" text'
        if not isinstance(record.get("answer"), str):
            return f'record {number} has no "answer" text (the test set has none: RULER uses the dev set)'
        context = record.get("context")
        if not isinstance(context, list) or not all(
                isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) and _is_text_list(pair[1])
                for pair in context):
            return f'record {number}: "context" is not a list of [title, [sentences]]'
    return None


def read_official(path: Path, dataset: str) -> Any:
    """RULER's SQuAD 2.0 dev or HotpotQA dev distractor file, checked against its published layout:
    anything missing or malformed is one line naming where the real file comes from."""
    official = OFFICIAL[dataset]
    if not path.exists():
        raise UsageError(f"{official.what} file {path} not found; {official.hint()}")
    try:
        data = json.loads(decode_utf8(read_bytes(path, "data file"), str(path)))
    except (json.JSONDecodeError, RecursionError):
        raise UsageError(f"{path} is not valid JSON, so not the {official.what} file; {official.hint()}") from None
    except UsageError as exc:
        raise UsageError(f"{exc}; {official.hint()}") from None
    problem = (_squad_problem if dataset == "squad" else _hotpot_problem)(data)
    if problem:
        raise UsageError(f"{path} is not the {official.what} file in its published layout: {problem}; "
                         f"{official.hint()}")
    return data


def _squad_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The published SQuAD layout as the hub's flat rows (for the lc_bench rules)."""
    return [{"question": item["question"], "context": paragraph["context"],
             "answers": {"text": [] if item["is_impossible"] else [x["text"] for x in item["answers"]]}}
            for article in data["data"] for paragraph in article["paragraphs"] for item in paragraph["qas"]]


def _hotpot_rows(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The published HotpotQA layout as the hub's rows (for the lc_bench rules)."""
    rows = []
    for record in data:
        facts = record.get("supporting_facts") or []
        rows.append({"question": record["question"], "answer": record["answer"],
                     "context": {"title": [t for t, _ in record["context"]],
                                 "sentences": [s for _, s in record["context"]]},
                     "supporting_facts": {"title": [fact[0] for fact in facts if isinstance(fact, list) and fact]}})
    return rows


def _squad_layout(rows: Any) -> dict[str, Any]:
    """The hub's squad_v2 rows back in the published layout: consecutive rows of one title form an
    article, consecutive rows of one context a paragraph (the hub keeps the file's order)."""
    articles: list[dict[str, Any]] = []
    for row in rows:
        if not articles or articles[-1]["title"] != row["title"]:
            articles.append({"title": row["title"], "paragraphs": []})
        paragraphs = articles[-1]["paragraphs"]
        if not paragraphs or paragraphs[-1]["context"] != row["context"]:
            paragraphs.append({"context": row["context"], "qas": []})
        texts = list(row["answers"]["text"])
        paragraphs[-1]["qas"].append({"question": row["question"], "answers": [{"text": t} for t in texts],
                                      "is_impossible": not texts})
    return {"data": articles}


def _hotpot_layout(rows: Any) -> list[dict[str, Any]]:
    """The hub's hotpot_qa rows back in the published layout."""
    return [{"question": row["question"], "answer": row["answer"],
             "context": [[t, list(s)] for t, s in zip(row["context"]["title"], row["context"]["sentences"],
                                                       strict=True)]}
            for row in rows]


@data_cache(maxsize=8)
def load_qa(data: str, dataset: str, fixture_name: str) -> QAData:
    if data == "fixture":
        return fixture(fixture_name)
    if data.endswith(".jsonl"):
        path = Path(data).expanduser()
        if not path.exists():
            raise UsageError(f"QA data file {data} not found")
        return _from_jsonl(path)
    if data.endswith(".json"):
        published = read_official(Path(data).expanduser(), dataset)
        rows = _squad_rows(published) if dataset == "squad" else _hotpot_rows(published)
        converted = (_from_squad if dataset == "squad" else _from_hotpot)(rows)
        return QAData(converted.items, converted.documents, data)
    hub_id, config, split, convert = HUB[dataset] if data == "auto" else (data, None, "validation", HUB[dataset][3])
    try:
        from datasets import load_dataset

        rows = hub_load(lambda: load_dataset(hub_id, config, split=split))
    except Exception as exc:  # noqa: BLE001 - offline or missing: say so in one line
        if data == "auto":
            warn_fixture_fallback(hub_id, exc, f"{fixture_name} fixture")
            return fixture(fixture_name)
        raise UsageError(f"cannot load QA data {hub_id}: {str(exc).splitlines()[0]}") from None
    return convert(rows)


# -- RULER's rules ----------------------------------------------------------------------------------

RULER_SEED = 42  # RULER's --random_seed: its document shuffle is random.Random(42) every time
RULER_STEP = 10  # RULER's `incremental`: a sample that does not fit drops this many documents


@dataclass(frozen=True)
class RulerQuestion:
    question: str
    answers: tuple[str, ...]
    gold: tuple[int, ...]  # indices into the sorted documents
    same_article: tuple[int, ...] = ()  # SQuAD: the article's other paragraphs, in article order


@dataclass(frozen=True)
class RulerData:
    questions: tuple[RulerQuestion, ...]
    documents: tuple[str, ...]  # every distinct paragraph, sorted as text
    source: str


def ruler_squad(data: dict[str, Any], source: str) -> RulerData:
    """RULER's read_squad: the answerable questions in file order, each with its paragraph and its
    article's other paragraphs; every answer text kept (duplicates too)."""
    documents = tuple(sorted({p["context"] for article in data["data"] for p in article["paragraphs"]}))
    index = {text: number for number, text in enumerate(documents)}
    questions = []
    for article in data["data"]:
        article_docs = [index[p["context"]] for p in article["paragraphs"]]
        for paragraph in article["paragraphs"]:
            gold = index[paragraph["context"]]
            others = tuple(number for number in article_docs if number != gold)
            questions += [RulerQuestion(item["question"], tuple(x["text"] for x in item["answers"]), (gold,), others)
                          for item in paragraph["qas"] if not item["is_impossible"]]
    return RulerData(tuple(questions), documents, source)


def _hotpot_document(title: str, sentences: list[str]) -> str:
    return f"{title}\n{''.join(sentences)}"


def ruler_hotpot(data: list[dict[str, Any]], source: str) -> RulerData:
    """RULER's read_hotpotqa: every question, all of its paragraphs ("title\\nsentences") gold."""
    documents = tuple(sorted({_hotpot_document(t, s) for record in data for t, s in record["context"]}))
    index = {text: number for number, text in enumerate(documents)}
    questions = tuple(
        RulerQuestion(record["question"], (record["answer"],),
                      tuple(index[_hotpot_document(t, s)] for t, s in record["context"]))
        for record in data
    )
    return RulerData(questions, documents, source)


def ruler_selection(question: RulerQuestion, total: int, count: int, rng: random.Random) -> list[int]:
    """RULER's generate_input_output: the `count` documents of a sample, before the shuffle.

    Fewer than all: the gold ones, then (when the article's other paragraphs are not all
    needed) a random sample of those, else all of them in article order and a random sample of
    the rest. All or more: the sorted documents repeated and cut to `count`."""
    gold, more = list(question.gold), list(question.same_article)
    if count < total:
        if count - len(gold) > len(more):
            taken = set(gold) | set(more)
            rest = [number for number in range(total) if number not in taken]
            return gold + more + rng.sample(rest, count - len(gold) - len(more))
        return gold + rng.sample(more, count - len(gold))
    return (list(range(total)) * -(-count // total))[:count]


def ruler_context(data: RulerData, selection: list[int], seed: int) -> str:
    """The documents RULER shows: the selection shuffled by a fresh random.Random(42 + seed), numbered."""
    shown = list(selection)
    random.Random(RULER_SEED + seed).shuffle(shown)
    return "\n\n".join(DOCUMENT.format(i=i + 1, document=data.documents[d]) for i, d in enumerate(shown))


def ruler_fixture(dataset: str) -> RulerData:
    official = OFFICIAL[dataset]
    path = Path(str(resources.files("lc_bench") / "data" / "qa" / official.fixture))
    data = read_official(path, dataset)
    return ruler_squad(data, "fixture") if dataset == "squad" else ruler_hotpot(data, "fixture")


@data_cache(maxsize=8)
def load_ruler_qa(data: str, dataset: str) -> RulerData:
    """`fixture`, `auto` (the hub's copy of RULER's file, else the fixture with a warning) or the
    published file's path."""
    if data == "fixture":
        return ruler_fixture(dataset)
    official = OFFICIAL[dataset]
    if data == "auto":
        hub_id, config, split = official.hub
        try:
            from datasets import load_dataset

            rows = hub_load(lambda: load_dataset(hub_id, config, split=split))
        except Exception as exc:  # noqa: BLE001 - offline or missing: say so in one line
            where = f"RULER's file: {official.url}; pass it as --task-opt {official.task}.data=PATH"
            warn_fixture_fallback(hub_id, exc, f"{official.fixture} fixture", how=where)
            return ruler_fixture(dataset)
        if dataset == "squad":
            return ruler_squad(_squad_layout(rows), "squad_v2")
        return ruler_hotpot(_hotpot_layout(rows), "hotpotqa")
    if not data.endswith(".json"):
        raise UsageError(f"dataset_rules=ruler reads RULER's {official.what} json (data=auto, fixture or "
                         f"FILE.json), not {data!r}; {official.hint()}")
    published = read_official(Path(data).expanduser(), dataset)
    return ruler_squad(published, data) if dataset == "squad" else ruler_hotpot(published, data)


class QAParams(TaskParams):
    data: str = Field("auto", description="auto (hub, else shipped fixture) | fixture | hub id | FILE.jsonl | "
                                          "FILE.json (the published SQuAD 2.0 / HotpotQA layout)")
    dataset_rules: Literal["lc_bench", "ruler"] = Field(
        "lc_bench", description="ruler: RULER's data (SQuAD 2.0 dev / HotpotQA dev distractor json) and selection "
                                "(questions in file order, same-article distractors first, all HotpotQA paragraphs)")


class QATask(TaskBase):
    name: ClassVar[str]
    description: ClassVar[str]
    dataset: ClassVar[str]
    fixture_name: ClassVar[str]
    params_model: ClassVar[type[TaskParams]] = QAParams
    family: ClassVar[str] = "ruler"
    primary_metric: ClassVar[str] = "string_match_part"
    default_max_new_tokens: ClassVar[int] = 32
    grid_task: ClassVar[bool] = True  # sample i of a length depends on (seed, params, length, i) only
    builds_indices: ClassVar[bool] = True

    def __init__(self, params: QAParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        if self.params.dataset_rules == "ruler":
            return self._build_ruler(context)
        data = load_qa(self.params.data, self.dataset, self.fixture_name)
        max_new = context.max_new_tokens or self.default_max_new_tokens
        order = list(range(len(data.items)))
        random.Random(f"{context.seed}|{self.name}|order").shuffle(order)
        tokenizer = context.tokenizer
        samples = []
        memory: FitMemory = self.fit_memory(context)  # each first guess learns from the last sample's fit
        # counting at the seams (fitting.py): each "Document i:" header and each document's tokens,
        # counted once per tokenizer and reused by every sample drawing them
        headers: PrefixCounts = memory.setdefault("document headers", PrefixCounts(lambda start, stop: [
            len(tokenizer.encode(f"\n\nDocument {i}:\nx")) - 1 for i in range(start + 1, stop + 1)]))
        known: dict[str, int] = memory.setdefault("document tokens", {})

        def document_tokens(document: str) -> int:
            if document not in known:
                known[document] = len(tokenizer.encode(document))
            return known[document]

        for length in context.lengths:
            budget = input_budget(length, max_new)
            for index in context.cell_indices():
                item = data.items[order[index % len(order)]]
                seed = f"{context.seed}|{self.name}|{length}|{index}"
                pool = [d for d in data.documents if d not in item.gold]
                random.Random(seed).shuffle(pool)

                def make(n: int, item: QAItem = item, pool: list[str] = pool, seed: str = seed) -> str:
                    docs = [*item.gold, *(pool[i % len(pool)] for i in range(n))] if pool else list(item.gold)
                    random.Random(f"{seed}|order").shuffle(docs)
                    text = "\n\n".join(DOCUMENT.format(i=i + 1, document=d) for i, d in enumerate(docs))
                    return QA_TEMPLATE.format(context=text, query=item.question)

                def render(n: int, make: Any = make) -> str:
                    return tokenizer.render((ChatMessage(role="user", content=make(n)),), answer_prefix=QA_PREFIX)

                drawn = PrefixCounts(lambda start, stop, pool=pool: [
                    document_tokens(pool[i % len(pool)]) for i in range(start, stop)] if pool else [0] * (stop - start))
                gold = sum(document_tokens(document) for document in item.gold)

                def pieces(n: int, item: QAItem = item, drawn: PrefixCounts = drawn, gold: int = gold) -> int:
                    return headers.total(len(item.gold) + n) + gold + drawn.total(n)

                fixed = len(tokenizer.encode_rendered(render(0))[0])
                fitted = fit_to_budget(
                    render, tokenizer.encode_rendered, budget, max_units=budget // 8, unit_tokens=120,
                    fixed_tokens=fixed, memory=memory, key=budget, probe=True, pieces=pieces,
                    # n -> n + 1 adds document pool[n], its number and a blank line
                    min_unit_tokens=lambda n, pool=pool: (
                        max(0, len(tokenizer.encode(pool[n % len(pool)])) - SEAM_TOKENS) if pool else 0),
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

    def _build_ruler(self, context: BuildContext) -> list[Sample]:
        """RULER's rules (module docstring): sample i asks the i-th question at every length, with
        the length's one document count, lowered for a sample that does not fit."""
        data = load_ruler_qa(self.params.data, self.dataset)
        max_new = context.max_new_tokens or self.default_max_new_tokens
        tokenizer = context.tokenizer
        total = len(data.documents)

        def content(question: RulerQuestion, count: int, rng_seed: str) -> str:
            selection = ruler_selection(question, total, count, random.Random(rng_seed))
            return QA_TEMPLATE.format(context=ruler_context(data, selection, context.seed), query=question.question)

        def tokens(text: str) -> list[int]:
            rendered = tokenizer.render((ChatMessage(role="user", content=text),), answer_prefix=QA_PREFIX)
            return tokenizer.encode_rendered(rendered)[0]

        samples = []
        counts = self.fit_memory(context)  # the length's document count, searched once per run
        for length in context.lengths:
            budget = input_budget(length, max_new)
            first = data.questions[0]
            probe = f"{context.seed}|{self.name}|{length}|probe"
            key = ("ruler document count", probe, budget, data.source)
            if key not in counts:
                # RULER searches the document count with its first question, then keeps it for every sample
                fitted = fit_to_budget(
                    lambda extra, q=first, p=probe: tokenizer.render(
                        (ChatMessage(role="user", content=content(q, len(q.gold) + extra, f"{p}|{extra}")),),
                        answer_prefix=QA_PREFIX),
                    tokenizer.encode_rendered, budget, max_units=max(1, budget // 8), unit_tokens=120,
                )
                counts[key] = len(first.gold) + fitted.units
            count = counts[key]
            for index in context.cell_indices():
                question = data.questions[index % len(data.questions)]
                seed = f"{context.seed}|{self.name}|{length}|{index}"
                text, ids, used = self._ruler_fit(question, count, budget, lambda n, q=question, s=seed: content(
                    q, n, f"{s}|{n}"), tokens, length)
                samples.append(Sample(
                    task=self.name,
                    sample_id=f"{self.name}/{format_length(length)}/{index}",
                    messages=(ChatMessage(role="user", content=text),),
                    references=question.answers,
                    target_length=length,
                    input_tokens=len(ids),
                    template_overhead=len(tokens(QA_TEMPLATE.format(context="", query=question.question))),
                    max_new_tokens=max_new,
                    answer_prefix=QA_PREFIX,
                    metadata={
                        "question": question.question,
                        "question_index": index % len(data.questions),
                        "documents": used,
                        "documents_repeated": used > total,
                        "data_source": data.source,
                        "dataset_rules": "ruler",
                    },
                ))
        return samples

    @staticmethod
    def _ruler_fit(
        question: RulerQuestion, count: int, budget: int, make: Callable[[int], str],
        tokens: Callable[[str], list[int]], length: int,
    ) -> tuple[str, list[int], int]:
        """RULER's retry: drop 10 documents while the sample is too long. Where RULER would loop for
        ever (10 or fewer left, or fewer than the gold ones), drop one at a time down to the gold."""
        smallest = len(question.gold)
        count = max(count, smallest)
        while True:
            text = make(count)
            ids = tokens(text)
            if len(ids) <= budget:
                return text, ids, count
            if count <= smallest:
                raise UsageError(f"length {format_length(length)} cannot hold the {smallest} gold document(s) of "
                                 f"question {question.question!r}: choose a longer length")
            count = max(smallest, count - RULER_STEP if count > RULER_STEP else count - 1)

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
