"""LongBench v2 (zero-shot): the published prompt, extraction on adversarial replies, compensated mode."""

from __future__ import annotations

import pytest

from lc_bench.registry import TASKS
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.longbench_v2 import PROMPT_COT, PROMPT_COT_ANSWER, extract_answer, fill_prompt, load_questions


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


def test_cot_prompts_are_the_published_ones():
    rows, _ = load_questions("fixture")
    first = fill_prompt(rows[0], template=PROMPT_COT)
    assert first.startswith("Please read the following text and answer the questions below.\n\n<text>\n")
    assert first.endswith("(D) " + rows[0]["choice_D"].strip() + "\n\nLet’s think step by step:")
    answer = fill_prompt(rows[0], template=PROMPT_COT_ANSWER, cot="It says $Q$ twice.")
    assert "<text>" not in answer and "The text is too long and omitted here.\n\n" in answer
    assert rows[0]["context"].strip()[:40] not in answer
    assert "Let’s think step by step: It says $Q$ twice.\n\nBased on the above, what is the single" in answer
    assert answer.endswith('Format your response as follows: "The correct answer is (insert answer here)".')


def test_cot_runs_two_calls_scores_the_second_and_resumes_between_them(tiny_model_dir, tmp_path):
    import json

    from tests.e2e.test_cli import lc_bench, records

    def run(reasoning: str) -> None:
        script = tmp_path / "script.json"
        script.write_text(json.dumps([
            {"contains": "step by step: Because", "reply": "The correct answer is (B)"},
            {"contains": "Let’s think step by step:", "reply": reasoning},
        ]))
        lc_bench("run", "--tasks", "longbench_v2", "--task-opt", "longbench_v2.mode=cot", "--task-opt",
                 "longbench_v2.data=fixture", "--runner", "constant", "--runner-opt", f"script={script}",
                 "--model", str(tiny_model_dir), "--lengths", "2k", "--samples", "10", "--out", str(tmp_path),
                 "--name", "cot")

    run("Because the text says so.")
    rows = records(tmp_path / "cot")
    assert len(rows) == 4 and sum(r["scores"]["accuracy"] for r in rows) == 200.0
    assert all(r["max_new_tokens"] == 1024 for r in rows)
    assert all(r["completion"]["text"] == "The correct answer is (B)" for r in rows)
    assert all([s["text"] for s in r["stages"]] == ["Because the text says so."] for r in rows)
    assert all(r["key"] == r["completion"]["key"] for r in rows)
    # a run killed after the first calls keeps them: the rerun only makes the answer calls
    (tmp_path / "cot" / "records.jsonl").unlink()
    run("Because a different reasoning.")
    rows = records(tmp_path / "cot")
    assert len(rows) == 4 and all(r["stages"][0]["text"] == "Because the text says so." for r in rows)
