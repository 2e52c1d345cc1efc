"""Depth labels are honest and the default haystack never repeats: the needle of depth 100 ends
the haystack at every length from 1k to 128k, and the public-domain essay corpus fills 128k
without repeating (the count is in each sample's metadata)."""

import pytest

from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.haystack import load_corpus, tokenize_haystack
from lc_bench.tasks.niah import Niah

LENGTHS = (1024, 4096, 16384, 32768, 65536, 131072)


@pytest.fixture(scope="module")
def samples(tiny_tokenizer):
    task = make_task(Niah, {})
    return task.build(BuildContext(tiny_tokenizer, LENGTHS, (0.0, 50.0, 100.0), 1, 0))


def test_depth_100_puts_the_needle_at_the_end_at_every_length(samples):
    ends = [s for s in samples if s.depth == 100]
    assert [s.target_length for s in ends] == list(LENGTHS)
    for sample in ends:
        content = sample.messages[0].content
        needle = f"is: {sample.references[0]}."
        # nothing of the haystack follows the needle: the question comes next
        after = content[content.index(needle) + len(needle):]
        assert after.startswith("\nWhat is the special magic number"), after[:80]
        assert sample.metadata["actual_depth"] == 100.0


def test_depth_0_and_50_are_where_they_say(samples):
    for sample in samples:
        if sample.depth == 0:
            assert sample.metadata["actual_depth"] == 0.0
        elif sample.depth == 50:  # the sentence start nearest the depth: one sentence away at most
            assert abs(sample.metadata["actual_depth"] - 50) < (5 if sample.target_length <= 4096 else 1)


def test_the_default_haystack_never_repeats_up_to_128k(samples):
    assert {s.metadata["haystack"] for s in samples} == {"essay"}
    assert [s.metadata["haystack_repeats"] for s in samples] == [0] * len(samples)
    longest = max(samples, key=lambda s: s.target_length)
    paragraphs = [p for p in longest.messages[0].content.split("\n") if len(p) > 200]
    assert len(paragraphs) > 100 and len(set(paragraphs)) == len(paragraphs)


def test_the_old_essays_repeat_and_say_so(tiny_tokenizer):
    task = make_task(Niah, {"haystack": "lc-essays"})
    built = task.build(BuildContext(tiny_tokenizer, (1024, 32768), (50.0,), 1, 0))
    assert built[0].metadata["haystack_repeats"] == 0
    assert built[1].metadata["haystack_repeats"] >= 3


def test_a_repeated_corpus_counts_its_copies(tiny_tokenizer):
    text = "One short sentence. Another one follows here."
    haystack = tokenize_haystack(tiny_tokenizer, text, 200, repeat=True)
    one_copy = len(tiny_tokenizer.encode(text))
    assert haystack.repeats_within(one_copy - 1) == 0
    assert haystack.repeats_within(one_copy + 5) == 1
    assert haystack.repeats_within(len(haystack.ids)) == haystack.repeats >= 200 // one_copy


def test_chinese_haystack_fills_a_prompt_and_breaks_at_chinese_full_stops(tiny_tokenizer):
    task = make_task(Niah, {"haystack": "essay-zh"})
    built = task.build(BuildContext(tiny_tokenizer, (4096,), (50.0,), 1, 0))[0]
    content = built.messages[0].content
    before = content[: content.index("One of the special magic")].rstrip()
    assert before[-1] in "。！？”’」』）"
    assert built.metadata["haystack_repeats"] == 0
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in content) > 1000


def test_a_long_corpus_is_tokenized_only_as_far_as_needed(tiny_tokenizer):
    text = load_corpus("essay")
    haystack = tokenize_haystack(tiny_tokenizer, text, 5000, repeat=True)
    assert 5000 <= len(haystack.ids) < 20000
    assert haystack.repeats == 0
