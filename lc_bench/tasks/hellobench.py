"""HelloBench (Que et al. 2024, github.com/Quehry/HelloBench): long text generation in the wild.

Five task types, one lc_bench task each, plus the length-constrained experiment:

* hellobench_open_ended_qa (200 prompts, 7 checklists), hellobench_summarization (6),
  hellobench_chat (147, 6), hellobench_text_completion (77, 5), hellobench_heuristic_text_generation
  (123, 5): data/main_data/<type>.jsonl;
* hellobench_length_constrained: heuristic text generation asked for "no shorter than" 2000 / 4000 /
  8000 / 16000 words (data/length_constrained_data/heuristic_text_generation_{2k,4k,8k,16k}.jsonl).

Records are {id, category (the subcategory), instruction, checklists, formatted_checklists,
num_checklist, raw_text, requirements}; the instruction is the whole user message, sent with the
chat template (run.py). `data=auto` (the default) reads the hub copy quehry/HelloBench (one test
split of the five types' main data, told apart by their ids) and, where the hub cannot be reached,
the shipped fixture (a few records of lc_bench's own in the same layout), saying so; the
length-constrained files are on GitHub only. `data=PATH` takes the repository (or its data/
folder), OpenCompass's flat HelloBench/ folder (<type>.jsonl, length_constrained_data/), or one
.jsonl file. Small samples take the subcategories in turn.

Budget: 16,384 new tokens (24,000 for the 16k setting: run.py's *_length_constrained_exps), capped
by the room the length leaves after the prompt. Generation in the paper samples at temperature 0.8.

Scores: always the rule-based ones, words (LongWriter's count), repetition and, for the
length-constrained task, LongWriter's length score against the requested words (the original only
reports the output length; it has no format checks). HelloEval, the benchmark's own score, needs a
judge: `lc-bench judge RUN` asks llm_judge.py's checklist prompt and adds `hello_eval` (the
subcategory-weighted checklist sum, 0-100; the primary score, empty until judged) and
`hello_eval_rescaled` (OpenCompass's (x - 75) * 4): see lc_bench/scoring/hellobench.py.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from lc_bench.axes import LabelAxis, OutputLengthAxis, ReportAxes, ScoreColumn
from lc_bench.errors import UsageError
from lc_bench.lengths import format_length
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.hellobench import SYS_PROMPT, checklist_scores, judge_prompt, parse_checklist_scores
from lc_bench.scoring.longgen import count_words, length_score, shape_checks
from lc_bench.tasks.base import BuildContext, JudgePlan, TaskBase, TaskParams
from lc_bench.tasks.datafiles import (
    TEXT,
    TEXTS,
    FieldKind,
    data_cache,
    hub_load,
    layout_problem,
    numbered_jsonl,
    warn_fixture_fallback,
)
from lc_bench.tasks.generation import TOKENS_PER_WORD, requested_label
from lc_bench.tasks.generation_judges import JudgeSampling

CATEGORIES = ("open_ended_qa", "summarization", "chat", "text_completion", "heuristic_text_generation")
LENGTH_SETTINGS = {"2k": 2000, "4k": 4000, "8k": 8000, "16k": 16000}  # words asked ("no shorter than")
MAX_NEW_TOKENS = 16384  # run.py / README generation table
MAX_NEW_TOKENS_16K = 24000  # run.py: the 16k length-constrained setting
_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")  # owner/name, not a path
HUB_ID = "quehry/HelloBench"  # test.jsonl: the main data of the five types (no length-constrained files)
GET_DATA_HINT = (
    "the official files are data/main_data/<type>.jsonl and data/length_constrained_data/ of "
    "github.com/Quehry/HelloBench (or OpenCompass's HelloBench folder): clone it where there is network, "
    "then pass data=PATH (the repository, its data folder, or one .jsonl file)"
)
LAYOUT = {
    "id": TEXT,
    "category": TEXT,
    "instruction": TEXT,
    "checklists": TEXTS,
    "num_checklist": FieldKind("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool)),
}


@dataclass(frozen=True)
class Prompt:
    setting: str  # "" (main data) or the length-constrained setting ("2k" ...)
    index: int
    row: dict[str, Any]


def fixture_folder() -> Path:
    return Path(str(resources.files("lc_bench") / "data" / "hellobench"))


def _read_file(path: Path, setting: str) -> list[Prompt]:
    try:
        numbered = numbered_jsonl(path)
    except UsageError as exc:
        raise UsageError(f"{exc}; {GET_DATA_HINT}") from None
    if not numbered:
        raise UsageError(f"{path} holds no records; {GET_DATA_HINT}")
    return _checked([(f"{path}:{line}", row) for line, row in numbered], setting)


def _checked(rows: list[tuple[str, dict[str, Any]]], setting: str) -> list[Prompt]:
    """Prompts of records each checked against HelloBench's layout (`rows`: where each is, record)."""
    prompts = []
    for index, (location, row) in enumerate(rows):
        problem = layout_problem(row, LAYOUT)
        if problem is None and (not row["checklists"] or row["num_checklist"] != len(row["checklists"])):
            problem = f"has {len(row['checklists'])} checklists but num_checklist {row['num_checklist']}"
        if problem:
            raise UsageError(f"{location} {problem} (HelloBench's layout); {GET_DATA_HINT}")
        prompts.append(Prompt(setting, index, row))
    return prompts


def type_of(row: dict[str, Any]) -> str:
    """A record's task type from its id ("open_ended_qa_012" -> "open_ended_qa")."""
    return str(row.get("id", "")).rsplit("_", 1)[0]


def _from_hub(hub_id: str, category: str) -> list[Prompt]:
    """The main data of a task type from the hub copy (one test split of every type, told apart by id)."""
    from datasets import load_dataset

    loaded = hub_load(lambda: load_dataset(hub_id, split="test"))
    rows = [(f"{hub_id}: record {number}", dict(row)) for number, row in enumerate(loaded, 1)]
    chosen = [(where, row) for where, row in rows if type_of(row) == category]
    if not chosen:
        raise UsageError(f"{hub_id} holds no {category} records (ids {category}_NNN); {GET_DATA_HINT}")
    return _checked(chosen, "")


def _file_names(category: str) -> list[tuple[str, str]]:
    """(relative path, setting) of a task type's files in the published layout."""
    if category == "length_constrained":
        return [(f"heuristic_text_generation_{s}.jsonl", s) for s in LENGTH_SETTINGS]
    return [(f"{category}.jsonl", "")]


def _read_folder(folder: Path, category: str) -> list[Prompt]:
    """A task type's files in the repository (data/main_data, data/length_constrained_data), its data
    folder, or OpenCompass's flat folder (<type>.jsonl, length_constrained_data/)."""
    sub = "length_constrained_data" if category == "length_constrained" else "main_data"
    places = (folder / "data" / sub, folder / sub, folder / "length_constrained_data", folder)
    for place in places:
        found = [(place / name, setting) for name, setting in _file_names(category) if (place / name).is_file()]
        if found:
            return [prompt for path, setting in found for prompt in _read_file(path, setting)]
    wanted = ", ".join(name for name, _ in _file_names(category))
    raise UsageError(f"{folder} holds no {wanted}; {GET_DATA_HINT}")


def _setting_of(path: Path) -> str:
    for setting in LENGTH_SETTINGS:
        if path.stem.endswith(f"_{setting}"):
            return setting
    raise UsageError(
        f"cannot tell the length setting of {path.name}: expected a name like heuristic_text_generation_4k.jsonl"
    )


@data_cache(maxsize=16)
def load_prompts(data: str, category: str) -> tuple[tuple[Prompt, ...], str]:
    """(prompts, source) of a task type: the hub copy (auto or a hub id; main data only), the official
    files by path, or the shipped fixture (auto, when the hub cannot be reached)."""
    if data == "fixture":
        return tuple(_read_folder(fixture_folder(), category)), "fixture"
    if data == "auto" and category == "length_constrained":  # published on GitHub only
        warn_fixture_fallback(
            "HelloBench's length-constrained files",
            FileNotFoundError("not on the hub"),
            "HelloBench fixture",
            how=GET_DATA_HINT,
        )
        return load_prompts("fixture", category)
    if data == "auto" or (_HUB_ID.fullmatch(data) and not Path(data).exists()):
        hub_id = HUB_ID if data == "auto" else data
        try:
            return tuple(_from_hub(hub_id, category)), hub_id
        except UsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - offline or missing: one line
            if data == "auto":
                warn_fixture_fallback(hub_id, exc, "HelloBench fixture", how=GET_DATA_HINT)
                return load_prompts("fixture", category)
            raise UsageError(f"cannot load HelloBench from {hub_id} ({type(exc).__name__}); {GET_DATA_HINT}") from None
    path = Path(data).expanduser()
    if not path.exists():
        raise UsageError(f"HelloBench data {path} not found; {GET_DATA_HINT}")
    if path.is_dir():
        return tuple(_read_folder(path, category)), str(path)
    setting = _setting_of(path) if category == "length_constrained" else ""
    return tuple(_read_file(path, setting)), str(path)


def select(prompts: tuple[Prompt, ...], per_setting: int, settings: tuple[str, ...]) -> list[Prompt]:
    """Up to `per_setting` prompts of each setting, taking the subcategories in turn (file order
    within each), so that a small sample still covers them."""
    chosen = []
    for setting in settings:
        by_sub: dict[str, list[Prompt]] = {}
        for prompt in prompts:
            if prompt.setting == setting:
                by_sub.setdefault(prompt.row["category"], []).append(prompt)
        turns = [
            group[i]
            for i in range(max(map(len, by_sub.values()), default=0))
            for group in by_sub.values()
            if i < len(group)
        ]
        chosen += turns[:per_setting]
    return chosen


class HelloEvalChecklists:
    """HelloEval: one verdict per record, a JSON list scoring each checklist in {0, .25, .5, .75, 1};
    adds `hello_eval` (weighted by subcategory), `hello_eval_rescaled` and `checklist_<i>`."""

    system_prompt = SYS_PROMPT  # llm_judge.py's system message

    sampling = JudgeSampling(max_new_tokens=4096)
    # llm_judge.py: gpt-4o, temperature 0.8, seed 42, max_tokens 4096, `for _ in range(3)` tries
    paper_sampling = JudgeSampling(temperature=0.8, seed=42, max_new_tokens=4096, attempts=3)

    def prompts(self, record: dict[str, Any]) -> list[str]:
        metadata = record.get("metadata") or {}
        if not isinstance(metadata.get("instruction"), str) or not isinstance(metadata.get("checklists"), list):
            raise UsageError(f"record {record.get('key')} has no stored instruction and checklists (rerun the task)")
        return [judge_prompt(metadata["instruction"], record["completion"]["text"], metadata["checklists"])]

    def scores(self, record: dict[str, Any], replies: list[str]) -> tuple[dict[str, float], Any] | None:
        metadata = record["metadata"]
        parsed = parse_checklist_scores(replies[0], len(metadata["checklists"]))
        if parsed is None:
            return None
        return checklist_scores(metadata["subcategory"], parsed), parsed


HELLO_EVAL_NOTE = (
    "HelloBench: hello_eval is HelloEval's subcategory-weighted checklist score (0-100), after "
    "`lc-bench judge`; rescaled = (hello_eval - 75) * 4 as OpenCompass reports it"
)
SECONDARY = (
    ScoreColumn(header="hello_eval", source="hello_eval"),
    ScoreColumn(header="rescaled", source="hello_eval_rescaled"),
    ScoreColumn(header="words", source="words", format="count"),
    ScoreColumn(header="cut %", source="cut"),
    ScoreColumn(header="rep-4 %", source="repeated_4gram"),
)
SUBCATEGORY = LabelAxis(title="HelloBench subcategory", field="subcategory", note=HELLO_EVAL_NOTE)
LENGTH_AXIS = OutputLengthAxis(
    title="HelloBench: score by requested output length",
    note="HelloBench length-constrained heuristic text generation (no shorter than 2k-16k words): hello_eval after "
    "`lc-bench judge`; length: LongWriter's length score S_l against the requested words; words: LongWriter's "
    "count; cut: share of outputs stopped by the output budget; rep-4: share of repeated 4-grams.",
    unit="words",
    columns=(
        ScoreColumn(header="length", source="length_score"),
        ScoreColumn(header="words", source="words", format="count"),
        ScoreColumn(header="tokens", source="output_tokens", format="count"),
        ScoreColumn(header="cut %", source="cut"),
        ScoreColumn(header="rep-4 %", source="repeated_4gram"),
        ScoreColumn(header="hello_eval", source="hello_eval"),
    ),
)


class HelloBenchParams(TaskParams):
    data: str = Field(
        "auto",
        description="auto (hub quehry/HelloBench, else the shipped fixture) | fixture | a hub id | the HelloBench "
        "repository, its data folder or one .jsonl file (github.com/Quehry/HelloBench)",
    )


class HelloBenchLengthParams(HelloBenchParams):
    settings: list[str] = Field(list(LENGTH_SETTINGS), description="length-constrained settings: 2k, 4k, 8k, 16k")

    @field_validator("settings")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in LENGTH_SETTINGS]
        if unknown or not value:
            raise ValueError(f"settings must be among {', '.join(LENGTH_SETTINGS)}, got {value}")
        return value


class HelloBenchTask(TaskBase):
    """One HelloBench task type: its published prompts, rule-based shape scores, HelloEval via judge."""

    name: ClassVar[str]
    category: ClassVar[str]
    family: ClassVar[str] = "hellobench"
    description: ClassVar[str]
    params_model: ClassVar[type[TaskParams]] = HelloBenchParams
    primary_metric: ClassVar[str] = "hello_eval"
    default_max_new_tokens: ClassVar[int] = MAX_NEW_TOKENS
    judge_plan: ClassVar[JudgePlan | None] = HelloEvalChecklists()
    report: ClassVar[ReportAxes] = ReportAxes(labels=(SUBCATEGORY,), secondary=SECONDARY)

    def __init__(self, params: HelloBenchParams) -> None:
        self.params = params

    def _settings(self) -> tuple[str, ...]:
        return ("",)

    def build(self, context: BuildContext) -> list[Sample]:
        prompts, source = load_prompts(self.params.data, self.category)
        chosen = select(prompts, context.samples_per_cell, self._settings())
        if not chosen:
            raise UsageError(f"{source} holds no HelloBench prompts for {self.name}")
        samples = []
        for length in context.lengths:
            per_setting: dict[str, int] = {}
            built: list[Sample | None] = []
            for prompt in chosen:
                position = per_setting.get(prompt.setting, 0)
                per_setting[prompt.setting] = position + 1
                built.append(self._sample(context, prompt, position, length, source))
            if built.count(None):
                context.report_skipped(self.name, length, built.count(None))
            fitted = [sample for sample in built if sample is not None]
            short = sum(1 for s in fitted if not s.metadata.get("window_holds_request", True))
            if short:
                print(
                    f"lc-bench: warning: {self.name}: {short} of {len(fitted)} prompts at {format_length(length)} "
                    f"ask for more output than the window can hold (~{TOKENS_PER_WORD} tokens per word)",
                    file=sys.stderr,
                )
            samples += fitted
        return samples

    def _sample(self, context: BuildContext, prompt: Prompt, position: int, length: int, source: str) -> Sample | None:
        row = prompt.row
        messages = (ChatMessage(role="user", content=row["instruction"]),)
        input_tokens = context.tokenizer.count(messages)
        room = length - input_tokens
        if room <= 0:
            return None
        official = MAX_NEW_TOKENS_16K if prompt.setting == "16k" else MAX_NEW_TOKENS
        max_new = min(room, context.max_new_tokens or official)
        requested: dict[str, Any] = {}
        if prompt.setting:
            words = LENGTH_SETTINGS[prompt.setting]
            requested = {
                "requested_length": float(words),
                "requested_label": requested_label(words),
                "setting": prompt.setting,
                "window_holds_request": max_new >= words * TOKENS_PER_WORD,
            }
        tail = f"{prompt.setting}/{position}" if prompt.setting else str(position)
        return Sample(
            task=self.name,
            sample_id=f"{self.name}/{format_length(length)}/{tail}",
            messages=messages,
            references=(),
            target_length=length,
            input_tokens=input_tokens,
            max_new_tokens=max_new,
            metadata={
                "id": row["id"],
                "subcategory": row["category"],
                "instruction": row["instruction"],
                "checklists": list(row["checklists"]),
                "official_budget": official,
                "data_source": source,
                **requested,
            },
        )

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        scores = shape_checks(output)
        if "requested_length" in metadata:
            scores["length_score"] = length_score(float(metadata["requested_length"]), count_words(output))
        return scores


def _register(category: str, summary: str) -> type[HelloBenchTask]:
    name = f"hellobench_{category}"
    cls = type(
        name,
        (HelloBenchTask,),
        {
            "name": name,
            "category": category,
            "__doc__": f"HelloBench {category}: {summary}",
            "description": f"HelloBench {category.replace('_', ' ')}: {summary}; HelloEval checklist judge "
            "(lc-bench judge)",
        },
    )
    return TASKS.register(name)(cls)


HelloBenchOpenEndedQA = _register("open_ended_qa", "200 Quora/Reddit questions, 7 checklists")
HelloBenchSummarization = _register("summarization", "summaries of long texts, 6 checklists")
HelloBenchChat = _register("chat", "147 chat requests, 6 checklists")
HelloBenchTextCompletion = _register("text_completion", "77 continuations / imitations / style transfers")
HelloBenchHeuristicTextGeneration = _register("heuristic_text_generation", "123 essays, stories, scripts")


@TASKS.register("hellobench_length_constrained")
class HelloBenchLengthConstrained(HelloBenchTask):
    """HelloBench's length-constrained experiment: essays and stories of at least 2k-16k words."""

    name: ClassVar[str] = "hellobench_length_constrained"
    category: ClassVar[str] = "length_constrained"
    description: ClassVar[str] = (
        "HelloBench length-constrained heuristic text generation (>= 2k/4k/8k/16k words): "
        "LongWriter length score; HelloEval checklist judge (lc-bench judge)"
    )
    params_model: ClassVar[type[TaskParams]] = HelloBenchLengthParams
    report: ClassVar[ReportAxes] = ReportAxes(labels=(SUBCATEGORY,), output_length=LENGTH_AXIS, secondary=SECONDARY)

    def _settings(self) -> tuple[str, ...]:
        return tuple(self.params.settings)  # type: ignore[attr-defined]
