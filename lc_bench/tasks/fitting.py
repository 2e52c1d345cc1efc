"""Fit a prompt to an exact token budget by growing or shrinking its haystack in token space.

The caller supplies `render(n)`: the prompt text with `n` haystack tokens. Token counts are close
to additive, so the first guess (budget minus the template's overhead) is usually exact, and
each correction moves by the measured overflow or shortfall. This replaces RULER's binary search
over whole re-tokenizations with one or two encodes per sample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lc_bench.errors import UsageError

MAX_ROUNDS = 8


@dataclass(frozen=True)
class Fitted:
    haystack_tokens: int
    text: str
    ids: list[int]
    offsets: list[int]


def fit_to_budget(
    render: Callable[[int], str],
    encode: Callable[[str], tuple[list[int], list[int]]],
    budget: int,
    first_guess: int,
    max_haystack: int,
) -> Fitted:
    """The largest haystack size (<= max_haystack) whose rendered prompt has <= `budget` tokens."""
    best: Fitted | None = None
    counts: dict[int, int] = {}
    n = max(0, min(first_guess, max_haystack))
    for _ in range(MAX_ROUNDS):
        text = render(n)
        ids, offsets = encode(text)
        counts[n] = len(ids)
        if len(ids) <= budget and (best is None or n > best.haystack_tokens):
            best = Fitted(n, text, ids, offsets)
        gap = budget - len(ids)
        if gap == 0 or (gap > 0 and n == max_haystack):
            break
        following = max(0, min(n + gap, max_haystack))
        if following in counts:
            # The correction lands on a size already measured (a seam merged tokens): step by one
            # token from the best fitting size, or shrink below the smallest overflowing one.
            following = best.haystack_tokens + 1 if best is not None else min(counts) - 1
        if following in counts or following < 0 or following > max_haystack:
            break
        n = following
    if best is None:
        raise UsageError(f"the prompt's fixed parts alone exceed the budget of {budget} tokens")
    return best
