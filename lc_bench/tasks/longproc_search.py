"""The reference procedures LongProc writes for its two search tasks, text for text.

* countdown: a depth-first search over pairs of numbers and the operations + - * / (larger number
  first), each tried state logged on its own indented line, then the solution traced back
  (countdown_evaluator.py build_countdown_demonstration).
* travel_planning: a depth-first search over the cities to visit day by day, fixed schedules first,
  checking direct flights and the next fixed schedule (travel_planning_evaluator.py
  build_travel_plan_demonstration).

Both are the gold outputs the scorers compare procedures against, and the in-context examples of the
prompts are built by the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_INTERMEDIATE = 2000
_ZERO_DIVISION = object()


def indent(level: int) -> str:
    return "" if level == 0 else " " * level + "|- "


def _pairs(nums: list[Any]) -> list[tuple[Any, Any, list[Any]]]:
    return [
        (a, b, [x for k, x in enumerate(nums) if k not in (i, j)])
        for i, a in enumerate(nums)
        for j, b in enumerate(nums)
        if j > i
    ]


@dataclass
class _Countdown:
    target: int
    log: list[str] = field(default_factory=list)
    # (parent index, equation) per explored state, the root first
    states: list[tuple[int, str]] = field(default_factory=list)

    def search(self, nums: list[Any], parent: int, equation: str | None, depth: int) -> bool:
        state = len(self.states)
        self.states.append((parent, equation or ""))
        if equation is not None:
            value = nums[0]
            if value is _ZERO_DIVISION:
                self.log.append(f"\n{indent(depth)}Try {equation}. drop this branch.")
                return False
            if value % 1 != 0:
                self.log.append(f"\n{indent(depth)}Try {equation}. {value:.1f} is a decimal, drop this branch.")
                return False
            if value >= MAX_INTERMEDIATE:
                self.log.append(
                    f"\n{indent(depth)}Try {equation}. {value} exceeds the maximum intermediate result, "
                    "drop this branch."
                )
                return False
        if len(nums) == 1:
            found = nums[0] == self.target
            verdict = (
                f"{nums[0]} == {self.target}, target found!"
                if found
                else f"{nums[0]} != {self.target}, drop this branch."
            )
            self.log.append(f"\n{indent(depth)}Try {equation}. Evaluate {verdict}")
            return found
        if equation is not None:
            self.log.append(f"\n{indent(depth)}Try {equation}. Add {nums[0]} to the number set.")
        options = [(a, b) for a, b, _ in _pairs(nums)]
        if len(nums) == 2:
            self.log.append(f" Current number set: {nums}, target: {self.target}, just two numbers left.")
        else:
            head = "Initial number set" if equation is None else " Current number set"
            self.log.append(f"{head}: {nums}, target: {self.target}. Options for choosing two numbers: {options}.")
            depth += 1
        for a, b, rest in _pairs(nums):
            if len(nums) > 2:
                self.log.append(
                    f"\n{indent(depth)}Pick two numbers ({a}, {b}) (numbers left: {rest}). Try possible operations."
                )
            if a < b:
                a, b = b, a
            tries: list[tuple[Any, str]] = [
                (a + b, f"{a} + {b} = {a + b}"),
                (a - b, f"{a} - {b} = {a - b}"),
                (a * b, f"{a} * {b} = {a * b}"),
            ]
            if b == 0:
                tries.append((_ZERO_DIVISION, f"{a} / {b} (invalid operation)"))
            elif a % b == 0:
                tries.append((int(a / b), f"{a} / {b} = {int(a / b)}"))
            else:
                tries.append((a / b, f"{a} / {b} = {a / b:.1f}"))
            for value, text in tries:
                if self.search([value, *rest], state, text, depth + 1):
                    return True
        return False


SOLUTION_TEMPLATE = (
    "Now we have found the target, let's trace back the solution:\nFinal step: {2}\nThe step before: {1}\n"
    "The first step: {0}\n\nOutput the solution in the required format:\n<Solution>\n{0}\n{1}\n{2}\n</Solution>\n"
)


def countdown_procedure(nums: list[int], target: int) -> tuple[list[str], str] | None:
    """(the three equations, the whole reference output) of LongProc's search; None: no solution."""
    run = _Countdown(target)
    if not run.search(list(nums), -1, None, 0):
        return None
    steps, state = [], len(run.states) - 1
    while run.states[state][0] != -1:
        parent, equation = run.states[state]
        steps.append(equation)
        state = parent
    steps.reverse()
    return steps, "# Search Procedure\n" + "".join(run.log) + "\n\n" + SOLUTION_TEMPLATE.format(*steps)


COUNTDOWN_DEMOS = (([40, 19, 23, 7], 29), ([9, 16, 6, 18], 12))  # longproc_data.py _DEMO_SET


def countdown_demonstration() -> str:
    """The two in-context examples of the countdown prompt."""
    parts = []
    for nums, target in COUNTDOWN_DEMOS:
        found = countdown_procedure(nums, target)
        assert found is not None
        parts.append(f"# Example\nNumbers: {nums}\nTarget: {target}\n\n{found[1]}")
    return "\n\n".join(parts)


# --- travel planning -------------------------------------------------------------------------------

START = "the starting point"


def _names(items: list[Any]) -> str:
    return "[" + ", ".join(str(x) for x in items) + "]"


def _travel_search(
    day: int,
    total: int,
    plan: list[dict[str, Any]],
    free: list[dict[str, Any]],
    fixed: list[dict[str, Any]],
    flights: set[tuple[str, str]],
    log: list[str],
) -> list[Any] | None:
    level = len(plan) * 2
    log.append(f"{indent(level)}Current day: {day}. Current plan: {_names([x['city'] for x in plan])}.")
    if len(plan) == total:
        log.append(f"{indent(level)}All {total} cities are arranged. Complete plan is found!")
        return plan
    log.append(f"{indent(level)}Check whether the city with an arrival day of Day {day} - is fixed.")
    pinned = next((city for city in fixed if city["start_day"] == day), None)
    if pinned is not None:
        log.append(f"{indent(level)}Yes. The city with an arrival day of Day {day} - is fixed: {pinned['city']}.")
        choices = [
            {
                "city": pinned["city"],
                "num_days": pinned["end_day"] - pinned["start_day"] + 1,
                "start_day": pinned["start_day"],
                "end_day": pinned["end_day"],
            }
        ]
    else:
        log.append(
            f"{indent(level)}No. Consider possible options from cities needing arrangement: "
            f"{_names([x['city'] for x in free])} and explore these options in order."
        )
        choices = [
            {"city": c["city"], "num_days": c["num_days"], "start_day": day, "end_day": day + c["num_days"] - 1}
            for c in free
        ]
    last = START if not plan else plan[-1]["city"]
    following = next((city for city in fixed if city["start_day"] > day), None)
    level += 1
    pad = indent(level)
    for choice in choices:
        city, end = choice["city"], choice["end_day"]
        log.append(
            f"{pad}Try arranging to visit {city} from Day {day}. Duration: {choice['num_days']} days. "
            f"Schedule: Day {day} - {day + choice['num_days'] - 1}."
        )
        log.append(f"{pad}Check for direct flight from {last} to {city}.")
        if not (last == START or (last, city) in flights):
            log.append(f"{pad}No. Drop this branch.")
            continue
        log.append(f"{pad}Yes.")
        if following is None:
            log.append(
                f"{pad}Check whether this arrangement is compatible with the next fixed schedule after Day {day}: None."
            )
            log.append(f"{pad}No following fixed schedules. This arrangement is compatible.")
        else:
            log.append(
                f"{pad}Check whether this arrangement is compatible with the next fixed schedule after "
                f"Day {day}: {following['city']} (Day {following['start_day']} - {following['end_day']})."
            )
            if following["start_day"] == choice["start_day"]:
                raise ValueError("invalid fixed schedule")
            head = (
                f"{pad}The departure day of {city} is Day {end}. The arrival day of {following['city']} is "
                f"Day {following['start_day']}. Day {end} is"
            )
            if following["start_day"] < end:
                log.append(
                    f"{head} later than (>) Day {following['start_day']}. This arrangement is incompatible. "
                    "Drop this branch."
                )
                continue
            log.append(f"{head} not later than (<=) Day {following['start_day']}. This arrangement is compatible.")
        log.append(f"{pad}This arrangement is feasible for now. Continue to arrange the rest of the plan.")
        found = _travel_search(end, total, [*plan, choice], [x for x in free if x["city"] != city], fixed, flights, log)
        if found is not None:
            return found
    log.append(f"{pad}Fail to arrange any option on day {day} in the current arrangement. Drop this branch.")
    return None


def format_plan(plan: list[dict[str, Any]]) -> str:
    lines = []
    for i, stop in enumerate(plan):
        city, start, end, days = stop["city"], stop["start_day"], stop["end_day"], stop["num_days"]
        visit = f"Arriving in {city} and visit {city}" if i == 0 else f"Visit {city}"
        lines.append(f"**Day {start}-{end}:** {visit} for {days} days.")
        if i + 1 < len(plan):
            lines.append(f"**Day {end}:** Fly from {city} to {plan[i + 1]['city']}.")
    return "\n".join(lines)


def travel_procedure(record: dict[str, Any]) -> tuple[str, str]:
    """(the plan, the whole reference output) for a record in LongProc's travel planning layout;
    ValueError when the search finds no plan or not the record's own plan."""
    constraints = record["constraints"]
    fixed = [c for c in constraints if c["type"] == "fixed"]
    fixed_names = [c["city"] for c in fixed]
    free = [c for c in constraints if c["type"] == "duration" and c["city"] not in fixed_names]
    log = [
        "Read the requirements and identify the cities that have fixed schedules and the cities that need to be "
        "arranged."
    ]
    for i, cons in enumerate(constraints):
        if cons["type"] == "fixed":
            continue
        if cons["city"] in fixed_names:
            pinned = constraints[i + 1] if i + 1 < len(constraints) else {}
            if pinned.get("type") != "fixed" or pinned.get("city") != cons["city"]:
                raise ValueError(f"the fixed schedule of {cons['city']} must follow its duration")
            log.append(
                f"* City: {cons['city']}, Duration: {cons['num_days']} days, Fixed Schedule: "
                f"Day {pinned['start_day']} - {pinned['end_day']}."
            )
        else:
            log.append(f"* City: {cons['city']}, Duration: {cons['num_days']} days.")
    log.append("")
    if fixed:
        log.append("Cities that have fixed schedules (sorted by their arrival days):")
        fixed = sorted(fixed, key=lambda c: c["start_day"])
        log += [f"* City: {c['city']}, Fixed Schedule: Day {c['start_day']} - {c['end_day']}." for c in fixed]
    else:
        log.append("Cities that have fixed schedules: None.")
    log.append("")
    if free:
        log.append("Cities needing arrangement:")
        log += [f"* City: {c['city']}, Duration: {c['num_days']} days." for c in free]
    else:
        log.append("Cities needing arrangement: None.")
    log.append("")
    flights = {(a, b) for a, b in record["connected_cities"]}
    plan = _travel_search(1, record["num_cities"], [], free, fixed, flights, log)
    if plan is None:
        raise ValueError("the search finds no plan")
    text = format_plan(plan)
    expected = record["ground_truth_plan"].split("\n\n")
    if len(expected) < 2 or text != expected[1].strip():
        raise ValueError("the search's plan is not the record's ground_truth_plan")
    joined = "\n".join(log)
    return text, (
        f"<Solving Procedure>\n{joined}\n</Solving Procedure>\n\nOutput the plan in the required format:\n"
        f"<Plan>\n{text}\n</Plan>"
    )
