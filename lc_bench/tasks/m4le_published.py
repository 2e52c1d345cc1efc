"""`m4le_pub_<task>`: M4LE's published instances (hub wckwan/M4LE, one config per task), all 39 of them,
the global-context tasks included, scored as evaluation.py scores each (scoring/m4le_published.py).

An instance is the original's finished prompt: `instruction + "\\n" + input` (inference.py), raw (no chat
template; `chat_template=true` sends it as one user message), with its `length_bucket` (1000 ... 32000,
counted in words of instruction, input and answer). M4LE reports by bucket, so a run length picks its
bucket: 1k -> 1000, 2k -> 2000, 4k -> 4000, 6k -> 6000, ... (`bucket=` chooses one for every length), and
the cell's samples are that bucket's first instances. The original feeds the prompt whole; lc_bench fits
it to the run length (prompt + output budget <= the length): a prompt over it loses its middle
(`truncation=middle`, InfiniteBench's cut: the instruction and the question at the end stay) or is
skipped and counted (`truncation=none`). A bucket counts words, so its prompts are longer than the same
number of k tokens: run 2k with bucket=1000 to keep them whole. Output budget: 128 new tokens (the
original's API budget; its local runs allow `length_bucket` new tokens, `--max-new-tokens` for that).

Data: `data=auto` reads the hub config through `datasets`, else the shipped fixture with a warning (two
records per bucket 1000, 2000 and 4000, written by lc_bench in the published layout); a .jsonl or .parquet
file, or a folder holding <task>.jsonl / .parquet anywhere below it (the hub's classification/, nli/, qa/ ... layout).
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.axes import LabelAxis, ReportAxes
from lc_bench.errors import UsageError
from lc_bench.lengths import format_length
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.m4le_published import EVALUATIONS, score
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.datafiles import data_cache, hub_load, located_records, warn_fixture_fallback
from lc_bench.tasks.m4le import ABILITIES
from lc_bench.tasks.truncation import middle_cut

HUB_ID = "wckwan/M4LE"
GET_DATA_HINT = (
    f"the instances are on the hub ({HUB_ID}, one config per task: load_dataset('{HUB_ID}', TASK, split='test')); "
    "pass data=PATH to a TASK.jsonl or a folder holding it"
)
MAX_NEW_TOKENS = 128
# the README's task table: hub config -> (ability, language)
TASK_TABLE: dict[str, tuple[str, str]] = {
    "mnds-news_explicit-single": ("explicit single-span", "en"),
    "thucnews_explicit-single": ("explicit single-span", "zh"),
    "newsqa": ("explicit single-span", "en"),
    "c3": ("explicit single-span", "zh"),
    "wow": ("explicit single-span", "en"),
    "drcd_explicit-single": ("explicit single-span", "zh"),
    "cnnnews": ("explicit single-span", "en"),
    "cepsum": ("explicit single-span", "zh"),
    "lcsts": ("explicit single-span", "zh"),
    "ncls": ("explicit single-span", "en, zh"),
    "mnds-news_explicit-multiple": ("explicit multiple-span", "en"),
    "thucnews_explicit-multiple": ("explicit multiple-span", "zh"),
    "marc": ("explicit multiple-span", "en, zh"),
    "online-shopping": ("explicit multiple-span", "zh"),
    "wikitext-103": ("semantic single-span", "en"),
    "wiki2019zh": ("semantic single-span", "zh"),
    "duorc": ("semantic single-span", "en"),
    "nq-open": ("semantic single-span", "en"),
    "dureader": ("semantic single-span", "zh"),
    "drcd_semantic-single": ("semantic single-span", "zh"),
    "wikihow": ("semantic single-span", "en"),
    "news2016": ("semantic single-span", "zh"),
    "tedtalks-en2zh": ("semantic single-span", "en, zh"),
    "tedtalks-zh2en": ("semantic single-span", "en, zh"),
    "mnds-news_semantic-multiple": ("semantic multiple-span", "en"),
    "thucnews_semantic-multiple": ("semantic multiple-span", "zh"),
    "hotpotqa": ("semantic multiple-span", "en"),
    "bigpatent_global_cls": ("global context understanding", "en"),
    "triviaqa": ("global context understanding", "en"),
    "arxiv": ("global context understanding", "en"),
    "bigpatent_global_sum": ("global context understanding", "en"),
    "pubmed": ("global context understanding", "en"),
    "booksum": ("global context understanding", "en"),
    "cnewsum": ("global context understanding", "zh"),
    "clts+": ("global context understanding", "zh"),
    "open-subtitles-en2zh": ("global context understanding", "en, zh"),
    "open-subtitles-zh2en": ("global context understanding", "en, zh"),
    "news-commentary-en2zh": ("global context understanding", "en, zh"),
    "news-commentary-zh2en": ("global context understanding", "en, zh"),
}
BUCKET_AXIS = LabelAxis(
    title="M4LE length bucket (words)",
    field="length_bucket",
    order=("1000", "2000", "4000", "6000", "8000", "12000", "16000", "24000", "32000"),
    note="M4LE: the instance's bucket, words of instruction, input and answer",
)


def task_name(config: str) -> str:
    return "m4le_pub_" + config.replace("+", "_plus").replace("-", "_")


def fixture_path(config: str) -> Path:
    return Path(str(resources.files("lc_bench") / "data" / "m4le" / "published" / f"{config}.jsonl"))


def _checked(rows: list[tuple[str, Any]], where: str) -> tuple[dict[str, Any], ...]:
    if not rows:
        raise UsageError(f"{where} holds no M4LE instances")
    for location, row in rows:
        if not isinstance(row, dict):
            raise UsageError(f"{location}: an M4LE instance should be a JSON object")
        for field, kind in (("instruction", str), ("input", str), ("answers", list), ("length_bucket", int)):
            if not isinstance(row.get(field), kind) or isinstance(row.get(field), bool):
                raise UsageError(f"{location}: field '{field}' should be a {kind.__name__} (M4LE's published layout)")
        if not row["answers"] or not all(isinstance(answer, str) for answer in row["answers"]):
            raise UsageError(f"{location}: field 'answers' should list the gold answers as text")
    return tuple(row for _, row in rows)


def _read_file(path: Path) -> tuple[dict[str, Any], ...]:
    if not path.is_file():
        raise UsageError(f"M4LE data {path} not found; {GET_DATA_HINT}")
    return _checked(located_records(path), str(path))


@data_cache(maxsize=64)
def load_instances(data: str, config: str) -> tuple[tuple[dict[str, Any], ...], str]:
    """(instances, source) for hub config `config` (see the module docstring)."""
    if data == "fixture":
        return _read_file(fixture_path(config)), "fixture"
    if data != "auto":
        path = Path(data).expanduser()
        if path.is_dir():
            found = sorted(path.rglob(f"{config}.jsonl")) + sorted(path.rglob(f"{config}.parquet"))
            if not found:
                raise UsageError(f"no {config}.jsonl or .parquet under {path}; {GET_DATA_HINT}")
            path = found[0]
        return _read_file(path), str(path)
    try:
        import datasets

        rows = hub_load(lambda: datasets.load_dataset(HUB_ID, config, split="test"))
    except Exception as exc:  # noqa: BLE001 - offline or missing: one line, then the fixture
        warn_fixture_fallback(HUB_ID, exc, "fixtures", how=GET_DATA_HINT)  # one line for all 39 configs
        return _read_file(fixture_path(config)), "fixture"
    return _checked([(f"{HUB_ID}/{config}:{n}", dict(row)) for n, row in enumerate(rows)], HUB_ID), HUB_ID


class M4LEPublishedParams(TaskParams):
    data: str = Field(
        "auto", description="auto (hub, else shipped fixture) | fixture | TASK.jsonl | a folder holding it"
    )
    bucket: int | None = Field(None, ge=1, description="the length bucket for every length (default: 1k -> 1000, ...)")
    truncation: Literal["middle", "none"] = Field(
        "middle", description="a prompt over the length: cut its middle | skip"
    )
    chat_template: bool = Field(False, description="the original feeds local models the raw prompt")


class M4LEPublishedTask(TaskBase):
    """One M4LE hub task (see the module docstring)."""

    config: ClassVar[str]
    family: ClassVar[str] = "m4le"
    params_model: ClassVar[type[TaskParams]] = M4LEPublishedParams
    default_max_new_tokens: ClassVar[int] = MAX_NEW_TOKENS
    report: ClassVar[ReportAxes] = ReportAxes(
        labels=(
            LabelAxis(title="M4LE ability", field="ability", order=ABILITIES, note="M4LE: the ability a task tests"),
            LabelAxis(title="M4LE language", field="language", order=("en", "zh", "en, zh")),
            BUCKET_AXIS,
        )
    )
    params: M4LEPublishedParams

    def __init__(self, params: M4LEPublishedParams) -> None:
        self.params = params

    def _wrap(self, prompt: str) -> tuple[ChatMessage, ...]:
        return (ChatMessage(role="user", content=prompt),)

    def build(self, context: BuildContext) -> list[Sample]:
        rows, source = load_instances(self.params.data, self.config)
        tokenizer, chat = context.tokenizer, self.params.chat_template
        max_new = context.max_new_tokens or MAX_NEW_TOKENS
        ability, language = TASK_TABLE[self.config]
        samples = []
        for length in context.lengths:
            bucket = self.params.bucket or length // 1024 * 1000
            chosen = [row for row in rows if row["length_bucket"] == bucket][: context.samples_per_cell]
            if not chosen:
                print(f"lc-bench: {self.name}: no instance in length bucket {bucket} ({source}) for "
                      f"{format_length(length)}; choose one with --task-opt {self.name}.bucket=N", file=sys.stderr)
                continue
            skipped = 0
            for index, row in enumerate(chosen):
                prompt = row["instruction"] + "\n" + row["input"]
                budget = length - max_new
                whole = tokenizer.count(self._wrap(prompt), chat)
                fitted = None
                if budget > 0 and (whole <= budget or self.params.truncation == "middle"):
                    fitted = middle_cut(tokenizer, prompt, self._wrap, chat, budget, count=whole)
                if fitted is None:
                    skipped += 1
                    continue
                text, count, truncated = fitted
                samples.append(Sample(
                    task=self.name,
                    sample_id=f"{self.name}/{format_length(length)}/{bucket}/{index}",
                    messages=self._wrap(text),
                    references=tuple(row["answers"]),
                    target_length=length,
                    input_tokens=count,
                    max_new_tokens=max_new,
                    use_chat_template=chat,
                    truncated=truncated,
                    metadata={"ability": ability, "language": language, "length_bucket": str(bucket),
                              "m4le_task": self.config, "full_prompt_tokens": whole, "data_source": source,
                              "input_length": row.get("input_length")},
                ))
            if skipped:
                context.report_skipped(self.name, length, skipped)
        return samples

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        return {self.primary_metric: score(self.config, output, references)}


def _register(config: str) -> None:
    evaluation = EVALUATIONS[config]
    ability, language = TASK_TABLE[config]
    name = task_name(config)
    task_class = type(f"M4LEPublished_{name}", (M4LEPublishedTask,), {
        "config": config,
        "name": name,
        "primary_metric": evaluation.metric,
        "description": f"M4LE {config} ({ability}, {language}): published instances, {evaluation.metric}",
    })
    TASKS.register(name)(task_class)


for _config in TASK_TABLE:
    _register(_config)
