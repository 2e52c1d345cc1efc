"""LongProc's generated tasks (path_traversal, tom_tracking, countdown): every gold answer is checked by
a solver written here, independently of the generator; sizes follow the tiers; samples are
deterministic per seed and a grid task's specs cover every tier."""

from __future__ import annotations

import itertools
import re
from fractions import Fraction

import pytest

from lc_bench.registry import TASKS
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.longproc_generated import COUNTDOWN_BANDS, PATH_SIZES, TOM_STEPS, estimated_tokens


def _build(tokenizer, name: str, tiers: str, samples: int, seed: int = 0, length: int = 32768):
    task = make_task(TASKS.get(name), {"tiers": tiers})
    return task, task.build(BuildContext(tokenizer, (length,), (), samples, seed))


# --- solvers -----------------------------------------------------------------------------------------


def route_solver(prompt: str) -> tuple[str, int]:
    """Read the map from the [PROBLEM] part of the prompt and walk it: (route, cities in the map)."""
    problem = prompt.split("[PROBLEM]\n", 1)[1]
    edges = re.findall(r"^(.+) is a lively city\. You can travel from \1 to (.+) by (\w+)\.$", problem, re.M)
    source, target = re.search(r"Now find the route from (.+) to (.+) based on the information above", problem).groups()
    nexts = {}
    for a, b, how in edges:
        assert a not in nexts and a != b  # one connection per city, never to itself
        nexts[a] = (b, how)
    lines, city = [], source
    while city != target:
        b, how = nexts[city]
        lines.append(f"From {city}, take a {how} to {b}.")
        city = b
        assert len(lines) <= len(edges)
    assert target not in nexts  # the destination has no connection
    return "\n".join(lines), len(set(nexts) | {b for b, _ in nexts.values()})


def belief_solver(prompt: str) -> str:
    """Re-derive the belief trace from the story's text with a simulation of places (not the task's)."""
    story = prompt.split("[STORY]\n", 1)[1].split("\n\n[QUESTION]")[0].split("\n")
    agent, obj = re.search(r"Where does (\w+) believe the (.+) is\?", prompt.split("[QUESTION]")[1]).groups()
    place = {}
    for part in story[0].removeprefix("Step 0: ").rstrip(".").split("; "):
        who, where = re.match(r"(?:the )?(.+) is (?:in|on) the (.+)", part).groups()
        place[who] = where

    def sees():
        return place[agent] is not None and place[obj].split("'s ")[0] == place[agent]

    belief = place[obj] if sees() else None
    lines = [f"{agent}'s belief on the {obj}:"]

    def state():
        return (
            f"{{{agent} location: {place[agent]}; {obj} location: {place[obj]}; {agent} sees {obj}: {sees()}; "
            f"{agent}'s belief on {obj}: {belief}}}"
        )

    lines.append(f"- Step 0: (initial state) {state()}")
    for line in story[1:]:
        number, action = re.match(r"Step (\d+): (.+)\.", line).groups()
        before = (place[agent], place[obj])
        moved = re.fullmatch(r"(\w+) (?:moves to|enters) the (.+?)(?:, and moves the (.+) to the (.+))?", action)
        if moved:
            who, room, thing, where = moved.groups()
            place[who] = room
            if thing:
                place[thing] = where
        elif left := re.fullmatch(r"(\w+) leaves the room he was in", action):
            place[left.group(1)] = None
        else:
            _, thing, where = re.fullmatch(r"(\w+) moves the (.+) to the (.+)", action).groups()
            place[thing] = where
        if sees():
            belief = place[obj]
        changed = [
            "changed" if now != then else "unchanged"
            for now, then in zip((place[agent], place[obj]), before, strict=True)
        ]
        lines.append(f"- Step {number}: ({agent} location {changed[0]}; {obj} location {changed[1]}) {state()}")
    lines.append(f"Final Answer: {'the ' + belief if belief else None}")
    return "\n".join(lines)


def countdown_solutions(nums: list[int], target: int) -> set[tuple[str, ...]]:
    """Every three-step solution under the rules (positive integer intermediates below 2000)."""
    found = set()

    def search(pool: list[Fraction], steps: tuple[str, ...]) -> None:
        if len(pool) == 1:
            if pool[0] == target:
                found.add(steps)
            return
        for i, j in itertools.combinations(range(len(pool)), 2):
            a, b = max(pool[i], pool[j]), min(pool[i], pool[j])
            rest = [x for k, x in enumerate(pool) if k not in (i, j)]
            for symbol, value in (("+", a + b), ("-", a - b), ("*", a * b), ("/", a / b if b else None)):
                if value is not None and value.denominator == 1 and value < 2000:
                    search([value, *rest], (*steps, f"{a} {symbol} {b} = {value}"))

    search([Fraction(n) for n in nums], ())
    return found


# --- the checks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["0.5k", "2k"])
def test_every_path_gold_is_the_walked_route(tiny_tokenizer, tier):
    task, samples = _build(tiny_tokenizer, "longproc_path_traversal", tier, 4)
    cities, lengths = PATH_SIZES[tier]
    for sample in samples:
        route, seen = route_solver(sample.messages[0].content)
        assert route == sample.references[0]
        assert seen == cities and route.count("\n") + 2 in lengths
        assert task.score(f"<Route>\n{route}\n</Route>", sample.references, sample.metadata)["accuracy"] == 100.0


def test_an_8k_path_map_has_800_cities(tiny_tokenizer):
    # the tiny tokenizer's 1024-token vocabulary needs more than 32k tokens for this map
    _, samples = _build(tiny_tokenizer, "longproc_path_traversal", "8k", 1, length=131072)
    route, seen = route_solver(samples[0].messages[0].content)
    assert route == samples[0].references[0] and seen == 800 and route.count("\n") + 2 in PATH_SIZES["8k"][1]
    assert samples[0].max_new_tokens == 10240 and samples[0].metadata["requested_length"] == 8000.0


@pytest.mark.parametrize("tier", ["0.5k", "2k", "8k"])
def test_every_belief_trace_is_rederived(tiny_tokenizer, tier):
    task, samples = _build(tiny_tokenizer, "longproc_tom_tracking", tier, 3 if tier != "8k" else 1, length=131072)
    for sample in samples:
        prompt = sample.messages[0].content
        story = prompt.split("[STORY]\n", 1)[1].split("\n\n[QUESTION]")[0]
        assert story.count("\nStep ") == TOM_STEPS[tier] and "[EXAMPLE ANSWER2]" in prompt
        assert belief_solver(prompt) == sample.references[0]
        assert task.score(sample.references[0], sample.references, sample.metadata)["accuracy"] == 100.0


@pytest.mark.parametrize("tier", ["0.5k", "2k", "8k"])
def test_every_countdown_gold_is_a_solution_and_the_procedure_fits_its_band(tiny_tokenizer, tier):
    task, samples = _build(tiny_tokenizer, "longproc_countdown", tier, 3, length=65536)
    low, high = COUNTDOWN_BANDS[tier]
    for sample in samples:
        nums, target = sample.metadata["nums"], sample.metadata["target"]
        assert sample.messages[0].content.endswith(f"Numbers: {nums}\nTarget: {target}")
        assert all(1 <= n <= 49 for n in nums) and 10 <= target <= 50
        assert tuple(sample.metadata["solution"]) in countdown_solutions(nums, target)
        assert low <= estimated_tokens(sample.references[0]) < high
        assert task.score(sample.references[0], sample.references, sample.metadata)["accuracy"] == 100.0


def test_samples_are_deterministic_per_seed_and_tiers_take_turns(tiny_tokenizer):
    _, first = _build(tiny_tokenizer, "longproc_tom_tracking", "all", 2, seed=5)
    _, again = _build(tiny_tokenizer, "longproc_tom_tracking", "all", 2, seed=5)
    _, other = _build(tiny_tokenizer, "longproc_tom_tracking", "all", 2, seed=6)
    assert [s.messages for s in first] == [s.messages for s in again]
    assert [s.messages for s in first] != [s.messages for s in other]
    assert [s.sample_id for s in first] == [f"longproc_tom_tracking/32k/{i}" for i in range(6)]
    assert [s.metadata["tier"] for s in first] == ["0.5k", "2k", "8k"] * 2
    assert [s.max_new_tokens for s in first[:3]] == [1024, 3072, 10240]


def test_grid_specs_cover_each_tier_and_build_one_sample_alone(tiny_tokenizer):
    task = make_task(TASKS.get("longproc_path_traversal"), {"tiers": "0.5k,2k"})
    context = BuildContext(tiny_tokenizer, (32768,), (), 2, 3)
    specs = task.specs(context)
    assert [spec.index for spec in specs] == [0, 1, 2, 3]
    whole = {s.sample_id: s for s in task.build(context)}
    alone = task.build_one(context, specs[3])
    assert alone.metadata["tier"] == "2k" and alone == whole["longproc_path_traversal/32k/3"]
