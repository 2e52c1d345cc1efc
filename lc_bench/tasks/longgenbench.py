"""`longgenbench`: LongGenBench as published (Wu et al., ICLR 2025; github.com/mozhu621/LongGenBench).

Not lc_bench's own `longgen` (which generates its prompts): this task reads the benchmark's 800
pre-built prompts and asks, parses and counts as its code does (Evalution/inference.py, eval.py):

* data: Dataset/Dataset_short.json (the 16K setting: diary weeks, menu weeks, skyscraper floors and
  city blocks, 52-100 units) and Dataset/Dataset_long.json (32K: days, menu days, floors, blocks,
  300-365 units), 400 prompts each, records {prompt, checks_once, checks_range, checks_periodic, type,
  prefix, number}. `data=PATH` takes one of them or the folder holding them; the original publishes
  no hub copy, so `auto` (the default) uses the shipped fixture, lc_bench's own few prompts in the
  same layout, and says so on stderr. A record with more than 100 units belongs to the 32K set.
* prompt: the raw prompt with no chat template (vLLM `generate` on the text, inference.py:73); every
  official prompt ends with its output prefix ("*** started ***\\n#*# Week 1 (January 1st - January
  7th):"), which becomes the sample's answer prefix, so the rendered prompt is the file's prompt
  exactly. Generation stops at "*** finished" (inference.py:65).
* sampling and budget: temperature 0.95, top-p 0.95 (the longgenbench-paper suite), 16,000 new tokens
  for the 16K set and 32,000 for the 32K set (Run_short_*.sh / Run_long_*.sh MAX_LENGTH). As vLLM
  stops a request at the model's window, a sample's budget is also capped by the room its length
  leaves after the prompt (`--max-new-tokens` replaces the official budget).
* scoring: the prefix is put back in front of the output (inference.py:77) and scored by
  lc_bench/scoring/longgenbench.py: Completion Rate, and per check kind the counts that give the
  published pooled accuracies. The yes/no verdicts come from `lc-bench judge` (the plan in
  generation_judges.py asks eval.py's question); until a run is judged, an event counts when its
  unit's block contains the event's wording, a stand-in for the judge.

The prompts are used at their own size at each length (nothing is cut or padded); the length only
sets the window the output has. Samples carry their setting (16K / 32K) and scenario as report labels.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.axes import LabelAxis, ReportAxes, ScoreColumn
from lc_bench.errors import UsageError
from lc_bench.lengths import format_length
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.longgen import shape_checks
from lc_bench.scoring.longgenbench import KINDS, STOP, full_text, longgenbench_scores
from lc_bench.tasks.base import BuildContext, JudgePlan, TaskBase, TaskParams
from lc_bench.tasks.datafiles import (
    TEXT,
    WHOLE_NUMBER,
    FieldKind,
    data_cache,
    layout_problem,
    read_json_list,
    warn_fixture_fallback,
)
from lc_bench.tasks.generation import OUTPUT_LENGTH, TOKENS_PER_WORD, requested_label
from lc_bench.tasks.generation_judges import LongGenBenchChecks

FILES = {"short": "Dataset_short.json", "long": "Dataset_long.json"}
# the setting's name in the paper and its output budget (max_tokens of Run_short_* / Run_long_*.sh)
SETTINGS = {"short": ("16K", 16000), "long": ("32K", 32000)}
SHORT_MAX_UNITS = 100  # the 16K set has 52-100 units, the 32K set 300-365
SCENARIOS = {"Week": "diary", "Day": "diary", "Menu Week": "menu", "Menu Day": "menu", "Floor": "skyscraper",
             "Block": "urban planning"}
GET_DATA_HINT = (
    "the official files are Dataset/Dataset_short.json and Dataset/Dataset_long.json of "
    "github.com/mozhu621/LongGenBench: clone it where there is network, then pass data=PATH "
    "(either file, or the folder holding them)"
)
CHECKS = FieldKind(
    'an object of unit number -> event, e.g. {"12": "my wife birthday"}',
    lambda value: isinstance(value, dict) and all(
        isinstance(unit, str) and unit.isascii() and unit.isdigit() and isinstance(event, str)
        for unit, event in value.items()
    ),
)
LAYOUT = {"prompt": TEXT, "prefix": TEXT, "type": TEXT, "number": WHOLE_NUMBER,
          **{f"checks_{kind}": CHECKS for kind in KINDS}}
_WORDS = re.compile(r"(?:at least|minimum of|between) (\d+)(?: (?:and|to) \d+)? words")


@dataclass(frozen=True)
class Prompt:
    """One record of an official file: its set (short / long), its place in the file, the record."""

    subset: str
    index: int
    row: dict[str, Any]


def fixture_folder() -> Path:
    return Path(str(resources.files("lc_bench") / "data" / "longgenbench"))


def _read_file(path: Path) -> list[Prompt]:
    try:
        rows = read_json_list(path)
    except UsageError as exc:
        raise UsageError(f"{exc}; {GET_DATA_HINT}") from None
    if not rows:
        raise UsageError(f"{path} holds no records; {GET_DATA_HINT}")
    prompts = []
    for index, row in enumerate(rows):
        problem = layout_problem(row, LAYOUT)
        if problem is None and row["number"] < 1:
            problem = f"field 'number' should be a whole number of units above 0, got {row['number']}"
        if problem:
            raise UsageError(f"{path}: record {index + 1} {problem} (LongGenBench's layout); {GET_DATA_HINT}")
        prompts.append(Prompt("short" if row["number"] <= SHORT_MAX_UNITS else "long", index, row))
    return prompts


def _read_folder(folder: Path) -> list[Prompt]:
    """The official files in a folder (or in its Dataset/ folder: the repository's root)."""
    for place in (folder, folder / "Dataset"):
        paths = [place / name for name in FILES.values() if (place / name).is_file()]
        if paths:
            return [prompt for path in paths for prompt in _read_file(path)]
    raise UsageError(f"{folder} holds neither {FILES['short']} nor {FILES['long']}; {GET_DATA_HINT}")


@data_cache(maxsize=8)
def load_prompts(data: str) -> tuple[tuple[Prompt, ...], str]:
    """(prompts, source): the official files given by path, or the shipped fixture."""
    if data in ("auto", "fixture"):
        if data == "auto":  # the original publishes its files on GitHub only: nothing to download here
            warn_fixture_fallback("LongGenBench's official files", FileNotFoundError("no data given"),
                                  "LongGenBench fixture", how=GET_DATA_HINT)
        return tuple(_read_folder(fixture_folder())), "fixture"
    path = Path(data).expanduser()
    if not path.exists():
        raise UsageError(f"LongGenBench data {path} not found; {GET_DATA_HINT}")
    return tuple(_read_folder(path) if path.is_dir() else _read_file(path)), str(path)


def select(prompts: tuple[Prompt, ...], subset: str, per_set: int) -> list[Prompt]:
    """Up to `per_set` prompts of each chosen set, taking the scenarios in turn (file order within
    each), so that a small sample still has every scenario."""
    chosen = []
    for name in FILES:
        if subset not in ("both", name):
            continue
        by_type: dict[str, list[Prompt]] = {}
        for prompt in prompts:
            if prompt.subset == name:
                by_type.setdefault(prompt.row["type"], []).append(prompt)
        turns = [group[i] for i in range(max(map(len, by_type.values()), default=0))
                 for group in by_type.values() if i < len(group)]
        chosen += turns[:per_set]
    return chosen


def split_prompt(row: dict[str, Any]) -> tuple[str, str]:
    """(prompt text, answer prefix): the official prompt ends with its output prefix, which the sample
    carries as its answer prefix (the rendered prompt is unchanged); otherwise the prompt is kept
    whole and the prefix is only put back in front of the output when scoring, as inference.py does."""
    prompt, prefix = row["prompt"], row["prefix"]
    if prefix and prompt.endswith(prefix):
        return prompt[: -len(prefix)], prefix
    return prompt, ""


def words_per_unit(prompt: str) -> int | None:
    """The words each entry is asked for ("at least 200 words", "between 200 and 220 words")."""
    match = _WORDS.search(prompt)
    return int(match.group(1)) if match else None


class LongGenBenchParams(TaskParams):
    data: str = Field("auto", description="auto / fixture (shipped fixture) | Dataset_short.json / "
                                          "Dataset_long.json or their folder (github.com/mozhu621/LongGenBench)")
    subset: Literal["both", "short", "long"] = Field(
        "both", description="short: the 16K set (16000 new tokens); long: the 32K set (32000 new tokens)")
    chat_template: bool = Field(False, description="the official code feeds the raw prompt (no chat template)")


@TASKS.register("longgenbench")
class LongGenBench(TaskBase):
    """LongGenBench's 800 prompts as published: completion rate, once/range/periodic accuracy."""

    name: ClassVar[str] = "longgenbench"
    family: ClassVar[str] = "longgenbench"
    description: ClassVar[str] = ("LongGenBench (Wu et al.) as published: raw prompts + output prefix; completion, "
                                  "once/range/periodic checks (yes/no judge via lc-bench judge)")
    params_model: ClassVar[type[TaskParams]] = LongGenBenchParams
    primary_metric: ClassVar[str] = "average"
    default_max_new_tokens: ClassVar[int] = SETTINGS["short"][1]  # the 32K set's own is 32000
    judge_plan: ClassVar[JudgePlan | None] = LongGenBenchChecks()
    report: ClassVar[ReportAxes] = ReportAxes(
        labels=(
            LabelAxis(title="LongGenBench setting", field="setting", order=("16K", "32K"),
                      note="LongGenBench: 16K = Dataset_short (52-100 units), 32K = Dataset_long (300-365 units)"),
            LabelAxis(title="LongGenBench scenario", field="scenario",
                      order=("diary", "menu", "skyscraper", "urban planning")),
        ),
        output_length=OUTPUT_LENGTH,
        secondary=(
            ScoreColumn(header="CR %", source="completion"),
            *(ScoreColumn(header=f"{kind} %", source=kind) for kind in KINDS),
            # the published accuracy of a kind pools the samples: mean(yes) / mean(asked)
            *(column for kind in KINDS for column in (ScoreColumn(header=f"{kind} yes", source=f"{kind}_yes"),
                                                      ScoreColumn(header=f"{kind} asked", source=f"{kind}_checked"))),
        ),
    )

    def __init__(self, params: LongGenBenchParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        prompts, source = load_prompts(self.params.data)
        chosen = select(prompts, self.params.subset, context.samples_per_cell)
        if not chosen:
            raise UsageError(f"{source} holds no prompts of the {self.params.subset} set "
                             f"({SHORT_MAX_UNITS} units or fewer: short; more: long)")
        samples = []
        for length in context.lengths:
            built = [self._sample(context, prompt, length, source) for prompt in chosen]
            skipped = built.count(None)
            if skipped:
                context.report_skipped(self.name, length, skipped)
            fitted = [sample for sample in built if sample is not None]
            below = sum(1 for s in fitted if s.max_new_tokens < s.metadata["official_budget"])
            if below and context.max_new_tokens is None:
                print(f"lc-bench: warning: {self.name}: {below} of {len(fitted)} prompts at {format_length(length)} "
                      "get fewer new tokens than LongGenBench's budget (16000 / 32000): the length leaves less room "
                      "after the prompt", file=sys.stderr)
            samples += fitted
        return samples

    def _sample(self, context: BuildContext, prompt: Prompt, length: int, source: str) -> Sample | None:
        row, chat = prompt.row, self.params.chat_template
        text, prefix = split_prompt(row)
        messages = (ChatMessage(role="user", content=text),)
        input_tokens = context.tokenizer.count(messages, chat, prefix)
        room = length - input_tokens
        if room <= 0:
            return None
        setting, official = SETTINGS[prompt.subset]
        max_new = min(room, context.max_new_tokens or official)
        words = words_per_unit(row["prompt"])
        requested = {} if words is None else {
            "requested_length": float(words * row["number"]), "requested_label": requested_label(words * row["number"]),
            "window_holds_request": max_new >= math.ceil(words * row["number"] * TOKENS_PER_WORD),
        }
        return Sample(
            task=self.name, sample_id=f"{self.name}/{format_length(length)}/{prompt.subset}/{prompt.index}",
            messages=messages, references=(), target_length=length, input_tokens=input_tokens,
            max_new_tokens=max_new, use_chat_template=chat, answer_prefix=prefix, stop=(STOP,),
            metadata={
                "type": row["type"], "number": row["number"], "prefix": row["prefix"],
                **{f"checks_{kind}": row[f"checks_{kind}"] for kind in KINDS},
                "setting": setting, "scenario": SCENARIOS.get(row["type"], row["type"]), "index": prompt.index,
                "official_budget": official, "words_per_unit": words, "data_source": source, **requested,
            },
        )

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        return {**longgenbench_scores(full_text(metadata["prefix"], output), metadata), **shape_checks(output)}
