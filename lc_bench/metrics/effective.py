"""Length summaries: effective context length and the length-weighted averages.

Hsieh et al. (2024) define them in their benchmark's README and compute them by hand; no public
code does (see shared/research/benchmarks.md 2.5). Definitions used here:

- effective length: the largest tested length whose score reaches the threshold (default 85.6,
  Llama-2-7B-chat's 4k score, so that model's own effective length is 4k: a tie passes). Scores
  are compared as the table prints them, rounded to one decimal, so a reader can check the column
  against the row. The strict form also requires every shorter tested length to pass.
- wAvg(inc) = sum(i * s_i) / sum(i) and wAvg(dec) = sum((n + 1 - i) * s_i) / sum(i), with i the
  rank of the length (1 = shortest). Defined only when the row has a score at every length.

A leaderboard row passes only the lengths it has a score at (`scored_effective_lengths`): a blank
is not evidence of a miss, so it neither ends the strict form nor turns an all-errored row into
"<1k".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

DEFAULT_THRESHOLD = 85.6
# what a row's effective length stands on: every length it was tested at has a score, only some
# do (the blanks were left out), or none does (unknown)
BASIS_ALL, BASIS_SCORED, BASIS_NONE = "all", "scored", "none"


def _passes(score: float, threshold: float) -> bool:
    return not math.isnan(score) and float(f"{score:.1f}") >= threshold


def effective_length(
    lengths: Sequence[int], scores: Sequence[float], threshold: float = DEFAULT_THRESHOLD
) -> int | None:
    """Largest length whose score passes; None when no tested length passes."""
    passing = [length for length, score in zip(lengths, scores, strict=True) if _passes(score, threshold)]
    return max(passing) if passing else None


def strict_effective_length(
    lengths: Sequence[int], scores: Sequence[float], threshold: float = DEFAULT_THRESHOLD
) -> int | None:
    """Largest length such that it and every shorter tested length pass (a missing score fails)."""
    best = None
    for length, score in sorted(zip(lengths, scores, strict=True)):
        if not _passes(score, threshold):
            break
        best = length
    return best


def _ordered(lengths: Sequence[int], scores: Sequence[float]) -> list[float] | None:
    ordered = [score for _, score in sorted(zip(lengths, scores, strict=True))]
    if not ordered or any(math.isnan(score) for score in ordered):
        return None
    return ordered


def weighted_average_increasing(lengths: Sequence[int], scores: Sequence[float]) -> float:
    """wAvg(inc): longer lengths weigh more. NaN when a length lacks a score."""
    ordered = _ordered(lengths, scores)
    if ordered is None:
        return float("nan")
    weights = range(1, len(ordered) + 1)
    return sum(w * s for w, s in zip(weights, ordered, strict=True)) / sum(weights)


def weighted_average_decreasing(lengths: Sequence[int], scores: Sequence[float]) -> float:
    """wAvg(dec): shorter lengths weigh more. NaN when a length lacks a score."""
    ordered = _ordered(lengths, scores)
    if ordered is None:
        return float("nan")
    weights = range(len(ordered), 0, -1)
    return sum(w * s for w, s in zip(weights, ordered, strict=True)) / sum(weights)


def scored_effective_lengths(
    lengths: Sequence[int], scores: Sequence[float], threshold: float = DEFAULT_THRESHOLD
) -> tuple[int | None, int | None, str]:
    """(effective length, strict effective length, basis) over the lengths that have a score.

    `lengths` are the lengths a row was tested at, `scores` its scores there, NaN where it has
    none (a family average missing a task at that length, or a cell whose samples all errored).
    Those lengths are left out rather than failed: a family scoring 100 at 1k and 4k with a blank
    2k (one task lacks 2k) has strict effective length 4k on basis "scored", not 1k. The basis:
    - "all": every tested length has a score, the figures are the plain definitions;
    - "scored": some lengths were left out (outputs mark the figure, e.g. "4k*");
    - "none": no length has a score (every sample errored, or no length where every task of a
      family has one): both lengths are unknown (None, printed "?"), not "below the shortest".
    """
    kept = [(length, score) for length, score in zip(lengths, scores, strict=True) if not math.isnan(score)]
    if not kept:
        return None, None, BASIS_NONE
    basis = BASIS_ALL if len(kept) == len(lengths) else BASIS_SCORED
    kept_lengths, kept_scores = [length for length, _ in kept], [score for _, score in kept]
    return (
        effective_length(kept_lengths, kept_scores, threshold),
        strict_effective_length(kept_lengths, kept_scores, threshold),
        basis,
    )
