"""`longgen`: structured long outputs in the spirit of LongGenBench (Wu et al.).

A diary of N weeks, a menu of N days or a skyscraper of N floors, each unit under a `#*# Unit k`
header, with events that must appear once (one unit), over a range (every unit of a span) or
periodically (every p-th unit). Scores are rule-based, cheap and deterministic for CI:

* completion: share of the units 1..N present (parsed by their headers), as LongGenBench's
  Completion Rate;
* once / range / periodic: share of the required (unit, event) pairs whose unit mentions the
  event's keyword (LongGenBench asks a judge model "does this block include the event?"; the
  keyword rule replaces it and is named as a deviation);
* average: the mean of the three accuracies (LongGenBench's Average), the primary score.

The requested output is N units of `words_per_unit` words; it is the output-length axis.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.axes import ReportAxes
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.longgen import mentions, shape_checks, split_units
from lc_bench.tasks.base import BuildContext, JudgePlan, TaskBase, TaskParams
from lc_bench.tasks.generation import DEFAULT_MAX_OUTPUT_TOKENS, OUTPUT_LENGTH, GenerationSamples
from lc_bench.tasks.generation_judges import LongGenChecks

FINISHED = "*** finished"


@dataclass(frozen=True)
class Scenario:
    unit: str
    subject: str
    events: tuple[tuple[str, str], ...]  # (instruction, keyword that shows it happened)


SCENARIOS = {
    "diary": Scenario("Week", "a personal diary, one entry per week", (
        ("go to a pottery class", "pottery"), ("visit the old lighthouse", "lighthouse"),
        ("train for a marathon", "marathon"), ("call grandmother", "grandmother"),
        ("repair the bicycle", "bicycle"), ("plant tulips in the garden", "tulip"),
        ("read a book about volcanoes", "volcano"), ("bake sourdough bread", "sourdough"),
    )),
    "menu": Scenario("Day", "a restaurant's menu, one menu per day", (
        ("serve a mushroom risotto", "risotto"), ("offer a lemon tart", "lemon tart"),
        ("feature grilled sardines", "sardines"), ("include a pumpkin soup", "pumpkin soup"),
        ("add a chickpea curry", "curry"), ("serve fresh oysters", "oyster"),
        ("offer a rhubarb crumble", "rhubarb"), ("include a beetroot salad", "beetroot"),
    )),
    "skyscraper": Scenario("Floor", "the design of a skyscraper, one description per floor", (
        ("a swimming pool", "swimming pool"), ("a public library", "library"), ("a data centre", "data centre"),
        ("a climbing wall", "climbing wall"), ("a daycare", "daycare"), ("an observatory", "observatory"),
        ("a hydroponic farm", "hydroponic"), ("a concert hall", "concert hall"),
    )),
}


@dataclass(frozen=True)
class Check:
    kind: Literal["once", "range", "periodic"]
    units: tuple[int, ...]
    instruction: str
    keyword: str


def make_checks(rng: random.Random, scenario: Scenario, units: int) -> list[Check]:
    """One check of each kind, with distinct events, spread over the N units."""
    events = rng.sample(scenario.events, 3)
    once_unit = rng.randint(1, units)
    start = rng.randint(1, max(1, units - 2))
    span = tuple(range(start, min(units, start + max(1, units // 4)) + 1))
    period = max(2, units // 4)
    first = rng.randint(1, period)
    periodic = tuple(range(first, units + 1, period))
    return [
        Check("once", (once_unit,), events[0][0], events[0][1]),
        Check("range", span, events[1][0], events[1][1]),
        Check("periodic", periodic, events[2][0], events[2][1]),
    ]


def render_prompt(scenario: Scenario, units: int, words_per_unit: int, checks: list[Check]) -> str:
    unit = scenario.unit
    lines = [
        f"Write {scenario.subject}, for {units} {unit.lower()}s: from {unit} 1 to {unit} {units}, in order.",
        f"Start each {unit.lower()} with a header line of the form '#*# {unit} k' (for example '#*# {unit} 1'), "
        f"then write about {words_per_unit} words for it.",
        "The following must appear exactly where stated:",
    ]
    for check in checks:
        if check.kind == "once":
            lines.append(f"- In {unit} {check.units[0]}: {check.instruction}.")
        elif check.kind == "range":
            lines.append(f"- Every {unit.lower()} from {unit} {check.units[0]} to {unit} {check.units[-1]}: "
                         f"{check.instruction}.")
        else:
            step = check.units[1] - check.units[0] if len(check.units) > 1 else units
            lines.append(f"- Every {step} {unit.lower()}s starting from {unit} {check.units[0]} "
                         f"({', '.join(f'{unit} {u}' for u in check.units)}): {check.instruction}.")
    lines.append(f"When all {units} {unit.lower()}s are written, end with the line '{FINISHED}'.")
    return "\n".join(lines)


class LongGenParams(TaskParams):
    scenarios: list[Literal["diary", "menu", "skyscraper"]] = Field(["diary", "menu", "skyscraper"])
    units: list[int] = Field([5, 10], description="units per output (weeks, days, floors); one sample set each")
    words_per_unit: int = Field(80, ge=10)
    max_output_tokens: int = Field(DEFAULT_MAX_OUTPUT_TOKENS, ge=1)


@TASKS.register("longgen")
class LongGen(TaskBase):
    """Diary / menu / skyscraper of N units with once, range and periodic events (LongGenBench)."""

    name: ClassVar[str] = "longgen"
    family: ClassVar[str] = "longgen"
    report: ClassVar[ReportAxes] = ReportAxes(output_length=OUTPUT_LENGTH)
    judge_plan: ClassVar[JudgePlan | None] = LongGenChecks()
    description: ClassVar[str] = "LongGenBench-style structured output: completion, once/range/periodic accuracy"
    params_model: ClassVar[type[TaskParams]] = LongGenParams
    primary_metric: ClassVar[str] = "average"
    default_max_new_tokens: ClassVar[int] = DEFAULT_MAX_OUTPUT_TOKENS

    def __init__(self, params: LongGenParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        samples = []
        for length in context.lengths:
            batch = GenerationSamples(context, self.name, length, self.params.max_output_tokens)
            for units in self.params.units:
                for index in range(context.samples_per_cell):
                    rng = random.Random(f"{context.seed}|{self.name}|{self.params!r}|{length}|{units}|{index}")
                    kind = self.params.scenarios[index % len(self.params.scenarios)]
                    scenario = SCENARIOS[kind]
                    checks = make_checks(rng, scenario, units)
                    prompt = render_prompt(scenario, units, self.params.words_per_unit, checks)
                    batch.add(
                        (ChatMessage(role="user", content=prompt),), units * self.params.words_per_unit,
                        f"{units}/{index}", references=(FINISHED,), stop=(FINISHED,),
                        metadata={"scenario": kind, "unit": scenario.unit, "units": units,
                                  "checks": [{"kind": c.kind, "units": list(c.units), "keyword": c.keyword,
                                              "event": c.instruction} for c in checks]},
                    )
            samples += batch.finish()
        return samples

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        return {**longgen_scores(output, metadata["unit"], int(metadata["units"]), metadata["checks"]),
                **shape_checks(output)}


def longgen_scores(
    output: str, unit: str, units: int, checks: list[dict[str, Any]],
    verdicts: dict[tuple[int, int], bool] | None = None,
) -> dict[str, float]:
    """Completion and once/range/periodic accuracy; `verdicts[(check index, unit)]` (a judge's
    yes/no) replaces the keyword rule where given."""
    blocks = split_units(output, unit)
    present = sum(1 for k in range(1, units + 1) if k in blocks)
    accuracy: dict[str, float] = {}
    for kind in ("once", "range", "periodic"):
        pairs = [(i, u, c["keyword"]) for i, c in enumerate(checks) if c["kind"] == kind for u in c["units"]]
        hits = sum(
            1 for i, u, keyword in pairs
            if u in blocks and (verdicts[(i, u)] if verdicts and (i, u) in verdicts else mentions(blocks[u], keyword))
        )
        accuracy[kind] = 100.0 * hits / len(pairs) if pairs else 0.0
    return {"average": sum(accuracy.values()) / 3, "completion": 100.0 * present / units, **accuracy}
