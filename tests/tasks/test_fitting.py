import pytest

from lc_bench.errors import UsageError
from lc_bench.tasks.fitting import fit_to_budget


def fake_encode(text):
    # one token per character, except "ab" pairs merge into one token (a seam effect)
    ids = []
    i = 0
    while i < len(text):
        step = 2 if text[i : i + 2] == "ab" else 1
        ids.append(i)
        i += step
    return ids, list(ids)


def test_fits_exactly_when_counts_are_additive():
    fitted = fit_to_budget(lambda n: "x" * (10 + n), fake_encode, budget=100, max_units=500)
    assert len(fitted.ids) == 100 and fitted.units == 90


def test_converges_through_merging_seams():
    fitted = fit_to_budget(lambda n: "ab" * n + "a", fake_encode, budget=37, max_units=500, unit_tokens=2.0)
    assert len(fitted.ids) == 37 and fitted.units == 36


def test_multi_token_units_get_as_close_as_granularity_allows():
    # "abc" is 2 tokens ("ab" merges); each unit is 7: 99 - 2 = 97 -> 13 units, 93 tokens
    fitted = fit_to_budget(lambda n: "abc" + "x" * 7 * n, fake_encode, budget=99, max_units=500, unit_tokens=3.0)
    assert fitted.units == 13 and len(fitted.ids) == 93


def test_stops_at_the_haystack_size():
    fitted = fit_to_budget(lambda n: "x" * n, fake_encode, budget=100, max_units=40)
    assert fitted.units == 40


def test_fixed_parts_over_budget():
    with pytest.raises(UsageError, match="fixed parts"):
        fit_to_budget(lambda n: "x" * (200 + n), fake_encode, budget=100, max_units=10)
