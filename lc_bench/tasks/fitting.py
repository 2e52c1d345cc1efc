"""Fit a prompt to an exact token budget by choosing how many haystack units it holds.

The caller supplies `render(n)`: the prompt text with `n` units (tokens of an essay, words of a
list, lines of noise). Token counts are close to linear in `n`, so after measuring the fixed part
(`render(0)`) the first guess is usually exact or within a unit, and each correction moves by the
measured overflow or shortfall. This replaces RULER's binary search over whole re-tokenizations
with two to three encodes per sample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lc_bench.errors import UsageError

MAX_ROUNDS = 10


@dataclass(frozen=True)
class Fitted:
    units: int
    text: str
    ids: list[int]
    offsets: list[int]


def fit_to_budget(
    render: Callable[[int], str],
    encode: Callable[[str], tuple[list[int], list[int]]],
    budget: int,
    max_units: int,
    unit_tokens: float = 1.0,
    fixed_tokens: int | None = None,
) -> Fitted:
    """The largest `n <= max_units` whose rendered prompt has at most `budget` tokens.

    `unit_tokens` is a first estimate of tokens per unit; it is refined from each measurement.
    `fixed_tokens` (the prompt's size with no units) is measured when not given.
    """
    if fixed_tokens is None:
        fixed_tokens = len(encode(render(0))[0])
    if fixed_tokens > budget:
        raise UsageError(
            f"the prompt's fixed parts ({fixed_tokens} tokens) exceed the input budget of {budget} tokens: "
            "choose a longer length"
        )
    best: Fitted | None = None
    counts: dict[int, int] = {}
    n = _clamp(int((budget - fixed_tokens) / unit_tokens), max_units)
    for _ in range(MAX_ROUNDS):
        text = render(n)
        ids, offsets = encode(text)
        counts[n] = len(ids)
        if len(ids) <= budget and (best is None or n > best.units):
            best = Fitted(n, text, ids, offsets)
        gap = budget - len(ids)
        if gap == 0 or (gap > 0 and n == max_units):
            break
        if n > 0 and len(ids) > fixed_tokens:
            unit_tokens = (len(ids) - fixed_tokens) / n
        delta = int(gap / unit_tokens) or (1 if gap > 0 else -1)
        following = _clamp(n + delta, max_units)
        if following in counts:
            # a seam merged or split tokens: step one unit beyond the best fit, or below the
            # smallest overflowing size
            following = best.units + 1 if best is not None else min(counts) - 1
        if following in counts or not 0 <= following <= max_units:
            break
        n = following
    if best is None:
        raise UsageError(f"could not fit the prompt into {budget} tokens")
    return best


def _clamp(n: int, max_units: int) -> int:
    return max(0, min(n, max_units))
