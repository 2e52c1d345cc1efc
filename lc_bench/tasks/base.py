"""The Task protocol: a sample generator plus a scorer. A task never calls a model."""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from lc_bench.axes import ReportAxes
from lc_bench.lengths import format_length, input_budget
from lc_bench.schema import ChatMessage, Sample
from lc_bench.specs import SampleSpec, params_json, tokenizer_fingerprint
from lc_bench.tokenizers import ModelTokenizer


class TaskParams(BaseModel):
    """Base for each task's parameters: typed, and unknown keys are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class BuildContext:
    """What a task needs to build samples: the model's tokenizer and the grid to fill."""

    tokenizer: ModelTokenizer
    lengths: tuple[int, ...]
    depths: tuple[float, ...]
    samples_per_cell: int
    seed: int
    max_new_tokens: int | None = None
    # (task, target length) -> samples left out because they could not fit; the manifest keeps it
    skipped: dict[tuple[str, int], int] = field(default_factory=dict)
    # the data protocol the run asked for (part of every sample spec)
    protocol: str = "lc_bench"
    # only these indices of each cell are wanted (None: all of range(samples_per_cell)); a grid task
    # that loops over `cell_indices()` builds just them, one that ignores it builds the rest too
    indices: tuple[int, ...] | None = None

    def cell_indices(self) -> Sequence[int]:
        """The sample indices to build in each cell."""
        return self.indices if self.indices is not None else range(self.samples_per_cell)

    def report_skipped(self, task: str, length: int, count: int) -> None:
        """Count samples a task leaves out at a length (e.g. LongBench with truncation=none)."""
        self.skipped[(task, length)] = self.skipped.get((task, length), 0) + count


@dataclass(frozen=True)
class FollowUp:
    """A second call a task makes after seeing the first output (LongBench v2's chain of thought
    asks for the final answer in a separate, short prompt). Its output is the one scored."""

    messages: tuple[ChatMessage, ...]
    max_new_tokens: int
    use_chat_template: bool = True
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class DepthCell:
    """One sample to build in a depth grid (`TaskBase.depth_cells`)."""

    length: int
    budget: int  # input tokens: the length less the output budget
    depth: float | None
    index: int
    rng: random.Random
    sample_id: str


class JudgePlan(Protocol):
    """How `lc-bench judge` grades one record of a task: the prompts to ask, then the scores the
    replies give (None: a verdict did not parse; the sample stays unjudged and is counted).
    Optional members: `system_prompt` (sent as a system message before every prompt), `sampling`
    and `paper_sampling` (see `lc_bench.judge.sampling_of`)."""

    def prompts(self, record: dict[str, Any]) -> list[str]: ...

    def scores(self, record: dict[str, Any], replies: list[str]) -> tuple[dict[str, float], Any] | None: ...


class Task(Protocol):
    """Every member is declared; `TaskBase` gives the optional ones their defaults."""

    name: ClassVar[str]
    family: ClassVar[str]  # leaderboards average tasks within a family (RULER: the mean of its 13 tasks)
    description: ClassVar[str]
    params_model: ClassVar[type[TaskParams]]
    primary_metric: ClassVar[str]
    default_max_new_tokens: ClassVar[int]
    # the tables this task adds to the leaderboard (written to the manifest at run time)
    report: ClassVar[ReportAxes]
    # `lc-bench judge`: how a judge model grades this task's outputs (None: not judged)
    judge_plan: ClassVar[JudgePlan | None]
    params: TaskParams

    @property
    def multi_call(self) -> bool:
        """True when `follow_up` may ask a second call; the first output is then kept
        (stages.jsonl, then the record's `stages`) and the follow-up's output is scored."""
        ...

    def build(self, context: BuildContext) -> list[Any]:
        """Samples for every cell of the grid, deterministic for a given seed and tokenizer."""
        ...

    def score(self, output: str, references: Sequence[str], metadata: dict[str, Any]) -> dict[str, float]:
        """Named per-sample scores; the primary one is `primary_metric`."""
        ...

    def follow_up(self, sample: Sample, first_output: str) -> FollowUp | None:
        """The second call for a first output (only asked when `multi_call`); None: no second call."""
        ...

    def specs(self, context: BuildContext) -> list[SampleSpec] | None:
        """Every sample's specification, computed without building anything (None: this task's
        samples must be built to be known; resume then hashes the built samples)."""
        ...

    def build_cell(
        self, context: BuildContext, length: int, depth: float | None, indices: Sequence[int]
    ) -> list[Sample | None]:
        """The samples at `indices` of one (length, depth) cell, in that order (None: left out)."""
        ...

    def build_one(self, context: BuildContext, spec: SampleSpec) -> Sample | None:
        """The sample a spec describes (None: the task left it out)."""
        ...


class TaskBase:
    """Defaults for a task's optional members: no extra report axes, no judge, one call.

    A grid task (`grid_task = True`) builds one sample per (length, [depth,] index) whose content
    depends only on the run seed, the task and its params, that length, depth and index (its random
    generator is seeded by them alone). Its specs are then enumerated from the grid, and one cell's
    samples are built by calling `build` on a context narrowed to that cell. `grid_depths = True`
    when the task also loops over the run's depths (`context.depths or (None,)`), as niah does.
    """

    report: ClassVar[ReportAxes] = ReportAxes()
    judge_plan: ClassVar[JudgePlan | None] = None
    grid_task: ClassVar[bool] = False
    grid_depths: ClassVar[bool] = False
    # True when `build` loops over `context.cell_indices()`: a cell is then built a few samples at a
    # time, so the first request goes out after those few (otherwise after the whole cell)
    builds_indices: ClassVar[bool] = False

    @property
    def multi_call(self) -> bool:
        return False

    def follow_up(self, sample: Sample, first_output: str) -> FollowUp | None:
        return None

    def depth_cells(self, context: BuildContext, max_new: int) -> Iterator[DepthCell]:
        """Every (length, depth, index) a depth-grid task builds (the asked indices only), with the
        sample's own generator (seeded by run seed, task, params, length, depth and index alone)
        and its id `task/LEN/dDEPTH/INDEX` ("drand" without a grid depth)."""
        for length in context.lengths:
            budget = input_budget(length, max_new)
            for depth in context.depths or (None,):
                for index in context.cell_indices():
                    seed = f"{context.seed}|{self.name}|{self.params!r}|{length}|{depth}|{index}"  # type: ignore[attr-defined]
                    cell = "rand" if depth is None else f"{depth:g}"
                    sample_id = f"{self.name}/{format_length(length)}/d{cell}/{index}"  # type: ignore[attr-defined]
                    yield DepthCell(length, budget, depth, index, random.Random(seed), sample_id)

    def fit_memory(self, context: BuildContext) -> MutableMapping[Hashable, Any]:
        """What this task's fits learnt with this tokenizer, kept for the task's lifetime: a cell
        streamed a few samples at a time still starts each fit from the previous sample's tokens per
        unit (a fit's result never depends on its first guess, so samples stay deterministic)."""
        return self.fit_memory_for(context.tokenizer)

    def fit_memory_for(self, tokenizer: ModelTokenizer) -> MutableMapping[Hashable, Any]:
        """`fit_memory` by tokenizer (also holds per-tokenizer piece counts, e.g. of words)."""
        memories: dict[str, dict[Hashable, Any]] = self.__dict__.setdefault("_fit_memories", {})
        return memories.setdefault(tokenizer_fingerprint(tokenizer), {})

    def specs(self, context: BuildContext) -> list[SampleSpec] | None:
        if not self.grid_task:
            return None
        name = self.name  # type: ignore[attr-defined]
        common = {
            "task": name,
            "params": params_json(getattr(self, "params", None)),
            "seed": context.seed,
            "max_new_tokens": context.max_new_tokens,
            "protocol": context.protocol,
            "tokenizer": tokenizer_fingerprint(context.tokenizer),
        }
        depths: Sequence[float | None] = (context.depths or (None,)) if self.grid_depths else (None,)
        return [
            SampleSpec(target_length=length, depth=depth, index=index, **common)
            for length in context.lengths
            for depth in depths
            for index in range(context.samples_per_cell)
        ]

    def build_cell(
        self, context: BuildContext, length: int, depth: float | None, indices: Sequence[int]
    ) -> list[Sample | None]:
        if not indices:
            return []
        depths = ((depth,) if depth is not None else ()) if self.grid_depths else context.depths
        narrowed = replace(  # `skipped` is the same dict: what the cell leaves out is counted for the run
            context, lengths=(length,), depths=depths, samples_per_cell=max(indices) + 1, indices=tuple(indices)
        )
        by_index: dict[int, Sample] = {}
        for sample in self.build(narrowed):  # type: ignore[attr-defined]
            tail = sample.sample_id.rsplit("/", 1)[-1]
            if tail.isdigit():
                by_index[int(tail)] = sample
        return [by_index.get(index) for index in indices]

    def build_one(self, context: BuildContext, spec: SampleSpec) -> Sample | None:
        return self.build_cell(context, spec.target_length, spec.depth, [spec.index])[0]


def make_task(task_class: type, params: dict[str, Any] | None) -> Task:
    """Instantiate a registered task class with validated parameters; a bad one is one line naming
    the parameter, the bad value and the closest valid parameter or value (did you mean)."""
    from pydantic import ValidationError

    from lc_bench.config import describe_error
    from lc_bench.errors import UsageError
    from lc_bench.registry import close_matches, one_error_per_field

    try:
        validated = task_class.params_model(**(params or {}))
    except ValidationError as exc:
        fields = task_class.params_model.model_fields
        problems = []
        for error in one_error_per_field(exc.errors()):
            if error["type"] == "extra_forbidden" and len(error["loc"]) == 1:
                name = str(error["loc"][0])
                close = close_matches(name, fields)
                hint = f"did you mean {', '.join(close)}?" if close else f"parameters: {', '.join(fields) or 'none'}"
                problems.append(f"{name}: unknown parameter ({hint})")
            elif not error["loc"]:  # the model's own check across parameters: its message says it all
                problems.append(error["msg"].removeprefix("Value error, "))
            else:
                problems.append(describe_error(error, {}))
        raise UsageError(f"task {task_class.name}: {'; '.join(problems)}") from None
    return task_class(validated)


def describe_params(task_class: type) -> list[tuple[str, str, str]]:
    """(name, type, default) per parameter, for `lc-bench tasks`."""
    rows = []
    for name, info in task_class.params_model.model_fields.items():
        annotation = info.annotation
        text = str(annotation) if getattr(annotation, "__origin__", None) else getattr(annotation, "__name__", "")
        rows.append((name, (text or str(annotation)).replace("typing.", ""), repr(info.default)))
    return rows
