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


def counting(encode):
    calls = []

    def counted(text):
        calls.append(len(text))
        return encode(text)

    return counted, calls


def test_memory_learns_tokens_per_unit_for_the_next_sample():
    # units of 7 tokens guessed at 1: the first fit takes several encodes, the next one one or two
    memory = {}
    render = lambda n: "abc" + "x" * 7 * n  # noqa: E731
    encode, calls = counting(fake_encode)
    first = fit_to_budget(render, encode, budget=999, max_units=500, memory=memory, key="cell", fixed_tokens=2)
    first_calls = len(calls)
    calls.clear()
    second = fit_to_budget(render, encode, budget=999, max_units=500, memory=memory, key="cell", fixed_tokens=2)
    assert first.units == second.units == 142 and len(second.ids) == 996
    assert len(calls) <= 2 < first_calls


def test_a_floor_per_unit_spares_the_overflow_check():
    render = lambda n: "abc" + "x" * 7 * n  # noqa: E731
    encode, calls = counting(fake_encode)
    fitted = fit_to_budget(render, encode, budget=999, max_units=500, unit_tokens=7.0, fixed_tokens=2,
                           min_unit_tokens=7)
    assert fitted.units == 142 and calls == [3 + 7 * 142]  # 996 tokens, 3 short of a unit: one encode


def test_sizes_with_the_same_text_are_encoded_once():
    # ten units make one more "x": counts step, and equal texts are not encoded again
    render = lambda n: "x" * (n // 10)  # noqa: E731
    encode, calls = counting(fake_encode)
    fitted = fit_to_budget(render, encode, budget=50, max_units=10_000, unit_tokens=0.1)
    assert len(fitted.ids) == 50 and 500 <= fitted.units <= 509
    assert len(calls) == len(set(calls))


def test_the_fit_does_not_depend_on_the_first_guess():
    render = lambda n: "ab" * n + "x" * (n // 3)  # noqa: E731
    fits = {
        fit_to_budget(render, fake_encode, budget=777, max_units=5000, unit_tokens=guess).units
        for guess in (0.1, 0.5, 1.0, 1.33, 2.0, 9.0)
    }
    assert len(fits) == 1
