"""VT, CWE and FWE: answers are correct by construction, lengths fit within one unit."""

import re
from collections import Counter

import pytest

from lc_bench.lengths import input_budget
from lc_bench.registry import TASKS
from lc_bench.tasks.base import BuildContext, make_task


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
