"""Length summaries: effective context length and the length-weighted averages.

Hsieh et al. (2024) define them in their benchmark's README and compute them by hand; no public
code does (see shared/research/benchmarks.md 2.5). Definitions used here:

- effective length: the largest tested length whose score reaches the threshold (default 85.6,
  Llama-2-7B-chat's 4k score, so that model's own effective length is 4k: a tie passes). Scores
  are compared as the table prints them, rounded to one decimal, so a reader can check the column
  against the row. The strict form also requires every shorter tested length to pass.
- wAvg(inc) = sum(i * s_i) / sum(i) and wAvg(dec) = sum((n + 1 - i) * s_i) / sum(i), with i the
  rank of the length (1 = shortest). Defined only when the row has a score at every length.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

DEFAULT_THRESHOLD = 85.6


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
