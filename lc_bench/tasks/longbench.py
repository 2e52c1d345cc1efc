"""LongBench v1 datasets as lc_bench tasks: `longbench_<dataset>`, one per dataset (21).

Each record is rendered with its dataset's published prompt and output budget, then fitted to
each requested length (input + output <= target, RULER's rule) by one of three policies:

* `middle` (LongBench's cut, lc_bench's budget): cut the formatted prompt's tokens to the first
  and last halves of the budget, before the chat template, with room reserved for the template;
* `context`: cut only the context field (head and tail halves), so the instructions and question
  are never lost;
* `none`: skip records that do not fit, and say how many were skipped at each length;
* `paper`: pred.py's truncation exactly (the `longbench-paper` suite), described below.

`paper` versus `middle`. pred.py (LongBench/pred.py:55-64) tokenizes the filled prompt as
`tokenizer(prompt)` does, so the special tokens the tokenizer adds (a BOS) are counted, and when
that exceeds `max_length` (config/model2maxlen.json: 3500 for a 4k model ... 31500 for a 32k one)
keeps the first and the last `int(max_length/2)` tokens, decodes each half with
skip_special_tokens=True (the BOS takes one of the head's places and is dropped), joins them, and
only then applies the chat template (not for trec, triviaqa, samsum, lsht, lcc, repobench-p).
The output budget and the template are not subtracted: the margin in max_length is meant to hold
them. `middle` instead keeps `(length - max_new_tokens - template) / 2` tokens per side, counted
without special tokens, re-measures the rendered prompt and shrinks until input + output fits
the length exactly. `paper` takes `max_length` (default: model2maxlen's rule for an n-k length,
n * 1000 - 500) and records what came out: `target_length` stays the grid's length, `input_tokens`
is the rendered prompt's real count (chat template included) and `max_length` is in the metadata;
a prompt whose input and output exceed the length is kept, and counted on stderr.
The chat template is the model's own, not pred.py's hand-written build_chat per model, and
pred.py's model-specific quirks (chatglm3 counted without special tokens, xgen/internlm reply
post-processing) are not reproduced.

SAMSum ends at the newline token, as pred.py's extra eos id (`stop_tokens`, `min_new_tokens=1`).
The recorded sample keeps `truncated`, the dataset's `length` field and its LongBench-E bucket.
Scores are LongBench's (scoring/longbench.py), x100 per sample, so a mean is eval.py's score.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.axes import LabelAxis, ReportAxes
from lc_bench.errors import UsageError
from lc_bench.lengths import format_length, input_budget
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.longbench import DATASET_METRICS, classification_score, length_bucket, score_sample
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.datafiles import (
    TEXT,
    TEXTS,
    TEXTS_OR_NULL,
    WHOLE_NUMBER,
    data_cache,
    hub_load,
    layout_problem,
    located_records,
    plain_record,
    warn_fixture_fallback,
)
from lc_bench.tasks.longbench_config import (
    DATASETS,
    HUB_MIRROR,
    MAX_NEW_TOKENS,
    MIN_NEW_TOKENS,
    NO_CHAT_TEMPLATE,
    PROMPTS,
    STOP_TOKENS,
    paper_max_length,
    task_name,
)
from lc_bench.tokenizers import ModelTokenizer

# LongBench's field layout, as THUDM/LongBench publishes it
LAYOUT = {
    "input": TEXT, "context": TEXT, "answers": TEXTS, "length": WHOLE_NUMBER, "dataset": TEXT, "language": TEXT,
    "all_classes": TEXTS_OR_NULL, "_id": TEXT,
}
GET_DATA_HINT = (
    "get the data with `huggingface-cli download --repo-type dataset Xnhyacinth/LongBench` on a machine "
    "with network, then pass data=PATH.jsonl|.parquet"
)


class LongBenchParams(TaskParams):
    data: str = Field("auto", description="auto (hub, else shipped fixture), fixture, a hub id, or a .jsonl/.parquet")
    truncation: Literal["middle", "context", "none", "paper"] = Field(
        "middle", description="middle, context, none, or paper: pred.py's cut to max_length (longbench-paper)"
    )
    max_length: int | None = Field(
        None, ge=2, description="truncation=paper: prompt tokens kept (model2maxlen.json); default n*1000-500 at n-k"
    )
    variant: Literal["v1", "e"] = Field("v1", description="e: LongBench-E's length-balanced split (<dataset>_e)")
    metric_mode: Literal["compat", "strict"] = "compat"


def raw_prompt_ids(tokenizer: ModelTokenizer, prompt: str) -> list[int]:
    """The ids of `tokenizer(prompt)` in the original scripts: the filled prompt without a chat
    template, with the special tokens the tokenizer adds to plain text (a BOS, GLM's prefix)."""
    return tokenizer.prompt_ids((ChatMessage(role="user", content=prompt),), use_chat_template=False)


def original_decode(tokenizer: ModelTokenizer, ids: Sequence[int]) -> str:
    """`tokenizer.decode(ids, skip_special_tokens=True)` as the original scripts call it: through
    transformers, so the tokenizer's own decoding settings (clean_up_tokenization_spaces) apply;
    ModelTokenizer.decode goes straight to the Rust backend. A tiktoken encoding decodes plainly."""
    hf = getattr(tokenizer, "hf", None)
    if hf is None:
        return tokenizer.decode(ids)
    return hf.decode(list(ids), skip_special_tokens=True)


def paper_middle_cut(tokenizer: ModelTokenizer, prompt: str, max_length: int) -> tuple[str, bool]:
    """LongBench/pred.py:57-62: over max_length tokens (special ones counted), the prompt becomes
    its first and last int(max_length/2) tokens, each half decoded without special tokens."""
    ids = raw_prompt_ids(tokenizer, prompt)
    if len(ids) <= max_length:
        return prompt, False
    half = max_length // 2  # int(max_length/2): the same for every length a float holds exactly
    return original_decode(tokenizer, ids[:half]) + original_decode(tokenizer, ids[-half:]), True


def fixture_path(dataset: str) -> Path:
    return Path(str(resources.files("lc_bench") / "data" / "longbench" / f"{dataset}.jsonl"))


def _check(rows: list[tuple[str, dict[str, Any]]], where: str) -> list[dict[str, Any]]:
    """The records, each checked against LongBench's layout; `rows` pairs each with where it is
    ("FILE:LINE", "FILE: record N"), so a message points at the bad one."""
    if not rows:
        raise UsageError(f"{where} holds no records")
    for location, row in rows:
        problem = layout_problem(row, LAYOUT)
        if problem:
            raise UsageError(f"{location}: {problem} (LongBench's field layout)")
        if DATASET_METRICS.get(row["dataset"]) is classification_score and row.get("all_classes") is None:
            raise UsageError(f"{location}: a {row['dataset']} record needs all_classes, its label set (LongBench's "
                             "classification score cannot score without it)")
    return [row for _, row in rows]


def _read_file(path: Path, dataset: str) -> list[dict[str, Any]]:
    if not path.exists():
        raise UsageError(f"LongBench data {path} not found; {GET_DATA_HINT}")
    located = located_records(path)
    return _check([(where, row) for where, row in located if _of_dataset(row, dataset)], str(path))


def _of_dataset(row: dict[str, Any], dataset: str) -> bool:
    """A combined file holds every dataset: keep this one's records (and LongBench-E's)."""
    return row.get("dataset", dataset) in (dataset, f"{dataset}_e")


@data_cache(maxsize=64)
def load_records(data: str, dataset: str, variant: str = "v1") -> tuple[tuple[dict[str, Any], ...], str]:
    """(records, source) for one dataset: `fixture`, a file, or a hub id (`auto` falls back)."""
    if data == "fixture":
        path = fixture_path(dataset)
        if not path.exists():
            raise UsageError(f"no shipped LongBench fixture for {dataset}; {GET_DATA_HINT}")
        return tuple(_read_file(path, dataset)), "fixture"
    if data.endswith((".jsonl", ".parquet")):
        return tuple(_read_file(Path(data).expanduser(), dataset)), data
    hub_id = HUB_MIRROR if data == "auto" else data
    try:
        from datasets import load_dataset

        config = f"{dataset}_e" if variant == "e" else dataset
        rows = [(f"{hub_id}/{config}: record {number}", plain_record(dict(row)))
                for number, row in enumerate(hub_load(lambda: load_dataset(hub_id, config, split="test")), 1)]
    except Exception as exc:  # noqa: BLE001 - offline or missing: one line
        if data == "auto" and fixture_path(dataset).exists():
            warn_fixture_fallback(f"{hub_id}/{dataset}", exc, how=GET_DATA_HINT)
            return tuple(_read_file(fixture_path(dataset), dataset)), "fixture"
        raise UsageError(f"cannot load LongBench {dataset} from {hub_id} ({type(exc).__name__}); "
                         f"{GET_DATA_HINT}") from None
    return tuple(_check(rows, f"{hub_id}/{dataset}")), hub_id


# LongBench-E's table: each record's bucket of its own `length` field (words, or characters for Chinese)
LENGTH_BUCKETS = LabelAxis(
    title="LongBench-E length (words, or characters for Chinese)", field="length_bucket",
    order=("0-4k", "4-8k", "8k+"), note="LongBench-E: the record's `length` in words, or characters for Chinese",
)


class LongBenchTask(TaskBase):
    """One LongBench v1 dataset (see the module docstring)."""

    dataset: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    family: ClassVar[str] = "longbench"
    params_model: ClassVar[type[TaskParams]] = LongBenchParams
    report: ClassVar[ReportAxes] = ReportAxes(labels=(LENGTH_BUCKETS,))
    primary_metric: ClassVar[str]
    default_max_new_tokens: ClassVar[int]

    def __init__(self, params: LongBenchParams) -> None:
        self.params = params

    def _messages(self, prompt: str) -> tuple[ChatMessage, ...]:
        return (ChatMessage(role="user", content=prompt),)

    def _context(self, row: dict[str, Any]) -> str:
        """The document the prompt holds (what truncation=context cuts)."""
        return row["context"]

    def _prompt(self, row: dict[str, Any], context: str | None = None) -> str:
        """The dataset's template filled with the record (or with a cut context)."""
        document = self._context(row) if context is None else context
        return PROMPTS[self.dataset].format(context=document, input=row["input"])

    def _paper_max_length(self, length: int) -> int:
        """truncation=paper: the tokens kept at a grid length."""
        if self.params.max_length is not None:
            return self.params.max_length
        kept = paper_max_length(length)
        if kept < 2:
            raise UsageError(f"{self.name}: truncation=paper keeps {kept} tokens at {format_length(length)} "
                             "(n*1000-500 at an n-k length): choose 1k or more, or set max_length")
        return kept

    def _paper_cut(self, tokenizer: ModelTokenizer, prompt: str, max_length: int) -> tuple[str, bool]:
        return paper_middle_cut(tokenizer, prompt, max_length)

    def _fit(self, row: dict[str, Any], context: BuildContext, budget: int, chat: bool) -> tuple[str, int, bool] | None:
        """The prompt, its rendered token count and whether it was cut; None when it cannot fit."""
        tokenizer = context.tokenizer
        prompt = self._prompt(row)
        count = tokenizer.count(self._messages(prompt), chat)
        if count <= budget:
            return prompt, count, False
        if self.params.truncation == "none":
            return None
        # Tokenise the pieces once; only the cut prompt is re-counted on each try.
        if self.params.truncation == "middle":
            ids, fixed = tokenizer.encode(prompt), 0
        else:
            ids, fixed = tokenizer.encode(self._context(row)), len(tokenizer.encode(self._prompt(row, "")))
        overhead = count - fixed - len(ids)  # the chat template's tokens (and any seam), corrected below
        for _ in range(4):  # re-tokenising at the cut can add a token or two: shrink and retry
            half = (budget - overhead - fixed) // 2
            if half <= 0:
                return None
            cut = tokenizer.decode(ids[:half]) + tokenizer.decode(ids[-half:])
            prompt = cut if self.params.truncation == "middle" else self._prompt(row, cut)
            count = tokenizer.count(self._messages(prompt), chat)
            if count <= budget:
                return prompt, count, True
            overhead += count - budget
        return None

    def _records(self) -> tuple[tuple[dict[str, Any], ...], str]:
        return load_records(self.params.data, self.dataset, self.params.variant)

    def _references(self, row: dict[str, Any]) -> tuple[str, ...]:
        return tuple(str(answer) for answer in row["answers"])

    def _metadata(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "dataset": self.dataset, "language": row["language"], "_id": row["_id"],
            "all_classes": row["all_classes"], "length": row["length"],
            "length_bucket": length_bucket(int(row["length"])),
        }

    def _check_rows(self, rows: Sequence[dict[str, Any]], source: str) -> None:
        """Refuse records the chosen settings cannot use (LongBench v2's rag mode needs its chunks)."""

    def build(self, context: BuildContext) -> list[Sample]:
        rows, source = self._records()
        rows = rows[: context.samples_per_cell]
        self._check_rows(rows, source)
        max_new = context.max_new_tokens or self.default_max_new_tokens
        chat = self.dataset not in NO_CHAT_TEMPLATE
        paper = self.params.truncation == "paper"
        samples = []
        for length in context.lengths:
            extra: dict[str, Any] = {}
            if paper:
                max_length = self._paper_max_length(length)
                extra = {"max_length": max_length}
            else:
                budget = input_budget(length, max_new)
            skipped = over = 0
            for row in rows:
                if paper:
                    prompt, truncated = self._paper_cut(context.tokenizer, self._prompt(row), max_length)
                    count = context.tokenizer.count(self._messages(prompt), chat)
                    over += count + max_new > length
                else:
                    fitted = self._fit(row, context, budget, chat)
                    if fitted is None:
                        skipped += 1
                        continue
                    prompt, count, truncated = fitted
                samples.append(
                    Sample(
                        task=self.name,
                        sample_id=f"{self.name}/{length}/{row['_id']}",
                        messages=self._messages(prompt),
                        references=self._references(row),
                        target_length=length,
                        input_tokens=count,
                        max_new_tokens=max_new,
                        use_chat_template=chat,
                        stop_tokens=STOP_TOKENS.get(self.dataset, ()),
                        min_new_tokens=MIN_NEW_TOKENS.get(self.dataset, 0),
                        truncated=truncated,
                        metadata={**self._metadata(row), "data_source": source,
                                  "truncation": self.params.truncation, **extra},
                    )
                )
            if over:
                print(f"lc-bench: {self.name}: {over} of {len(rows)} prompts (truncation=paper, max_length="
                      f"{max_length}) and their {max_new} new tokens exceed {format_length(length)}; kept as "
                      "pred.py keeps them", file=sys.stderr)
            if skipped:
                context.report_skipped(self.name, length, skipped)
                print(f"lc-bench: {self.name}: {skipped} of {len(rows)} records do not fit {length} tokens "
                      f"(truncation={self.params.truncation}); skipped", file=sys.stderr)
        return samples

    def score(self, output: str, references: Sequence[str], metadata: dict[str, Any]) -> dict[str, float]:
        value = score_sample(
            self.dataset, output, references, metadata.get("all_classes"), self.params.metric_mode
        )
        return {self.primary_metric: 100.0 * value}


METRIC_NAMES = {
    "qa_f1_score": "qa_f1", "qa_f1_zh_score": "qa_f1_zh", "rouge_score": "rouge_l", "rouge_zh_score": "rouge_l_zh",
    "classification_score": "classification", "retrieval_score": "retrieval", "retrieval_zh_score": "retrieval_zh",
    "count_score": "count", "code_sim_score": "code_sim",
}


def _register(dataset: str) -> None:
    name = task_name(dataset)
    metric = METRIC_NAMES[DATASET_METRICS[dataset].__name__]
    task_class = type(
        f"LongBench_{name}",
        (LongBenchTask,),
        {
            "dataset": dataset, "name": name, "primary_metric": metric,
            "default_max_new_tokens": MAX_NEW_TOKENS[dataset],
            "description": f"LongBench v1 {dataset} ({metric}, {MAX_NEW_TOKENS[dataset]} new tokens)",
        },
    )
    TASKS.register(name)(task_class)


for _dataset in DATASETS:
    _register(_dataset)
