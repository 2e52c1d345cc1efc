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
    fitted = fit_to_budget(lambda n: "x" * (10 + n), fake_encode, budget=100, first_guess=50, max_haystack=500)
    assert len(fitted.ids) == 100 and fitted.haystack_tokens == 90


def test_converges_through_merging_seams():
    fitted = fit_to_budget(lambda n: "ab" * n, fake_encode, budget=37, first_guess=60, max_haystack=500)
    assert len(fitted.ids) <= 37 and fitted.haystack_tokens == 37


def test_stops_at_the_haystack_size():
    fitted = fit_to_budget(lambda n: "x" * n, fake_encode, budget=100, first_guess=10, max_haystack=40)
    assert fitted.haystack_tokens == 40


def test_fixed_parts_over_budget():
    with pytest.raises(UsageError, match="fixed parts"):
        fit_to_budget(lambda n: "x" * (200 + n), fake_encode, budget=100, first_guess=0, max_haystack=10)
