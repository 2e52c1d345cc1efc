"""VT, CWE and FWE: answers are correct by construction, lengths fit within one unit."""

import random
import re
from collections import Counter

import pytest

from lc_bench.lengths import input_budget
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.fitting import PIECE_SLACK
from lc_bench.tasks.synthetic import _entries_add_up, _words_add_up
from lc_bench.tasks.words import common_vocabulary, distinct_random_letters, random_letters


def build(tokenizer, name, lengths=(2048, 8192), n=1, **params):
    return make_task(TASKS.get(name), params).build(BuildContext(tokenizer, tuple(lengths), (), n, 0))


@pytest.mark.parametrize(("name", "slack"), [("vt", 40), ("cwe", 40), ("fwe", 16)])
def test_lengths_fit_within_one_unit(tiny_tokenizer, name, slack):
    for sample in build(tiny_tokenizer, name):
        budget = input_budget(sample.target_length, sample.max_new_tokens)
        assert tiny_tokenizer.count(sample.messages, answer_prefix=sample.answer_prefix) == sample.input_tokens
        assert budget - slack <= sample.input_tokens <= budget, sample.sample_id


def test_variable_tracking_chain_resolves_to_the_value(tiny_tokenizer):
    sample = build(tiny_tokenizer, "vt", lengths=(4096,))[0]
    question = sample.messages[0].content.split("Memorize and track")[-1]
    assignments = dict(re.findall(r"VAR ([A-Z]{5}) = (VAR [A-Z]{5}|\d+)", question))
    value = re.search(r"assigned the value (\d+)", question).group(1)

    def resolve(name):
        target = assignments[name]
        return target if target.isdigit() else resolve(target[4:])

    assert len(sample.references) == 5
    assert all(resolve(name) == value for name in sample.references)
    assert sample.answer_prefix.endswith(f"5 variables are assigned the value {value}, they are: ")
    assert "The grass is green." in question
    assert sample.messages[0].content.count("Memorize and track") == 2  # one-shot example first


def test_common_words_are_the_most_frequent(tiny_tokenizer):
    for sample in build(tiny_tokenizer, "cwe", lengths=(2048, 8192)):
        listing = sample.messages[0].content.split("Memorize the ones that appear most often.\n")[-1]
        words = re.findall(r"\d+\. (\S+)", listing.split("\nQuestion:")[0])
        counts = Counter(words)
        top = {word for word, _ in counts.most_common(10)}
        assert set(sample.references) == top
        expected = 6 if sample.target_length < 4096 else 30  # RULER's short-context setting
        assert all(counts[word] == expected for word in sample.references)


def test_frequent_words_answer_is_ranks_two_to_four(tiny_tokenizer):
    sample = build(tiny_tokenizer, "fwe", lengths=(4096,))[0]
    text = sample.messages[0].content.split("coded words. ")[1].split("\nQuestion:")[0]
    ranked = [word for word, _ in Counter(text.split()).most_common(4)]
    assert ranked[0] == "..." and ranked[1:] == list(sample.references)


def test_same_seed_same_samples(tiny_tokenizer):
    first = [s.model_dump_json() for s in build(tiny_tokenizer, "cwe", lengths=(2048,), n=2)]
    assert first == [s.model_dump_json() for s in build(tiny_tokenizer, "cwe", lengths=(2048,), n=2)]


@pytest.mark.parametrize(("length", "count", "vocabulary"), [(7, 12000, True), (6, 700, False), (3, 5000, False)])
def test_words_drawn_in_bulk_are_the_words_drawn_one_at_a_time(length, count, vocabulary):
    # cwe's invented words and fwe's codes: the bulk draw must give the very words (and order) the
    # one-letter-at-a-time loop gave, or every cwe/fwe sample would change
    seen = frozenset(common_vocabulary()) if vocabulary else frozenset()
    for seed in ("a", "b|cwe|32768|3"):
        rng, expected, taken = random.Random(seed), [], set(seen)
        while len(expected) < count:
            word = random_letters(rng, length)
            if word not in taken:
                taken.add(word)
                expected.append(word)
        assert distinct_random_letters(random.Random(seed), count, length, seen) == expected


def _largest_fit(tokenizer, name, sample, budget):
    """Whether the sample holds the most units that fit: the next size that changes the prompt overflows."""
    task = make_task(TASKS.get(name), {})
    seed = f"0|{name}|{task.params!r}|{sample.target_length}|{sample.sample_id.rsplit('/', 1)[1]}"
    make, *_ = task.generator(seed, sample.target_length, budget, tokenizer)
    units = sample.metadata["units"]
    assert make(units)[0] == sample.messages[0].content
    following = next(n for n in range(units + 1, units * 2) if make(n)[0] != make(units)[0])
    content, prefix, _ = make(following)
    return tokenizer.count((ChatMessage(role="user", content=content),), answer_prefix=prefix) > budget


@pytest.mark.parametrize(("name", "probe"), [("fwe", lambda m, t: _words_add_up(m, t, 6)), ("cwe", _entries_add_up)])
def test_fits_take_one_encode_where_the_pieces_add_up(smollm2_tokenizer, monkeypatch, name, probe):
    # SmolLM2's byte-level BPE splits before every space: a fwe or cwe prompt costs its template plus
    # each " word" (and " K.") counted alone, so after the first sample each fit encodes its prompt
    # once and the next size is predicted, not measured; the samples are still the largest that fit
    task = make_task(TASKS.get(name), {})
    assert probe(task.fit_memory_for(smollm2_tokenizer), smollm2_tokenizer)
    build(smollm2_tokenizer, name, lengths=(8192,), n=1)
    sizes = []
    original = smollm2_tokenizer.encode_rendered

    def counted(*args, **kwargs):
        result = original(*args, **kwargs)
        sizes.append(len(result[0]))
        return result

    monkeypatch.setattr(smollm2_tokenizer, "encode_rendered", counted)
    samples = build(smollm2_tokenizer, name, lengths=(8192,), n=8)
    budget = input_budget(8192, samples[0].max_new_tokens)
    full = sum(1 for size in sizes if size > budget // 2)
    assert full <= len(samples) + 1, sizes
    monkeypatch.setattr(smollm2_tokenizer, "encode_rendered", original)
    for sample in samples:
        assert smollm2_tokenizer.count(sample.messages, answer_prefix=sample.answer_prefix) == sample.input_tokens
        assert sample.input_tokens <= budget and _largest_fit(smollm2_tokenizer, name, sample, budget)


def test_a_tokenizer_whose_words_merge_keeps_the_measured_check(tiny_tokenizer, monkeypatch):
    # a tokenizer that counts " ..." differently after another "..." (as one merging across spaces
    # would) fails the probe: fwe then measures the next size before calling a fit final
    original = tiny_tokenizer.encode_rendered

    def merging(text, *args, **kwargs):
        ids, offsets = original(text, *args, **kwargs)
        extra = text.count("... ...")
        return ids + ids[:1] * extra, offsets + offsets[-1:] * extra

    monkeypatch.setattr(tiny_tokenizer, "encode_rendered", merging)
    task = make_task(TASKS.get("fwe"), {})
    assert not _words_add_up({}, tiny_tokenizer, 6)
    assert _entries_add_up({}, tiny_tokenizer)  # no "... ..." in a numbered list
    budget = input_budget(4096, 50)
    make, _, _, _, slack = task.generator("0|fwe|x|4096|0", 4096, budget, tiny_tokenizer)
    assert slack == PIECE_SLACK
