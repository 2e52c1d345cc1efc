"""The multinomial bootstrap: same distribution as index resampling, seeded, with coverage."""

import numpy as np
import pytest

from lc_bench.metrics.bootstrap import bootstrap_means, cell_rng, percentile_interval, value_counts


def test_value_counts():
    values, counts = value_counts(np.array([100.0, 0.0, 100.0, 50.0]))
    assert values.tolist() == [0.0, 50.0, 100.0] and counts.tolist() == [1, 1, 2]


def test_matches_index_resampling():
    scores = np.array([0.0] * 3 + [50.0] * 2 + [100.0] * 15)
    values, counts = value_counts(scores)
    ours = bootstrap_means(values, counts, np.random.default_rng(1), 20000)
    rng = np.random.default_rng(2)
    reference = scores[rng.integers(0, len(scores), size=(20000, len(scores)))].mean(axis=1)
    assert ours.mean() == pytest.approx(reference.mean(), abs=0.3)
    assert ours.std() == pytest.approx(reference.std(), rel=0.05)
    assert np.percentile(ours, 2.5) == pytest.approx(np.percentile(reference, 2.5), abs=2.6)


def test_seeded_per_cell_identity():
    values, counts = value_counts(np.array([0.0, 100.0, 100.0]))
    first = bootstrap_means(values, counts, cell_rng(0, ("task", "m", "niah", 1024)))
    again = bootstrap_means(values, counts, cell_rng(0, ("task", "m", "niah", 1024)))
    other_cell = bootstrap_means(values, counts, cell_rng(0, ("task", "m", "niah", 2048)))
    other_seed = bootstrap_means(values, counts, cell_rng(1, ("task", "m", "niah", 1024)))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other_cell) and not np.array_equal(first, other_seed)


def test_degenerate_samples():
    assert np.isnan(bootstrap_means(np.empty(0), np.empty(0, dtype=int), np.random.default_rng(0), 10)).all()
    constant = bootstrap_means(np.array([100.0]), np.array([7]), np.random.default_rng(0), 10)
    assert constant.tolist() == [100.0] * 10
    interval = percentile_interval(np.full(5, np.nan))
    assert np.isnan(interval.low) and np.isnan(interval.high)


def test_many_distinct_values_are_chunked():
    scores = np.arange(5000, dtype=float)
    values, counts = value_counts(scores)
    means = bootstrap_means(values, counts, np.random.default_rng(0), 1000)
    assert means.shape == (1000,) and abs(means.mean() - scores.mean()) < 5


def test_95_percent_coverage():
    """Over 400 simulated 100-sample cells with true accuracy 80%, the interval covers 80 ~95% of the time."""
    rng = np.random.default_rng(7)
    covered = 0
    for trial in range(400):
        scores = np.where(rng.random(100) < 0.8, 100.0, 0.0)
        values, counts = value_counts(scores)
        interval = percentile_interval(bootstrap_means(values, counts, cell_rng(0, ("coverage", trial))))
        covered += interval.low <= 80.0 <= interval.high
    assert 0.90 <= covered / 400 <= 0.99
    assert interval.half_width == pytest.approx((interval.high - interval.low) / 2)
