"""The multinomial bootstrap: same distribution as index resampling, seeded, with coverage; the
Wilson interval for binary cells and the combination of averages' intervals, by hand."""

import math

import numpy as np
import pytest

from lc_bench.metrics.bootstrap import (
    bootstrap_means,
    cell_rng,
    combined,
    is_binary,
    percentile_interval,
    value_counts,
    wilson_interval,
)


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


@pytest.mark.parametrize(
    ("hits", "n", "low", "high"),
    [
        # z = 1.96, z^2 = 3.8415. 3 of 3: centre = (1 + 3.8415/6) / (1 + 3.8415/3) = 0.7193,
        # half = 1.96 / 2.2805 * sqrt(3.8415/36) = 0.2807 -> [0.4385, 1]
        (3, 3, 43.85, 100.0),
        (0, 3, 0.0, 56.15),  # the mirror image
        # 1 of 2: centre 0.5, half = 1.96 / 2.9207 * sqrt(0.25/2 + 3.8415/16) = 0.4055 -> [0.0945, 0.9055]
        (1, 2, 9.45, 90.55),
        # 1 of 1: centre = 2.9207/4.8415 = 0.6033, half = 1.96/4.8415 * sqrt(3.8415/4) = 0.3967
        (1, 1, 20.65, 100.0),
        # 8 of 10: centre = (0.8 + 0.19207) / 1.38415 = 0.7167, half = 1.96/1.38415 * sqrt(0.016 + 0.009604) = 0.2266
        (8, 10, 49.02, 94.33),
    ],
)
def test_wilson_interval_by_hand(hits, n, low, high):
    interval = wilson_interval(hits, n)
    assert interval.low == pytest.approx(low, abs=0.01) and interval.high == pytest.approx(high, abs=0.01)


def test_wilson_interval_never_collapses_and_stays_in_range():
    for n in (1, 2, 5, 50, 1000):
        for hits in (0, n):
            interval = wilson_interval(hits, n)
            assert 0.0 <= interval.low < interval.high <= 100.0
    assert math.isnan(wilson_interval(0, 0).low) and math.isnan(wilson_interval(0, 0).high)


def test_binary_means_every_score_is_0_or_100():
    assert is_binary(np.array([100.0])) and is_binary(np.array([0.0])) and is_binary(np.array([0.0, 100.0]))
    assert not is_binary(np.array([0.0, 50.0])) and not is_binary(np.array([24.0])) and not is_binary(np.empty(0))


def test_an_average_of_collapsed_replicates_combines_its_members_intervals():
    """Three tasks each 3 of 3: the bootstrap says [100, 100]; each member's Wilson interval is
    [43.85, 100], so the mean's lower distance is sqrt(3 * 56.15^2) / 3 = 56.15 / sqrt(3) = 32.42."""
    interval = combined(100.0, [(100.0, 43.85, 100.0)] * 3)
    assert interval.low == pytest.approx(100 - 56.15 / math.sqrt(3)) == pytest.approx(67.58, abs=0.01)
    assert interval.high == 100.0


def test_combination_keeps_each_side_and_one_member_is_itself():
    # members (100, [43.85, 100]) and (50, [40, 55]): mean 75, below = sqrt(56.15^2 + 10^2) / 2 = 28.52,
    # above = sqrt(0 + 5^2) / 2 = 2.5
    interval = combined(75.0, [(100.0, 43.85, 100.0), (50.0, 40.0, 55.0)])
    assert (interval.low, interval.high) == (pytest.approx(75 - math.sqrt(56.15**2 + 100) / 2), pytest.approx(77.5))
    # a family of one task shows that task's interval
    one = combined(90.0, [(90.0, 59.58, 98.21)])
    assert (one.low, one.high) == (pytest.approx(59.58), pytest.approx(98.21))
    # all zero: no "-0.0" from rounding
    zero = combined(0.0, [(0.0, 0.0, 56.15)] * 3)
    assert zero.low == 0.0 and zero.high == pytest.approx(56.15 / math.sqrt(3))
    assert math.isnan(combined(float("nan"), [(0.0, 0.0, 1.0)]).low) and math.isnan(combined(1.0, []).high)
