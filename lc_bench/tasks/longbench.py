"""LongBench v1 datasets as lc_bench tasks: `longbench_<dataset>`, one per dataset (21).

Each record is rendered with its dataset's published prompt and output budget, then fitted to
each requested length (input + output <= target, RULER's rule) by one of three policies:

* `middle` (LongBench's): cut the formatted prompt's tokens to the first and last halves of the
  budget, before the chat template, with room reserved for the template;
* `context`: cut only the context field (head and tail halves), so the instructions and question
  are never lost;
* `none`: skip records that do not fit, and say how many were skipped at each length.

The recorded sample keeps `truncated`, the dataset's `length` field and its LongBench-E bucket.
Scores are LongBench's (scoring/longbench.py), x100 per sample, so a mean is eval.py's score.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.axes import LabelAxis, ReportAxes
from lc_bench.errors import UsageError
from lc_bench.lengths import input_budget
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.longbench import DATASET_METRICS, classification_score, length_bucket, score_sample
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.datafiles import (
    TEXT,
    TEXTS,
    TEXTS_OR_NULL,
    WHOLE_NUMBER,
    layout_problem,
    numbered_jsonl,
    warn_fixture_fallback,
)
from lc_bench.tasks.longbench_config import (
    DATASETS,
    HUB_MIRROR,
    MAX_NEW_TOKENS,
    NO_CHAT_TEMPLATE,
    PROMPTS,
    STOP,
    task_name,
)

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
    truncation: Literal["middle", "context", "none"] = "middle"
    variant: Literal["v1", "e"] = Field("v1", description="e: LongBench-E's length-balanced split (<dataset>_e)")
    metric_mode: Literal["compat", "strict"] = "compat"


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
    if path.suffix == ".parquet":
        located = [(f"{path}: record {number}", row) for number, row in enumerate(_read_parquet(path), 1)]
    else:
        located = [(f"{path}:{number}", row) for number, row in numbered_jsonl(path)]
    return _check([(where, row) for where, row in located if _of_dataset(row, dataset)], str(path))


def _of_dataset(row: dict[str, Any], dataset: str) -> bool:
    """A combined file holds every dataset: keep this one's records (and LongBench-E's)."""
    return row.get("dataset", dataset) in (dataset, f"{dataset}_e")


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    """A parquet file's rows as plain records; a corrupt or foreign file is one line."""
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid / ArrowIOError derive from these
        raise UsageError(f"{path} is not a readable parquet file: {str(exc).splitlines()[0]}") from None
    return [_plain(row) for row in frame.to_dict("records")]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """Parquet gives numpy arrays for list fields; records want plain lists."""
    return {key: (list(value) if hasattr(value, "tolist") and not isinstance(value, str) else value)
            for key, value in row.items()}


@lru_cache(maxsize=64)
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
        rows = [(f"{hub_id}/{config}: record {number}", _plain(dict(row)))
                for number, row in enumerate(load_dataset(hub_id, config, split="test"), 1)]
    except Exception as exc:  # noqa: BLE001 - offline or missing: one line
        if data == "auto" and fixture_path(dataset).exists():
            warn_fixture_fallback(f"{hub_id}/{dataset}", exc)
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

    def _prompt(self, row: dict[str, Any], context: str | None = None) -> str:
        """The dataset's template filled with the record (or with a cut context)."""
        return PROMPTS[self.dataset].format(context=row["context"] if context is None else context, input=row["input"])

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
            ids, fixed = tokenizer.encode(row["context"]), len(tokenizer.encode(self._prompt(row, "")))
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

    def build(self, context: BuildContext) -> list[Sample]:
        rows, source = self._records()
        rows = rows[: context.samples_per_cell]
        max_new = context.max_new_tokens or self.default_max_new_tokens
        chat = self.dataset not in NO_CHAT_TEMPLATE
        samples = []
        for length in context.lengths:
            budget = input_budget(length, max_new)
            skipped = 0
            for row in rows:
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
                        stop=STOP.get(self.dataset, ()),
                        truncated=truncated,
                        metadata={**self._metadata(row), "data_source": source,
                                  "truncation": self.params.truncation},
                    )
                )
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
