"""RULER's effective length and wAvg against the figures RULER publishes in its README."""

import math

import pytest

from lc_bench.metrics.effective import (
    BASIS_ALL,
    BASIS_NONE,
    BASIS_SCORED,
    effective_length,
    scored_effective_lengths,
    strict_effective_length,
    weighted_average_decreasing,
    weighted_average_increasing,
)

RULER_LENGTHS = [4096, 8192, 16384, 32768, 65536, 131072]


@pytest.mark.parametrize(
    ("scores", "inc", "dec"),
    [
        ((96.5, 95.8, 95.4, 94.8, 88.4, 66.6), 85.5, 93.7),  # Llama-3.1-70B
        ((96.6, 96.3, 95.2, 93.2, 87.0, 81.2), 89.0, 94.1),  # GPT-4
    ],
)
def test_wavg_matches_ruler_readme(scores, inc, dec):
    assert round(weighted_average_increasing(RULER_LENGTHS, scores), 1) == inc
    assert round(weighted_average_decreasing(RULER_LENGTHS, scores), 1) == dec


def test_wavg_by_hand_and_in_any_order():
    # weights 1, 2, 3 by length rank: (1*10 + 2*20 + 3*60) / 6 = 38.33; decreasing (3*10 + 2*20 + 60) / 6 = 21.67
    assert weighted_average_increasing([2048, 1024, 4096], [20.0, 10.0, 60.0]) == pytest.approx(230 / 6)
    assert weighted_average_decreasing([2048, 1024, 4096], [20.0, 10.0, 60.0]) == pytest.approx(130 / 6)


def test_wavg_undefined_with_a_missing_length():
    assert math.isnan(weighted_average_increasing([1024, 2048], [50.0, float("nan")]))
    assert math.isnan(weighted_average_decreasing([], []))


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ((96.5, 95.8, 95.4, 94.8, 88.4, 66.6), 65536),  # Llama-3.1-70B: 64K in RULER's table
        ((96.3, 96.0, 91.8, 91.2, 82.1, 77.4), 32768),  # Qwen3-8B: 32K
        ((88.1, 85.5, 82.0, 78.0, 70.0, 60.0), 4096),  # InternLM2.5-7B-style: 4K
        ((80.0, 70.0, 60.0, 50.0, 40.0, 30.0), None),  # below the threshold everywhere
    ],
)
def test_effective_length_matches_ruler(scores, expected):
    assert effective_length(RULER_LENGTHS, scores) == expected
    assert strict_effective_length(RULER_LENGTHS, scores) == expected


def test_strict_form_stops_at_the_first_dip():
    scores = (90.0, 80.0, 90.0)
    assert effective_length(RULER_LENGTHS[:3], scores) == 16384
    assert strict_effective_length(RULER_LENGTHS[:3], scores) == 4096
    assert strict_effective_length(RULER_LENGTHS[:3], (80.0, 90.0, 90.0)) is None
    assert strict_effective_length(RULER_LENGTHS[:3], (90.0, float("nan"), 90.0)) == 4096


@pytest.mark.parametrize(("score", "passes"), [(85.6, True), (85.56, True), (85.54, False), (85.5, False)])
def test_threshold_compares_the_printed_score_and_a_tie_passes(score, passes):
    assert (effective_length([4096], [score]) == 4096) is passes


def test_custom_threshold():
    assert effective_length([1024, 2048], [60.0, 40.0], threshold=50.0) == 1024


NAN = float("nan")


def test_a_blank_length_is_left_out_not_failed():
    """A family at 1k, 2k, 4k whose 2k average is blank (one task lacks 2k), 100 elsewhere: the
    strict form would stop at the blank ("1k"); over the scored lengths it is 4k, marked "scored"."""
    lengths = [1024, 2048, 4096]
    assert strict_effective_length(lengths, [100.0, NAN, 100.0]) == 1024
    assert scored_effective_lengths(lengths, [100.0, NAN, 100.0]) == (4096, 4096, BASIS_SCORED)
    # a real miss still ends the strict form
    assert scored_effective_lengths(lengths, [100.0, 50.0, 100.0]) == (4096, 1024, BASIS_ALL)
    # the blank is not evidence of a pass either: a miss after it still counts
    assert scored_effective_lengths(lengths, [100.0, NAN, 50.0]) == (1024, 1024, BASIS_SCORED)


def test_no_score_at_all_is_unknown_not_below_the_shortest():
    assert scored_effective_lengths([1024, 2048], [NAN, NAN]) == (None, None, BASIS_NONE)
    assert scored_effective_lengths([], []) == (None, None, BASIS_NONE)
    # scored but below the threshold everywhere: known to be below the shortest length
    assert scored_effective_lengths([1024, 2048], [10.0, 20.0]) == (None, None, BASIS_ALL)
