"""Passkey (Landmark Attention / LM-Infinite format): the original's wording and layout, its scoring
rule, exact lengths on a depth grid up to 1M tokens, determinism, and the suite end to end."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lc_bench.registry import TASKS
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.passkey import GARBAGE, passkey_scores

ORIGINAL_DESCRIPTION = (
    "There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. "
    "I will quiz you about the important information there."
)


def build(tokenizer, length=4096, depths=(), samples=1, seed=0, **params):
    task = make_task(TASKS.get("passkey"), params)
    return task.build(BuildContext(tokenizer, (length,), depths, samples, seed))


def exact(tokenizer, sample) -> int:
    text = tokenizer.render(sample.messages, sample.use_chat_template, sample.answer_prefix)
    return len(tokenizer.encode_rendered(text, sample.use_chat_template)[0])


# ---- scoring: run_test.py's rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "scores"),
    [
        (" 12345.", (1, 1)),
        ("12345 is the pass key", (1, 1)),
        (" 012345", (1, 1)),  # the original compares integers
        ("The key 2 is 12345", (0, 1)),  # the first integer decides
        ("1234", (0, 0)),
        ("123456", (0, 1)),
        ("no idea", (0, 0)),
        ("", (0, 0)),
    ],
)
def test_scoring_is_the_first_integer_as_in_run_test(output, scores):
    assert passkey_scores(output, "12345") == {"exact": 100.0 * scores[0], "contains": 100.0 * scores[1]}


# ---- the prompt ----------------------------------------------------------------------------------------


def test_the_raw_prompt_is_the_originals_layout(tiny_tokenizer):
    (sample,) = build(tiny_tokenizer, depths=(50.0,), chat=False)
    key = sample.references[0]
    lines = sample.messages[0].content.split("\n")
    before, after = (
        sample.metadata["repeats_before"],
        sample.metadata["filler_repeats"] - sample.metadata["repeats_before"],
    )
    assert lines == [
        ORIGINAL_DESCRIPTION,
        " ".join([GARBAGE] * before),
        f"The pass key is {key}. Remember it. {key} is the pass key.",
        " ".join([GARBAGE] * after),
        "What is the pass key? The pass key is",
    ]
    assert GARBAGE == "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
    assert not sample.use_chat_template and sample.answer_prefix == "" and len(key) == 5
    assert sample.max_new_tokens == 10  # run_test.py's max_new_tokens


def test_the_chat_prompt_asks_the_question_and_starts_the_reply(tiny_tokenizer):
    (sample,) = build(tiny_tokenizer, depths=(50.0,))
    assert sample.messages[0].content.endswith("\nWhat is the pass key?")
    assert sample.use_chat_template and sample.answer_prefix == "The pass key is"


def test_the_key_sits_at_the_grid_depth(tiny_tokenizer):
    samples = build(tiny_tokenizer, depths=(0.0, 25.0, 50.0, 100.0))
    for sample in samples:
        units, before = sample.metadata["filler_repeats"], sample.metadata["repeats_before"]
        assert before == min(max(round(units * sample.depth / 100), 1 if 0 < sample.depth < 100 else 0), units)
        position = sample.messages[0].content.index("The pass key is")
        share = position / len(sample.messages[0].content)
        assert abs(share - sample.depth / 100) < 0.05
    assert [s.sample_id for s in samples] == [f"passkey/4k/d{d}/0" for d in (0, 25, 50, 100)]


def test_random_depths_are_drawn_per_sample(tiny_tokenizer):
    samples = build(tiny_tokenizer, samples=3)
    depths = [s.depth for s in samples]
    assert len(set(depths)) == 3 and all(0 <= d <= 100 for d in depths)
    assert [s.sample_id for s in samples] == [f"passkey/4k/drand/{i}" for i in range(3)]


# ---- exact lengths, determinism ---------------------------------------------------------------------


@pytest.mark.parametrize("chat", [True, False])
@pytest.mark.parametrize("length", [1024, 2048, 8192])
def test_lengths_are_exact_within_a_repeat(tiny_tokenizer, chat, length):
    for sample in build(tiny_tokenizer, length=length, depths=(0.0, 37.0, 100.0), chat=chat):
        budget = length - sample.max_new_tokens
        assert exact(tiny_tokenizer, sample) == sample.input_tokens <= budget
        assert budget - sample.input_tokens < 40  # a filler repeat is ~35 tiny-tokenizer tokens
        assert sample.metadata["linear_fit"]


def test_a_tokenizer_that_breaks_linearity_falls_back_to_a_full_fit(tiny_tokenizer, monkeypatch):
    original = tiny_tokenizer.encode_rendered

    def uneven(text, use_chat_template=True):  # one more token for an odd number of repeats
        ids, offsets = original(text, use_chat_template)
        return (ids + [0], offsets + [len(text)]) if text.count("grass") % 2 else (ids, offsets)

    monkeypatch.setattr(tiny_tokenizer, "encode_rendered", uneven)
    for sample in build(tiny_tokenizer, length=4096, depths=(0.0, 50.0), samples=2):
        text = tiny_tokenizer.render(sample.messages, sample.use_chat_template, sample.answer_prefix)
        assert len(uneven(text)[0]) == sample.input_tokens <= 4096 - sample.max_new_tokens
        assert not sample.metadata["linear_fit"]


def test_samples_are_deterministic_per_seed_and_index(tiny_tokenizer):
    first = build(tiny_tokenizer, depths=(50.0,), samples=2, seed=1)
    assert first == build(tiny_tokenizer, depths=(50.0,), samples=2, seed=1)
    other = build(tiny_tokenizer, depths=(50.0,), samples=2, seed=2)
    assert first[0].references != other[0].references or first[0].messages != other[0].messages
    task = make_task(TASKS.get("passkey"), {})
    (alone,) = task.build(BuildContext(tiny_tokenizer, (4096,), (50.0,), 2, 1, indices=(1,)))
    assert alone == first[1]


@pytest.mark.integration
def test_a_million_tokens_exactly_with_the_tiny_tokenizer(tiny_tokenizer):
    (sample,) = build(tiny_tokenizer, length=1 << 20, depths=(50.0,))
    budget = (1 << 20) - sample.max_new_tokens
    assert exact(tiny_tokenizer, sample) == sample.input_tokens <= budget and budget - sample.input_tokens < 40


@pytest.mark.integration
@pytest.mark.parametrize("length", [4096, 32768, 131072])
def test_exact_lengths_with_smollm2(smollm2_tokenizer, length):
    for sample in build(smollm2_tokenizer, length=length, depths=(0.0, 50.0, 100.0)):
        budget = length - sample.max_new_tokens
        assert exact(smollm2_tokenizer, sample) == sample.input_tokens <= budget
        assert budget - sample.input_tokens < 30 and sample.metadata["linear_fit"]


# ---- end to end ----------------------------------------------------------------------------------------


def test_the_suite_runs_end_to_end_with_the_echo_runner(tiny_model_dir, tmp_path):
    from lc_bench.cli import app

    out = tmp_path / "results"
    args = [
        "run",
        "--suite",
        "passkey",
        "--model",
        str(tiny_model_dir),
        "--lengths",
        "1k,2k",
        "--samples",
        "1",
        "--runner",
        "echo",
        "--out",
        str(out),
        "--name",
        "pk",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "pk" / "records.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 11 and {row["task"] for row in rows} == {"passkey"}
    for row in rows:
        assert set(row["scores"]) == {"exact", "contains"}
        assert row["scores"]["contains"] == 100.0  # the echoed prompt holds the key: scores are x100
        assert row["input_tokens"] + row["max_new_tokens"] <= row["target_length"]
    assert sorted({row["depth"] for row in rows}) == [float(d) for d in range(0, 101, 10)]
