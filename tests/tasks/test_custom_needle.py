"""A needle of the user's own (`--task-opt niah.needle=... niah.question=... niah.answer=...`), as
the original NIAH test lets users choose theirs."""

import pytest

from lc_bench.errors import UsageError
from lc_bench.lengths import input_budget
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.niah import Niah

NEEDLE = "The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day."
QUESTION = "What is the best thing to do in San Francisco?"


def build(tokenizer, **params):
    task = make_task(Niah, {"needle": NEEDLE, "question": QUESTION, "answer": "eat a sandwich", **params})
    return task, task.build(BuildContext(tokenizer, (2048,), (0.0, 50.0, 100.0), 1, 0))


def test_the_custom_needle_question_and_answer_make_the_sample(tiny_tokenizer):
    task, samples = build(tiny_tokenizer)
    for sample in samples:
        content = sample.messages[0].content
        assert content.count(NEEDLE) == 1
        assert content.endswith(
            f"\n\n{QUESTION} Don't give information outside the document or repeat your findings."
        )
        assert "special magic" not in content and sample.answer_prefix == ""
        assert sample.references == ("eat a sandwich",)
        budget = input_budget(sample.target_length, sample.max_new_tokens)
        assert budget - 2 <= sample.input_tokens <= budget
    first, middle, last = samples
    middle_text = middle.messages[0].content
    assert 0 < middle_text.index(NEEDLE) < middle_text.index("\n\nWhat is") - len(NEEDLE) - 100
    assert first.messages[0].content.startswith(NEEDLE)
    assert last.messages[0].content.index(NEEDLE) + len(NEEDLE) == last.messages[0].content.index("\n\nWhat is")
    assert task.score("You should eat a sandwich in the park.", first.references, {})["string_match_all"] == 100.0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"needle": NEEDLE}, "task niah: a custom needle needs needle, question and answer .missing: answer, que"),
        ({"needle": NEEDLE, "question": QUESTION, "answer": "pizza"}, "the answer must be part of the needle"),
        ({"needle": NEEDLE, "question": QUESTION, "answer": "sandwich", "num_keys": 4},
         "num_keys, num_values and num_queries must be 1"),
    ],
)
def test_an_incomplete_or_impossible_custom_needle_is_one_line(params, message):
    with pytest.raises(UsageError, match=message):
        make_task(Niah, params)
