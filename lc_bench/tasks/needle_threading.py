"""Needle Threading (Roberts, Han & Albanie, "Needle Threading: Can LLMs Follow Threads through
Near-Million-Scale Haystacks?", ICLR 2025; github.com/jonathan-roberts1/needle-threading).

The haystack is a JSON object of UUID key -> UUID value pairs, written on one line as the
published data has it (`{"k": "v", "k": "v"}`); UUIDs are `uuid.UUID(int=rng.getrandbits(128))`
as the published haystacks are (seed 0 gives their first key, e3e70682-c209-4cac-629f-6fbed82c07cd).
The prompt is the haystack, a newline, then the question (README: `prompt = haystack + '\\n' + question`).

Modes (one task each, presets below): single needle (a key at a grid depth), multiple needles,
conditional needles (keys holding a character no UUID has, e.g. `*`), a single thread (a value is
the key of the next pair, `thread_length` hops), multiple threads at once (`num_threads`; the paper's
"thread-safe" setting asks several threads in one prompt) and branched threads (the start key has
`branches` pairs, each the start of a chain; every leaf is asked for). A thread runs forward (each
next pair later in the context), backward (earlier) or in random order (`direction`).

Wording: the Single Needle question is the published one verbatim (README and dataset). The other
questions are lc_bench's reconstruction in the same style (their exact text is in the dataset, not
the repository); branched threads are lc_bench's addition and put the same key on several pairs.

Exact lengths: the number of pairs is fitted to the budget. One long encode of a haystack slightly
larger than needed gives, through its offsets, the token count of every shorter haystack (the prompt
with n pairs is a prefix of it up to pair n's last character, then a fixed closing); the count of
the chosen size is checked against a standalone encode of its last pair and closing, and any
disagreement (a tokenizer whose tokens cross those seams) falls back to `fit_to_budget`. Needle
slots are chosen for the pair count estimated before that encode (a probe of filler pairs), so a
grid depth lands within about 1% of the fitted haystack (`actual_depth` in the metadata says where).
A length too short for a preset's needle pairs leaves its samples out (counted as skipped).
"""

from __future__ import annotations

import json
import random
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field, create_model, field_validator

from lc_bench.axes import LabelAxis, ReportAxes
from lc_bench.lengths import format_length, input_budget
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.needle_threading import threading_scores
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.fitting import fit_to_budget
from lc_bench.tasks.niah import focus_excerpt
from lc_bench.tokenizers import ModelTokenizer

Mode = Literal[
    "single_needle", "multiple_needles", "conditional_needles", "single_thread", "multi_thread", "branched_thread"
]

# the published Single Needle question, verbatim (README / HF dataset `question`)
SINGLE_NEEDLE = (
    'Extract the value corresponding to the specified key in the JSON object. Key: "{key}"\n Corresponding value: '
)
# lc_bench's reconstruction of the other questions, in the published style
MULTIPLE_NEEDLES = (
    "Extract the values corresponding to the specified keys in the JSON object. Return the values as a Python "
    "list of strings, in the order of the keys. Keys: {keys}\n Corresponding values: "
)
CONDITIONAL_NEEDLES = (
    'Extract the values corresponding to the keys that contain the character "{char}" in the JSON object. '
    "Return the values as a Python list of strings.\n Corresponding values: "
)
SINGLE_THREAD = (
    "The value corresponding to a key in the JSON object may itself be a key in the JSON object. Starting from the "
    "specified key, find its value, then use that value as the next key, and continue until you reach a value that "
    'is not a key in the JSON object. Return that final value. Key: "{key}"\n Final value: '
)
MULTI_THREAD = (
    "The value corresponding to a key in the JSON object may itself be a key in the JSON object. For each of the "
    "specified keys, find its value, then use that value as the next key, and continue until you reach a value "
    "that is not a key in the JSON object. Return the final values as a Python list of strings, in the order of "
    "the keys. Keys: {keys}\n Final values: "
)
BRANCHED_THREAD = (
    "A key may appear several times in the JSON object, each time with a different value, and a value may itself "
    "be a key in the JSON object. Starting from the specified key, follow every branch: find each of its values, "
    "then use each value as the next key, and continue until you reach values that are not keys in the JSON "
    'object. Return all the final values as a Python list of strings. Key: "{key}"\n Final values: '
)
SEPARATOR = ", "  # json.dumps' item separator, as the published haystacks
SENTINEL = "\x00PAIRS\x00"  # stands for the pairs while the chat template is rendered once
THREAD_MODES = ("single_thread", "multi_thread", "branched_thread")
DIRECTIONS = ("forward", "backward", "random")


class TooShort(Exception):
    """The sample's needle pairs do not fit in its length."""


class ThreadingParams(TaskParams):
    mode: Mode = "single_needle"
    num_needles: int = Field(1, ge=1, le=100, description="needles asked for (multiple / conditional needles)")
    thread_length: int = Field(3, ge=1, le=100, description="hops of each thread")
    num_threads: int = Field(1, ge=1, le=100, description="threads asked for at once (multi_thread)")
    branches: int = Field(2, ge=2, le=16, description="pairs of the branched thread's start key")
    direction: Literal["forward", "backward", "random"] = "forward"
    placement: Literal["random", "clustered"] = Field("random", description="needles apart or next to each other")
    conditional_character: str = Field("*", min_length=1, max_length=1)

    @field_validator("conditional_character")
    @classmethod
    def _not_in_a_uuid(cls, value: str) -> str:
        if value in '0123456789abcdefABCDEF-"\\' or not value.isprintable():
            raise ValueError("the conditional character must not occur in a UUID or need escaping in JSON")
        return value


def new_uuid(rng: random.Random) -> str:
    """A UUID as the published haystacks draw them (no version bits set)."""
    return str(uuid.UUID(int=rng.getrandbits(128)))


def pair_text(key: str, value: str) -> str:
    return f"{json.dumps(key)}: {json.dumps(value)}"


@dataclass
class Plan:
    """A sample's needles: the pairs that matter, where they go, the question and the answers."""

    pairs: list[tuple[str, str]]  # in slot order of `slots`
    slots: list[int]  # haystack positions (pair indices) of `pairs`
    question: str
    answers: list[str]
    labels: dict[str, str]


@dataclass
class PairFit:
    units: int
    text: str
    tokens: int
    offsets: list[int]  # of the long encode: valid up to the cut of the fitted size
    checked: bool  # the count was confirmed by the seam check (else by a full fit)


class NeedleThreading(TaskBase):
    """Needle Threading: UUID key-value retrieval, threads and multi-threads at exact lengths."""

    name: ClassVar[str] = "needle_threading"
    description: ClassVar[str] = "Needle Threading: UUID key-value needles and threads (any mode)"
    params_model: ClassVar[type[TaskParams]] = ThreadingParams
    family: ClassVar[str] = "needle_threading"
    primary_metric: ClassVar[str] = "accuracy"
    default_max_new_tokens: ClassVar[int] = 100  # the README's max_output_tokens
    grid_task: ClassVar[bool] = True
    grid_depths: ClassVar[bool] = True
    builds_indices: ClassVar[bool] = True
    report: ClassVar[ReportAxes] = ReportAxes(
        labels=(
            LabelAxis(
                title="Needle Threading: thread length (hops)",
                field="thread_length",
                order=tuple(str(i) for i in range(1, 26)),
                note="hops from the asked key to the answer",
            ),
            LabelAxis(
                title="Needle Threading: thread direction",
                field="thread_direction",
                order=DIRECTIONS,
                note="forward: each next pair later in the context; backward: earlier",
            ),
        ),
        secondary=(),
    )

    def __init__(self, params: ThreadingParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        max_new = context.max_new_tokens or self.default_max_new_tokens
        depths: Sequence[float | None] = (context.depths or (None,)) if self.grid_depths else (None,)
        samples = []
        for length in context.lengths:
            budget = input_budget(length, max_new)
            for depth in depths:
                for index in context.cell_indices():
                    seed = f"{context.seed}|{self.name}|{self.params!r}|{length}|{depth}|{index}"
                    cell = "" if depth is None else f"d{depth:g}/"
                    sample_id = f"{self.name}/{format_length(length)}/{cell}{index}"
                    try:
                        sample = self.build_sample(context.tokenizer, seed, length, budget, depth, sample_id, max_new)
                    except TooShort:  # the needle pairs alone overflow this length: left out and counted
                        context.report_skipped(self.name, length, 1)
                        continue
                    samples.append(sample)
        return samples

    # -- the needles -----------------------------------------------------------------------

    def plan(self, rng: random.Random, units: int, depth: float | None) -> Plan:
        """The needle pairs for a haystack of about `units` pairs (every slot below `units`)."""
        params, mode = self.params, self.params.mode
        if mode == "single_needle":
            key, value = new_uuid(rng), new_uuid(rng)
            slot = round((units - 1) * depth / 100) if depth is not None else rng.randrange(units)
            return Plan([(key, value)], [slot], SINGLE_NEEDLE.format(key=key), [value], {})
        if mode in ("multiple_needles", "conditional_needles"):
            count = params.num_needles
            keys = [new_uuid(rng) for _ in range(count)]
            if mode == "conditional_needles":
                keys = [_mark(rng, key, params.conditional_character) for key in keys]
            values = [new_uuid(rng) for _ in range(count)]
            slots = self._needle_slots(rng, units, count, depth)
            if mode == "multiple_needles":
                question = MULTIPLE_NEEDLES.format(keys=json.dumps(keys))
            else:
                question = CONDITIONAL_NEEDLES.format(char=params.conditional_character)
            return Plan(list(zip(keys, values, strict=True)), slots, question, values, {})
        # threads: chains of pairs whose value is the next pair's key
        hops = params.thread_length
        if mode == "branched_thread":
            root = new_uuid(rng)
            chains = []
            for _ in range(params.branches):
                nodes = [root] + [new_uuid(rng) for _ in range(hops)]
                chains.append(list(zip(nodes[:-1], nodes[1:], strict=True)))
            starts, question = [root], BRANCHED_THREAD.format(key=root)
        else:
            threads = params.num_threads if mode == "multi_thread" else 1
            chains = []
            for _ in range(threads):
                nodes = [new_uuid(rng) for _ in range(hops + 1)]
                chains.append(list(zip(nodes[:-1], nodes[1:], strict=True)))
            starts = [chain[0][0] for chain in chains]
            question = (
                SINGLE_THREAD.format(key=starts[0])
                if mode == "single_thread"
                else MULTI_THREAD.format(keys=json.dumps(starts))
            )
        total = sum(len(chain) for chain in chains)
        if total > units:
            raise ValueError(f"{total} thread pairs do not fit in {units} pairs")
        free = sorted(rng.sample(range(units), total))
        rng.shuffle(free)
        pairs, slots = [], []
        for chain in chains:
            chosen, free = free[: len(chain)], free[len(chain) :]
            if params.direction == "forward":
                chosen.sort()
            elif params.direction == "backward":
                chosen.sort(reverse=True)
            pairs.extend(chain)
            slots.extend(chosen)
        answers = [chain[-1][1] for chain in chains]
        labels = {"thread_length": str(hops), "thread_direction": params.direction, "num_threads": str(len(chains))}
        return Plan(pairs, slots, question, answers, labels)

    def _needle_slots(self, rng: random.Random, units: int, count: int, depth: float | None) -> list[int]:
        if count > units:
            raise ValueError(f"{count} needles do not fit in {units} pairs")
        if self.params.placement == "clustered":
            start = round((units - count) * depth / 100) if depth is not None else rng.randrange(units - count + 1)
            return list(range(start, start + count))
        if depth is None:
            return rng.sample(range(units), count)
        first = round((units - 1) * depth / 100)
        others = rng.sample([slot for slot in range(units) if slot != first], count - 1)
        return [first, *others]

    # -- one sample ------------------------------------------------------------------------

    def build_sample(
        self,
        tokenizer: ModelTokenizer,
        seed: str,
        length: int,
        budget: int,
        depth: float | None,
        sample_id: str,
        max_new: int,
    ) -> Sample:
        filler_rng = random.Random(seed + "|filler")
        filler: list[str] = []

        def grow(count: int) -> None:
            while len(filler) < count:
                filler.append(pair_text(new_uuid(filler_rng), new_uuid(filler_rng)))

        needed = self._needed_pairs()
        probe_question = self.plan(random.Random(seed), max(64, needed), depth).question
        head, closing = _frame(tokenizer, probe_question)
        fixed = len(tokenizer.encode_rendered(head + closing)[0])
        room = budget - fixed
        probe = max(8, min(256, room // 400))
        grow(probe)
        per_pair = (len(tokenizer.encode(SEPARATOR.join(filler[:probe]))) + 1) / probe
        if room < needed * per_pair:  # the question and the needle pairs alone overflow this length
            raise TooShort(sample_id)
        estimate = max(1, int(room / per_pair))
        for _ in range(4):
            plan = self.plan(random.Random(seed), max(estimate, needed), depth)
            head, closing = _frame(tokenizer, plan.question)
            fitted = self._fit(tokenizer, head, closing, plan, filler, grow, budget, per_pair, estimate)
            if max(plan.slots) < fitted.units:
                break
            if fitted.units < needed:
                raise TooShort(sample_id)
            estimate = max(needed, fitted.units - 1)  # the needles must lie inside the fitted haystack
        else:
            raise ValueError(f"could not place the needles of {sample_id}")
        hay_pairs = _layout(plan, filler, fitted.units)
        first_key = pair_text(*plan.pairs[0])
        needle_char = len(head) + sum(len(p) + len(SEPARATOR) for p in hay_pairs[: plan.slots[0]])
        needle_stop = needle_char + len(first_key)
        needle_token = bisect_right(fitted.offsets, needle_char) - 1
        content = "{" + SEPARATOR.join(hay_pairs) + "}\n" + plan.question
        messages = (ChatMessage(role="user", content=content),)
        overhead = tokenizer.count((ChatMessage(role="user", content="{}\n" + plan.question),))
        metadata: dict[str, Any] = {
            "mode": self.params.mode,
            "num_kv_pairs": fitted.units,
            "needle_slots": plan.slots,
            # the share of the pairs before the first needle pair
            "actual_depth": round(100.0 * plan.slots[0] / max(1, fitted.units - 1), 2),
            "seam_checked": fitted.checked,
            **plan.labels,
        }
        return Sample(
            task=self.name,
            sample_id=sample_id,
            messages=messages,
            references=tuple(plan.answers),
            target_length=length,
            input_tokens=fitted.tokens,
            template_overhead=overhead,
            max_new_tokens=max_new,
            depth=depth,
            needle_token_position=needle_token,
            focus_excerpt=focus_excerpt(fitted.text, needle_char, needle_stop),
            metadata=metadata,
        )

    def _needed_pairs(self) -> int:
        params = self.params
        if params.mode in ("multiple_needles", "conditional_needles"):
            return params.num_needles
        if params.mode == "branched_thread":
            return params.branches * params.thread_length
        if params.mode == "multi_thread":
            return params.num_threads * params.thread_length
        return params.thread_length if params.mode == "single_thread" else 1

    def _fit(
        self,
        tokenizer: ModelTokenizer,
        head: str,
        closing: str,
        plan: Plan,
        filler: list[str],
        grow: Any,
        budget: int,
        per_pair: float,
        estimate: int,
    ) -> PairFit:
        """The most pairs whose prompt fits `budget`: one long encode, counts read from its offsets."""
        # 2% and 4 pairs past the probe's estimate (its tokens per pair are within about 0.6%): a long
        # encode that falls short costs a second one, one that overshoots costs the tokens past the budget
        over = max(int(estimate * 1.02) + 4, max(plan.slots) + 2)
        for _ in range(8):
            grow(over)
            pairs = _layout(plan, filler, over)
            text = head + SEPARATOR.join(pairs) + closing
            ids, offsets = tokenizer.encode_rendered(text)
            if len(ids) > budget:
                break
            over = int(over * budget / max(1, len(ids)) * 1.05) + 16
        else:
            return self._full_fit(tokenizer, head, closing, plan, filler, grow, budget, per_pair, estimate)
        del ids
        # tokens after the text's last character (an end-of-sequence a tokenizer adds) have offset 0
        trailing = 0
        while len(offsets) - trailing > 1 and offsets[-1 - trailing] < offsets[-2 - trailing]:
            trailing += 1
        starts = offsets[: len(offsets) - trailing]
        # the prompt with n pairs: the long text up to pair n's last UUID character, then `"` + closing
        ends, position = [], len(head)
        for pair in pairs:
            position += len(pair)
            ends.append(position - 1)  # the closing quote of pair n's value
            position += len(SEPARATOR)
        suffix = '"' + closing
        suffix_tokens = len(tokenizer.encode(suffix))

        def estimate_of(n: int) -> int:
            return bisect_left(starts, ends[n - 1]) + suffix_tokens + trailing

        low, high = 0, len(pairs)  # estimate_of(high) > budget (the long encode overflows)
        while high - low > 1:
            middle = (low + high) // 2
            if estimate_of(middle) <= budget:
                low = middle
            else:
                high = middle
        n = low
        if n >= 1:
            cut = ends[n - 1]
            start = ends[n - 1] - len(pairs[n - 1]) + 2  # the first character of pair n's key
            a = bisect_left(starts, start)
            on_seams = a < len(starts) and starts[a] == start and bisect_left(starts, cut) < len(starts)
            on_seams = on_seams and starts[bisect_left(starts, cut)] == cut
            if on_seams:
                window = text[start:cut] + suffix
                count = a + len(tokenizer.encode(window)) + trailing
                if count == estimate_of(n):
                    final = text[:cut] + suffix
                    return PairFit(n, final, count, starts, True)
        return self._full_fit(tokenizer, head, closing, plan, filler, grow, budget, per_pair, max(1, n))

    def _full_fit(
        self,
        tokenizer: ModelTokenizer,
        head: str,
        closing: str,
        plan: Plan,
        filler: list[str],
        grow: Any,
        budget: int,
        per_pair: float,
        estimate: int,
    ) -> PairFit:
        """The fallback: `fit_to_budget` over whole renders (a tokenizer whose tokens cross the seams)."""
        limit = max(int(estimate * 1.5) + 64, max(plan.slots) + 2)
        grow(limit)

        def render(n: int) -> str:
            return head + SEPARATOR.join(_layout(plan, filler, n)) + closing

        fixed = len(tokenizer.encode_rendered(render(0))[0])
        memory = {0: (estimate, fixed + int(estimate * per_pair), fixed)}
        fitted = fit_to_budget(
            render,
            tokenizer.encode_rendered,
            budget,
            limit,
            unit_tokens=per_pair,
            fixed_tokens=fixed,
            memory=memory,
            key=0,
        )
        return PairFit(fitted.units, fitted.text, len(fitted.ids), fitted.offsets, False)

    def score(self, output: str, references: Sequence[str], metadata: dict[str, Any]) -> dict[str, float]:
        return threading_scores(output, references)


def _mark(rng: random.Random, key: str, char: str) -> str:
    """A key with one of its hexadecimal digits replaced by the conditional character."""
    positions = [i for i, c in enumerate(key) if c != "-"]
    at = rng.choice(positions)
    return key[:at] + char + key[at + 1 :]


def _layout(plan: Plan, filler: list[str], units: int) -> list[str]:
    """`units` pair texts: the needle pairs at their slots (those below `units`), filler elsewhere.
    The layout of n pairs is a prefix of the layout of more: a haystack only grows at its end."""
    placed = {slot: pair_text(*pair) for slot, pair in zip(plan.slots, plan.pairs, strict=True)}
    out, used = [], 0
    for slot in range(units):
        if slot in placed:
            out.append(placed[slot])
        else:
            out.append(filler[used])
            used += 1
    return out


def _frame(tokenizer: ModelTokenizer, question: str) -> tuple[str, str]:
    """(the rendered prompt up to the first pair, from just after the last pair): the chat template
    rendered once around a stand-in for the pairs."""
    content = "{" + SENTINEL + "}\n" + question
    rendered = tokenizer.render((ChatMessage(role="user", content=content),))
    head, found, tail = rendered.partition(SENTINEL)
    if not found:
        raise ValueError("the chat template altered the prompt's content")
    return head, tail


def _preset(name: str, description: str, depths: bool, max_new: int, **defaults: Any) -> type[NeedleThreading]:
    fields: dict[str, Any] = {
        field: (ThreadingParams.model_fields[field].annotation, value) for field, value in defaults.items()
    }
    params_model = create_model(f"{name}_params", __base__=ThreadingParams, **fields)
    attributes = {
        "name": name,
        "description": description,
        "params_model": params_model,
        "grid_depths": depths,
        "default_max_new_tokens": max_new,
    }
    return TASKS.register(name)(type(name, (NeedleThreading,), attributes))


TASKS.register("needle_threading")(NeedleThreading)
_preset(
    "nt_single_needle", "Needle Threading: one key's value, the key at a grid depth", True, 100, mode="single_needle"
)
_preset(
    "nt_multiple_needles", "Needle Threading: the values of 5 keys", True, 256, mode="multiple_needles", num_needles=5
)
_preset(
    "nt_conditional_needles",
    "Needle Threading: the values of the keys holding '*'",
    True,
    256,
    mode="conditional_needles",
    num_needles=5,
)
_preset(
    "nt_single_thread",
    "Needle Threading: follow one thread of 3 hops forward",
    False,
    100,
    mode="single_thread",
    thread_length=3,
)
_preset(
    "nt_multi_thread",
    "Needle Threading: follow 4 threads of 3 hops at once (thread-safety)",
    False,
    256,
    mode="multi_thread",
    thread_length=3,
    num_threads=4,
    direction="random",
)
_preset(
    "nt_branched_thread",
    "Needle Threading: all leaves of a thread branching 2 ways, 3 hops",
    False,
    256,
    mode="branched_thread",
    thread_length=3,
    branches=2,
)
