"""Seeded, vectorised bootstrap for means of per-sample scores.

Resampling n scores with replacement only matters through how often each distinct value is drawn,
so one bootstrap mean is a multinomial draw over the distinct values: exactly the distribution of
index resampling, at a cost of (distinct values) instead of (samples) per replicate. Retrieval scores
take a handful of values, so a 100k-sample cell costs as little as a 10-sample one.

Each cell draws from its own generator, seeded from the run seed and the cell's identity, so a
cell's interval does not change when other models or tasks join the leaderboard.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_REPLICATES = 1000
DEFAULT_SEED = 0
CONFIDENCE = 0.95
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
