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


# -- counting at the seams and splicing ---------------------------------------------------------

WORDS = ("river", "lantern", "okapi", "quietly", "thirteen", "blue", "maps", "harbour", "w", "xylophone")


def word_text(n: int, seed: int = 0) -> str:
    import random

    rng = random.Random(seed)
    return "Intro: " + " ".join(rng.choice(WORDS) for _ in range(n)) + "\nQuestion?"


@pytest.mark.parametrize("which", ["tiny_tokenizer", "smollm2_tokenizer"])
def test_piece_counts_add_up_to_the_whole_encode(which, request):
    from lc_bench.tasks.fitting import piece_token_counts

    tokenizer = request.getfixturevalue(which)
    pieces = [" " + word for word in WORDS * 3]
    counts = piece_token_counts(tokenizer.encode_with_offsets, pieces)
    assert sum(counts) == len(tokenizer.encode("".join(pieces)))
    assert counts[:len(WORDS)] == [len(tokenizer.encode(piece)) for piece in pieces[:len(WORDS)]]


def test_a_pieces_fit_takes_one_encode_and_gives_what_the_full_search_gives():
    from lc_bench.tasks.fitting import fit_to_budget

    def render(n: int) -> str:
        return "head " + " ".join(["xyz"] * n)  # "head" 4 + 1 seam; each " xyz" 4 (fake: one token per character)

    calls: list[int] = []

    def encode(text: str):
        calls.append(len(text))
        return fake_encode(text)

    fitted = fit_to_budget(render, encode, budget=1001, max_units=5000, fixed_tokens=len(render(0)),
                           pieces=lambda n: 4 * n)
    assert (fitted.units, len(fitted.ids)) == (249, 1000) and len(calls) == 1  # 250 would be 1004: over by 3
    plain = fit_to_budget(render, fake_encode, budget=1001, max_units=5000)
    assert plain.units == fitted.units


@pytest.mark.parametrize("which", ["tiny_tokenizer", "smollm2_tokenizer"])
def test_a_spliced_encoding_equals_the_full_encoding(which, request):
    from lc_bench.tasks.fitting import splice_encoding

    tokenizer = request.getfixturevalue(which)
    long_text = word_text(400)
    for shorter in (399, 390, 350, 330):
        text = word_text(400)[: len(word_text(shorter)) - len("\nQuestion?")] + "\nQuestion?"
        previous = (long_text, *tokenizer.encode_with_offsets(long_text))
        spliced = splice_encoding(previous, text, tokenizer.encode_with_offsets)
        assert spliced is not None
        assert spliced == tokenizer.encode_with_offsets(text)
    early = "Other: " + long_text[7:]  # differs at the start: nothing to splice onto
    assert splice_encoding((long_text, *tokenizer.encode_with_offsets(long_text)), early,
                           tokenizer.encode_with_offsets) is None


@pytest.mark.parametrize("which", ["tiny_tokenizer", "smollm2_tokenizer"])
def test_a_stretch_changed_mid_prompt_is_spliced_between_the_measured_tokens(which, request):
    from lc_bench.tasks.fitting import splice_encoding

    tokenizer = request.getfixturevalue(which)
    head, tail = word_text(300, seed=1), word_text(300, seed=2)
    long_text = head + " The middle part grows here and there, quietly. " + tail
    for middle in (" The middle part grows here.", " The middle part grows here and there, quietly and slowly.", ""):
        text = head + middle + " " + tail
        previous = (long_text, *tokenizer.encode_with_offsets(long_text))
        spliced = splice_encoding(previous, text, tokenizer.encode_with_offsets)
        assert spliced is not None and spliced == tokenizer.encode_with_offsets(text)


def test_a_predicted_overflow_within_a_seams_error_is_measured_not_trusted():
    from lc_bench.tasks.fitting import fit_to_budget

    # each unit "xy" is 2 tokens, but the pieces say unit 11 costs 4 (a seam the counts get wrong by 2)
    def pieces(n: int) -> int:
        return 2 * n + (2 if n >= 11 else 0)

    fixed = len("head")
    fitted = fit_to_budget(lambda n: "head" + "xy" * n, fake_encode, budget=fixed + 22, max_units=100,
                           fixed_tokens=fixed, pieces=pieces)
    assert fitted.units == 11 and len(fitted.ids) == fixed + 22  # unit 11 fits: it was measured


def test_tokenizers_that_prepend_a_marker_to_every_text_are_never_spliced(tiny_tokenizer):
    from lc_bench.tasks.fitting import splice_safe

    def prepending(text: str):  # a legacy Llama 2 file: "▁" before whatever it encodes
        ids, offsets = tiny_tokenizer.encode_with_offsets(text)
        return [0, *ids], [0, *offsets]

    assert splice_safe(tiny_tokenizer.encode_with_offsets) and not splice_safe(prepending)


@pytest.mark.parametrize("which", ["tiny_tokenizer", "smollm2_tokenizer"])
def test_stretches_changed_far_apart_are_spliced_one_by_one(which, request):
    from lc_bench.tasks.fitting import splice_encoding

    tokenizer = request.getfixturevalue(which)
    parts = [word_text(200, seed=seed)[7:-10] for seed in range(4)]  # four long runs of words
    old = " Alpha said so. ".join(parts) + " The end came late.\nQuestion?"
    # the first stretch shrinks, the second grows, the third moves a word, the end loses words
    new = (parts[0] + " Beta. " + parts[1] + " Alpha said so, and more. " + parts[2][:40] + " again"
           + parts[2][40:] + " Alpha said so. " + parts[3][:-30] + " The end.\nQuestion?")
    spliced = splice_encoding((old, *tokenizer.encode_with_offsets(old)), new, tokenizer.encode_with_offsets)
    assert spliced is not None
    assert spliced == tokenizer.encode_with_offsets(new)


def test_a_fit_may_splice_its_first_size_onto_a_prompt_measured_before_it(tiny_tokenizer):
    encodes: list[int] = []

    def encode(text: str):
        encodes.append(len(text))
        return tiny_tokenizer.encode_with_offsets(text)

    base = word_text(300, seed=5)
    before = fit_to_budget(lambda n: base + " " + " ".join(["tail"] * n), encode, budget=10_000, max_units=0)
    encodes.clear()
    fitted = fit_to_budget(lambda n: base + " " + " ".join(["end"] * n) + " stop", encode, budget=len(before.ids) + 20,
                           max_units=30, fixed_tokens=len(before.ids), encode_window=tiny_tokenizer.encode_with_offsets,
                           measured=before)
    assert encodes == []  # every size spliced onto `before`: no whole-prompt encode
    assert (fitted.ids, fitted.offsets) == tiny_tokenizer.encode_with_offsets(fitted.text)


@pytest.mark.parametrize("which", ["tiny_tokenizer", "smollm2_tokenizer"])
def test_chinese_text_is_spliced_at_ideographs_after_punctuation_where_the_tokenizer_allows(which, request):
    from lc_bench.tasks.fitting import CJK_SPLICE_PROBES, splice_encoding, window_encoder

    tokenizer = request.getfixturevalue(which)
    window = window_encoder(tokenizer)
    assert window is not None
    if which == "smollm2_tokenizer":
        assert window.cjk_cuts  # GPT-2-style pre-tokens: punctuation stands alone
    sentences = (CJK_SPLICE_PROBES * 20)
    old = "".join(sentences)
    new = "".join(sentences[:-1]) + "冬天渡轮停运，小镇只靠山路。"  # the end differs
    spliced = splice_encoding((old, *tokenizer.encode_with_offsets(old)), new, window)
    if window.cjk_cuts:
        assert spliced is not None
    assert spliced is None or spliced == tokenizer.encode_with_offsets(new)
