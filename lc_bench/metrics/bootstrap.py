"""Seeded, vectorised bootstrap for means of per-sample scores.

Resampling n scores with replacement only matters through how often each distinct value is drawn,
so one bootstrap mean is a multinomial draw over the distinct values: exactly the distribution of
index resampling, at a cost of (distinct values) instead of (samples) per replicate. Retrieval scores
take a handful of values, so a 100k-sample cell costs as little as a 10-sample one.

Each cell draws from its own generator, seeded from the run seed and the cell's identity, so a
cell's interval does not change when other models or tasks join the leaderboard.

A percentile bootstrap collapses when every sample scores the same: 3 samples of 100 give
"100 ± 0", as if three hits proved a perfect model. Cells whose scores are all 0 or 100 (binary)
therefore report the Wilson score interval instead (`wilson_interval`), which stays wide at 0 and
100; other cells keep the bootstrap. Binary cells keep their replicates too, but those collapse
where the Wilson interval does not, so an average with such a member takes its members' intervals
combined as independent errors (`combined`) instead of the bootstrap of their replicates.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_REPLICATES = 1000
DEFAULT_SEED = 0
CONFIDENCE = 0.95
Z_95 = 1.959963984540054  # the standard normal's 97.5% quantile
BINARY_VALUES = (0.0, 100.0)
_MAX_DRAWS_PER_CHUNK = 4_000_000


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def cell_rng(seed: int, identity: Sequence[object]) -> np.random.Generator:
    """A generator that depends only on the seed and the cell's identity (stable across runs)."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in identity).encode("utf-8")).digest()
    return np.random.default_rng([seed, *np.frombuffer(digest[:16], dtype=np.uint32).tolist()])


def value_counts(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and their counts: all a bootstrap (and a stored baseline) needs."""
    values, counts = np.unique(np.asarray(scores, dtype=np.float64), return_counts=True)
    return values, counts


def bootstrap_means(
    values: np.ndarray, counts: np.ndarray, rng: np.random.Generator, replicates: int = DEFAULT_REPLICATES
) -> np.ndarray:
    """`replicates` bootstrap means of a sample given as distinct values with counts.

    An empty sample gives NaNs; a single distinct value gives that value every time.
    """
    n = int(np.sum(counts))
    if n == 0:
        return np.full(replicates, np.nan)
    if len(values) == 1:
        return np.full(replicates, float(values[0]))
    probabilities = counts / n
    chunk = max(1, _MAX_DRAWS_PER_CHUNK // len(values))
    means = np.empty(replicates)
    for start in range(0, replicates, chunk):
        stop = min(replicates, start + chunk)
        draws = rng.multinomial(n, probabilities, size=stop - start)
        means[start:stop] = draws @ values / n
    return means


def percentile_interval(replicate_means: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """The percentile interval of bootstrap replicates (NaN bounds when they are undefined)."""
    finite = replicate_means[~np.isnan(replicate_means)]
    if finite.size == 0:
        return Interval(float("nan"), float("nan"))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return Interval(float(low), float(high))


def is_binary(values: np.ndarray) -> bool:
    """Whether a cell's distinct scores are all 0 or 100 (hit or miss): the Wilson interval's case."""
    return len(values) > 0 and bool(np.isin(values, BINARY_VALUES).all())


def wilson_interval(hits: int, n: int, z: float = Z_95) -> Interval:
    """The Wilson score interval of `hits` successes in `n` trials, in score units (0-100).

    With p = hits / n:

        centre = (p + z^2 / (2n)) / (1 + z^2 / n)
        half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))
        [low, high] = 100 * [centre - half, centre + half]

    z = 1.96 for 95%. Unlike the percentile bootstrap (and the normal approximation) it does not
    collapse to a point at 0 or 100: 3 of 3 gives [43.85, 100], 0 of 3 gives [0, 56.15].
    NaN bounds when n is 0.
    """
    if n <= 0:
        return Interval(float("nan"), float("nan"))
    p = hits / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # at p = 0 or 1 one bound is exactly 0 or 1; clamp the rounding error there
    return Interval(100 * max(0.0, centre - half), 100 * min(1.0, centre + half))


def combined(mean: float, members: Sequence[tuple[float, float, float]]) -> Interval:
    """The interval of an average from its members' intervals, combined as independent errors.

    `members` are the averaged (score, low, high); with k members each side's distance is
    sqrt(sum of the members' distances squared) / k:

        low  = mean - sqrt(sum((score_i - low_i)^2)) / k
        high = mean + sqrt(sum((high_i - score_i)^2)) / k

    So one member gives its own interval, and k equal members shrink it by sqrt(k): three tasks
    each 3 of 3 (Wilson [43.85, 100]) give 100 - 56.15 / sqrt(3) = 67.58, where the bootstrap of
    their replicates (all 100) gave "100 ± 0". Each side keeps the members' asymmetry. The
    aggregation uses this for averages with a member whose interval its bootstrap replicates do
    not carry (a Wilson cell, or an average of one: aggregate._average_interval). NaN when the mean
    or a bound is NaN, or there are no members.
    """
    if math.isnan(mean) or not members:
        return Interval(float("nan"), float("nan"))
    k = len(members)
    below = math.sqrt(sum((score - low) ** 2 for score, low, _ in members)) / k
    above = math.sqrt(sum((high - score) ** 2 for score, _, high in members)) / k
    # sqrt(sum d^2) / k <= sum(d) / k, so the bounds never pass the mean of the members' bounds;
    # clamping there only removes floating-point error (a "-0.0" under an all-zero average)
    low = max(mean - below, sum(low for _, low, _ in members) / k)
    high = min(mean + above, sum(high for _, _, high in members) / k)
    return Interval(low, high)
