"""LongBench v2 (zero-shot): the published prompt, extraction on adversarial replies, compensated mode."""

from __future__ import annotations

import pytest

from lc_bench.registry import TASKS
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.longbench_v2 import extract_answer, fill_prompt, load_questions


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("The correct answer is (B)", "B"),
        ("**The correct answer is (C)**", "C"),  # markdown bold is stripped first
        ("The correct answer is D.", "D"),
        ("I think (A) or (B). The correct answer is (A)", "A"),
        ("the correct answer is (A)", None),  # case-sensitive, as published
        ("Answer: B", None),
        ("The correct answer is (E)", None),
        ("The correct answer is (insert answer here)", None),
    ],
)
def test_extraction_as_published(reply, letter):
    assert extract_answer(reply) == letter


def test_prompt_and_scores(tiny_tokenizer):
    rows, source = load_questions("fixture")
    assert source == "fixture" and len(rows) == 4
    prompt = fill_prompt(rows[0])
    assert prompt.startswith("Please read the following text and answer the question below.\n\n<text>\n")
    assert "(B) 1978\n" in prompt and prompt.endswith('"The correct answer is (insert answer here)".')
    task = make_task(TASKS.get("longbench_v2"), {"data": "fixture"})
    samples = task.build(BuildContext(tiny_tokenizer, (1024, 4096), (), 10, 0))
    assert {s.metadata["length_bucket"] for s in samples} == {"short", "medium", "long"}
    assert all(s.input_tokens + s.max_new_tokens <= s.target_length for s in samples)
    assert any(s.truncated for s in samples if s.target_length == 1024)
    assert task.score("The correct answer is (B)", ("B",), {}) == {"accuracy": 100.0, "answered": 100.0}
    assert task.score("no idea", ("B",), {}) == {"accuracy": 0.0, "answered": 0.0}
    compensated = make_task(TASKS.get("longbench_v2"), {"data": "fixture", "compensated": True})
    assert compensated.score("no idea", ("B",), {})["accuracy"] == 25.0


def test_suite_and_buckets_end_to_end(tiny_model_dir, tmp_path):
    from tests.e2e.test_cli import lc_bench, records

    result = lc_bench("run", "--suite", "longbench-v2", "--runner", "constant", "--runner-opt",
                      "text=The correct answer is (B)", "--model", str(tiny_model_dir), "--lengths", "2k",
                      "--out", str(tmp_path), "--name", "v2")
    rows = records(tmp_path / "v2")
    assert len(rows) == 4 and sum(r["scores"]["accuracy"] for r in rows) == 200.0  # two answers are B
    assert "## Score by length bucket" in result.stdout
    assert "| model | task | length | short | medium | long |" in result.stdout
