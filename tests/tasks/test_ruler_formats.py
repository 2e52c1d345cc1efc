"""Rendered RULER prompts, character for character, against NVIDIA/RULER's own templates.

Expected strings are written out by hand from RULER's `scripts/data/synthetic/constants.py` and its
generators (`niah.py`, `variable_tracking.py`, `common_words_extraction.py`,
`freq_words_extraction.py`, `qa.py`): RULER renders `template + answer_prefix`, and every answer
prefix starts with a space, so a prompt without a chat template reads "...text? The special ...".
"""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from lc_bench.lengths import input_budget
from lc_bench.registry import TASKS
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.haystack import NOISE_SENTENCES

NOISE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."


def build(tokenizer, name, length=4096, depths=(), **params):
    return make_task(TASKS.get(name), params).build(BuildContext(tokenizer, (length,), tuple(depths), 1, 0))[0]


def plain(tokenizer, sample):
    """The prompt as a base model (or RULER's `base` template) sees it: no chat template."""
    return tokenizer.render(sample.messages, use_chat_template=False, answer_prefix=sample.answer_prefix)


def test_answer_prefixes_are_rulers_with_their_leading_space():
    from lc_bench.tasks import niah, qa, synthetic

    assert niah.ANSWER_PREFIX == " The special magic {kind} for {query} mentioned in the provided text are"
    assert synthetic.VT_PREFIX == (
        " Answer: According to the chain(s) of variable assignment in the text above, {num_v} variables are "
        "assigned the value {query}, they are: "
    )
    assert synthetic.CWE_PREFIX == " Answer: The top 10 words that appear most often in the list are:"
    assert synthetic.FWE_PREFIX == (
        " Answer: According to the coded text above, the three most frequently appeared words are:"
    )
    assert qa.QA_PREFIX == " Answer:"


def test_niah_prompt_tail_without_and_with_a_chat_template(tiny_tokenizer):
    sample = build(tiny_tokenizer, "niah_single_2", depths=(50.0,))
    key = sample.metadata["query"]
    assert plain(tiny_tokenizer, sample).endswith(
        f"\nWhat is the special magic number for {key} mentioned in the provided text?"
        f" The special magic number for {key} mentioned in the provided text is"
    )
    # with a chat template the assistant turn starts with the space, as RULER's
    # `model_template.format(task_template=...) + answer_prefix` does
    assert tiny_tokenizer.render(sample.messages, answer_prefix=sample.answer_prefix).endswith(
        f"mentioned in the provided text?<|end|>\n<|assistant|>\n The special magic number for {key} "
        "mentioned in the provided text is"
    )
    multi = build(tiny_tokenizer, "niah_multivalue", depths=(50.0,))
    key = multi.metadata["query"]
    assert plain(tiny_tokenizer, multi).endswith(
        f"\nWhat are all the special magic numbers for {key} mentioned in the provided text?"
        f" The special magic numbers for {key} mentioned in the provided text are"
    )


def test_tiktoken_render_puts_the_space_between_question_and_prefix(tiny_tokenizer):
    pytest.importorskip("quicktok")
    from lc_bench.tokenizer_tiktoken import load_tiktoken

    tokenizer = load_tiktoken("tiktoken:o200k_base", "any")
    sample = build(tokenizer, "niah_single_2", depths=(50.0,))
    key = sample.metadata["query"]
    assert tokenizer.render(sample.messages, answer_prefix=sample.answer_prefix).endswith(
        f"provided text? The special magic number for {key} mentioned in the provided text is"
    )


@pytest.mark.parametrize("depth", [0.0, 50.0, 100.0])
def test_noise_haystack_is_whole_lines_with_the_needle_on_its_own_line(tiny_tokenizer, depth):
    sample = build(tiny_tokenizer, "niah_single_1", depths=(depth,))
    key, value = sample.metadata["query"], sample.references[0]
    lines = sample.metadata["haystack_units"]
    before = round(lines * depth / 100)
    needle = f"One of the special magic numbers for {key} is: {value}."
    context = "\n".join([NOISE] * before + [needle] + [NOISE] * (lines - before))
    assert sample.messages[0].content == (
        "A special magic number is hidden within the following text. Make sure to memorize it. "
        f"I will quiz you about the number afterwards.\n{context}\n"
        f"What is the special magic number for {key} mentioned in the provided text?"
    )
    assert sample.answer_prefix == f" The special magic number for {key} mentioned in the provided text is"
    # fitted by whole lines: within the budget, and one more noise line would not fit
    budget = input_budget(sample.target_length, sample.max_new_tokens)
    line = len(tiny_tokenizer.encode("\n" + NOISE))
    assert budget - line < sample.input_tokens <= budget


def test_vt_one_shot_example_is_rulers_text(tiny_tokenizer):
    sample = build(tiny_tokenizer, "vt")
    text = plain(tiny_tokenizer, sample)
    example, question = text.split("\n\nMemorize and track", 1)
    names = example.split("they are:  ")[1].split(" ")
    value = re.search(r"VAR [A-Z]{3} = (\d+)\n", example).group(1)
    assert len(names) == 5 and all(re.fullmatch("[A-Z]{3}", name) for name in names)
    head = "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n"
    tail = (
        f"\nQuestion: Find all variables that are assigned the value {value} in the text above."
        " Answer: According to the chain(s) of variable assignment in the text above, 5 variables are "
        f"assigned the value {value}, they are:  {' '.join(names)}"
    )
    assert example.startswith(head) and example.endswith(tail)
    # the example's context: noise lines and the chain in order, each hop line ending with a space
    context = example[len(head) : -len(tail)].split("\n")
    chain = [f"VAR {names[0]} = {value}"] + [f"VAR {b} = VAR {a} " for a, b in zip(names, names[1:], strict=False)]
    assert [line for line in context if line != NOISE] == chain
    noise_lines = context.count(NOISE)
    assert noise_lines >= 5
    # RULER fits the example (question and answer prefix, no answer) to 500 tokens by noise lines
    asked = example[: -len(" " + " ".join(names))]
    assert 500 - len(tiny_tokenizer.encode("\n" + NOISE)) < len(tiny_tokenizer.encode(asked)) <= 500
    # then the question itself, on the line after a blank one, and the answer prefix's final space
    main_value = sample.answer_prefix.split("the value ")[1].split(",")[0]
    assert text.endswith(
        f"\nQuestion: Find all variables that are assigned the value {main_value} in the text above."
        " Answer: According to the chain(s) of variable assignment in the text above, 5 variables are "
        f"assigned the value {main_value}, they are: "
    )
    assert "\nVAR " + sample.references[1] + " = VAR " + sample.references[0] + " \n" in question


def test_vt_example_noise_is_fitted_to_500_tokens_by_lines():
    from lc_bench.tasks.synthetic import VariableTrackingParams, _vt_example

    class WordTokenizer:  # one token per whitespace-separated word
        def encode(self, text):
            return text.split()

    # words: template 13 + question 14 + answer prefix 21 + "VAR A = v" 4 + 4 hops x "VAR B = VAR A" 5
    # = 72 fixed; a noise line is 19 words, so 22 lines make 490 <= 500 and 23 would make 509
    example = _vt_example(random.Random(1), "s", VariableTrackingParams(), WordTokenizer())
    assert example.count(NOISE) == 22
    assert len(example.split()) == 490 + 5  # and the five names after the prefix
    assert example.endswith("\n") and "they are:  " in example


def test_cwe_example_joins_template_and_answer_prefix(tiny_tokenizer):
    sample = build(tiny_tokenizer, "cwe", length=8192)
    text = plain(tiny_tokenizer, sample)
    asked = (
        "\nQuestion: What are the 10 most common words in the above list?"
        " Answer: The top 10 words that appear most often in the list are:"
    )
    intro = (
        "Below is a numbered list of words. In these words, some appear more often than others. "
        "Memorize the ones that appear most often.\n"
    )
    example, main = text.split(asked + " 1. ", 1)
    answer, main = main.split("\n" + intro, 1)
    assert example.startswith(intro) and text.endswith(asked)
    answer = "1. " + answer
    words = re.findall(r"\d+\. (\S+)", answer)
    assert len(words) == 10 and answer == " ".join(f"{i + 1}. {word}" for i, word in enumerate(words))
    counts = Counter(re.findall(r"\d+\. (\S+)", example[len(intro) :]))
    # RULER's >= 4k example: 40 words, the 10 common ones 10 times each, the rest 3 times
    assert len(counts) == 40 and {w: counts[w] for w in words} == dict.fromkeys(words, 10)
    assert sorted(counts.values()) == [3] * 30 + [10] * 10


def test_fwe_noise_word_is_three_dots(tiny_tokenizer):
    sample = build(tiny_tokenizer, "fwe")
    content = sample.messages[0].content
    coded = content.split("coded words. ", 1)[1].split("\nQuestion:", 1)[0].split(" ")
    # rank 1 of n = units words: int(n / zeta(2)) copies of '...' (RULER: vocab[0] = '...')
    assert coded.count("...") == int(sample.metadata["units"] * 6 / 3.141592653589793**2)
    assert "...." not in coded
    assert plain(tiny_tokenizer, sample).endswith(
        "Please ignore the dots '....'. What are the three most frequently appeared words in the above coded text?"
        " Answer: According to the coded text above, the three most frequently appeared words are:"
    )


def test_qa_prompt_tail(tiny_tokenizer):
    sample = build(tiny_tokenizer, "qa_1", length=2048, data="fixture")
    assert plain(tiny_tokenizer, sample).endswith(
        "Only give me the answer and do not output any other words.\n\n"
        f"Question: {sample.metadata['question']} Answer:"
    )


def test_noise_sentence_is_rulers():
    assert NOISE_SENTENCES == NOISE
