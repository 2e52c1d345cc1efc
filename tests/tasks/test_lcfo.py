"""LCFO-style summarisation and expansion: requested lengths from the document, exact fitting of the
corpus document, length score and ROUGE-L by hand, data files and one-line errors, the output-length
axis, and the suite end to end (echo and constant runners)."""

from __future__ import annotations

import json

import pytest

from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.scoring.longgen import count_words
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.lcfo import lcfo_scores
from tests.e2e.test_cli import lc_bench, records


def build(tiny_tokenizer, task, params=None, lengths=(2048,), samples=1, seed=0):
    return make_task(TASKS.get(task), params or {}).build(BuildContext(tiny_tokenizer, lengths, (), samples, seed))


def test_length_score_and_rouge_by_hand():
    assert lcfo_scores("word " * 100, 100.0, None)["length_score"] == 100.0
    assert lcfo_scores("word " * 150, 100.0, None)["length_score"] == pytest.approx(100 * (1 - 0.5 / 3))
    assert lcfo_scores("word " * 50, 100.0, None)["length_score"] == 50.0  # 1 - (100/50 - 1) / 2
    assert lcfo_scores("word " * 30, 100.0, None)["length_score"] == 0.0  # under a third
    assert "rouge_l" not in lcfo_scores("a b", 2.0, None)
    # rouge-score's F: LCS "the cat sat" (3) over 4 and 3 words: P 3/4, R 1, F 6/7; bigrams 2 of 3 and 2
    scores = lcfo_scores("the cat sat down", 4.0, "the cat sat")
    assert scores["rouge_l"] == pytest.approx(100 * 6 / 7)
    assert scores["rouge_1"] == pytest.approx(100 * 6 / 7) and scores["rouge_2"] == pytest.approx(80.0)
    assert scores["words"] == 4.0
    # an expanded document is compared with ROUGE-1/2 only (ROUGE-L is quadratic)
    expanded = lcfo_scores("the cat sat down", 4.0, "the cat sat", long_reference=True)
    assert "rouge_l" not in expanded and expanded["rouge_2"] == pytest.approx(80.0)


def test_summaries_ask_for_a_share_of_the_documents_words_and_fill_the_length(tiny_tokenizer):
    samples = build(tiny_tokenizer, "lcfo_summarize", lengths=(2048, 4096))
    assert [s.sample_id for s in samples] == [f"lcfo_summarize/{k}/{p}/0" for k in ("2k", "4k") for p in (20, 10, 5)]
    for sample in samples:
        ratio = sample.metadata["ratio"]
        words = sample.metadata["document_words"]
        assert sample.metadata["requested_length"] == max(1, round(ratio * words))
        assert (
            f"in about {round(ratio * words)} words, that is {ratio * 100:g}% of its length of {words} words"
            in sample.messages[0].content
        )
        # prompt + output budget fill the length within a word of the corpus
        assert sample.input_tokens == tiny_tokenizer.count(sample.messages)
        assert 0 <= sample.target_length - sample.input_tokens - sample.max_new_tokens <= 12
        assert sample.max_new_tokens == max(16, -(-2 * ratio * sample.target_length // 1))
        assert sample.references == ()
    assert [s.metadata["ratio_label"] for s in samples[:3]] == ["20%", "10%", "5%"]


def test_documents_are_deterministic_per_seed(tiny_tokenizer):
    first = build(tiny_tokenizer, "lcfo_summarize", {"ratios": [0.1]}, samples=2)
    again = build(tiny_tokenizer, "lcfo_summarize", {"ratios": [0.1]}, samples=2)
    other = build(tiny_tokenizer, "lcfo_summarize", {"ratios": [0.1]}, samples=2, seed=1)
    assert [s.messages for s in first] == [s.messages for s in again]
    assert first[0].messages != first[1].messages and first[0].messages != other[0].messages


def test_expansion_asks_for_the_inverse_share(tiny_tokenizer):
    samples = build(tiny_tokenizer, "lcfo_expand", lengths=(4096,))
    assert [s.sample_id for s in samples] == [f"lcfo_expand/4k/{p}/0" for p in (20, 10, 5)]
    for sample in samples:
        ratio, words = sample.metadata["ratio"], sample.metadata["input_words"]
        assert sample.metadata["requested_length"] == max(1, round(words / ratio))
        assert f"({1 / ratio:g} times its length)" in sample.messages[0].content
        assert sample.max_new_tokens == 4096 - sample.input_tokens  # the whole window left


def test_longbench_fixtures_give_references_for_rouge(tiny_tokenizer):
    summaries = build(tiny_tokenizer, "lcfo_summarize", {"data": "longbench", "ratios": [0.2]}, samples=3)
    assert all(len(s.references) == 1 for s in summaries)
    assert summaries[0].metadata["data_source"].startswith("longbench fixtures")
    task = make_task(TASKS.get("lcfo_summarize"), {"data": "longbench"})
    scores = task.score(summaries[0].references[0], summaries[0].references, summaries[0].metadata)
    assert scores["rouge_l"] == pytest.approx(100.0)
    expansions = build(tiny_tokenizer, "lcfo_expand", {"data": "longbench", "ratios": [0.1]}, lengths=(4096,))
    reference_summary = expansions[0].messages[0].content.split("Summary:\n", 1)[1].split("\n\nNow write", 1)[0]
    assert expansions[0].metadata["requested_length"] == round(count_words(reference_summary) / 0.1)
    assert len(expansions[0].references[0].split()) > 500  # the document is the expansion's reference
    expanded = make_task(TASKS.get("lcfo_expand"), {"data": "longbench"}).score(
        expansions[0].references[0], expansions[0].references, expansions[0].metadata
    )
    assert expanded["rouge_2"] == pytest.approx(100.0) and "rouge_l" not in expanded


def test_user_files_in_either_layout(tiny_tokenizer, tmp_path):
    text = tmp_path / "doc.txt"
    text.write_text("The river rose in spring. " * 40)
    [sample] = build(tiny_tokenizer, "lcfo_summarize", {"data": str(text), "ratios": [0.05]})
    assert sample.metadata["document_words"] == 200 and sample.metadata["requested_length"] == 10.0
    assert not sample.metadata["document_cut"]
    rows = tmp_path / "docs.jsonl"
    rows.write_text(
        json.dumps({"document": "Boats. " * 50, "summary": "Many boats."})
        + "\n"
        + json.dumps({"context": "Trains. " * 30, "answers": ["Trains run."]})
        + "\n"
    )
    samples = build(tiny_tokenizer, "lcfo_summarize", {"data": str(rows), "ratios": [0.2]}, samples=2)
    assert [s.references for s in samples] == [("Many boats.",), ("Trains run.",)]
    [expand] = build(tiny_tokenizer, "lcfo_expand", {"data": str(rows), "ratios": [0.5]})
    assert expand.metadata["requested_length"] == 4.0 and expand.references == ("Boats. " * 50,)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json\n", "docs.jsonl:1 is not valid JSON"),
        ('{"text": "no document"}\n', 'docs.jsonl:1 needs a text "document"'),
        ('{"document": 3}\n', 'docs.jsonl:1 needs a text "document"'),
        ("\n", "holds no documents"),
    ],
)
def test_malformed_files_are_one_line(tiny_tokenizer, tmp_path, content, problem):
    path = tmp_path / "docs.jsonl"
    path.write_text(content)
    with pytest.raises(UsageError) as error:
        build(tiny_tokenizer, "lcfo_summarize", {"data": str(path)})
    assert problem in str(error.value) and "\n" not in str(error.value)


def test_bad_options_are_refused(tiny_tokenizer, tmp_path):
    with pytest.raises(UsageError, match="not found"):
        build(tiny_tokenizer, "lcfo_summarize", {"data": str(tmp_path / "missing.jsonl")})
    with pytest.raises(UsageError, match="ratios must be shares between 0 and 1"):
        make_task(TASKS.get("lcfo_expand"), {"ratios": [20]})
    rows = tmp_path / "docs.jsonl"
    rows.write_text(json.dumps({"document": "Boats. " * 50}) + "\n")
    with pytest.raises(UsageError, match="no summaries to expand"):
        build(tiny_tokenizer, "lcfo_expand", {"data": str(rows)})


def test_a_malformed_data_file_is_a_one_line_cli_error(tiny_model_dir, tmp_path):
    bad = tmp_path / "docs.jsonl"
    bad.write_text('{"text": 1}\n')
    result = lc_bench(
        "run",
        "--tasks",
        "lcfo_summarize",
        "--task-opt",
        f"lcfo_summarize.data={bad}",
        "--runner",
        "echo",
        "--model",
        str(tiny_model_dir),
        "--lengths",
        "2k",
        "--samples",
        "1",
        "--out",
        str(tmp_path),
        check_rc=2,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and 'needs a text "document"' in lines[0]


def test_the_optional_judge_sees_the_whole_request(tiny_tokenizer):
    [sample] = build(tiny_tokenizer, "lcfo_summarize", {"ratios": [0.1]})
    plan = TASKS.get("lcfo_summarize").judge_plan
    record = {"key": "k", "metadata": sample.metadata, "completion": {"text": "A short summary."}}
    [prompt] = plan.prompts(record)
    assert sample.messages[0].content in prompt and "<Response>\n\nA short summary.\n\n</Response>" in prompt
    reply = json.dumps(
        {
            "Analysis": "ok",
            **dict.fromkeys(
                ("Relevance", "Accuracy", "Coherence", "Clarity", "Breadth and Depth", "Reading Experience"), 4
            ),
        }
    )
    assert plan.scores(record, [reply])[0]["quality"] == 75.0


def test_the_report_declares_the_requested_length_and_ratio_axes():
    report = TASKS.get("lcfo_summarize").report
    assert report.output_length is not None and report.output_length.unit == "words"
    assert {c.source for c in report.output_length.columns} >= {"words", "cut", "repeated_4gram", "rouge_2", "rouge_l"}
    assert report.labels[0].field == "ratio_label" and report.labels[0].order == ("20%", "10%", "5%")


@pytest.mark.parametrize("runner", ["echo", "constant"])
def test_the_suite_runs_end_to_end(runner, tiny_model_dir, tmp_path):
    lc_bench(
        "run",
        "--suite",
        "lcfo",
        "--runner",
        runner,
        "--model",
        str(tiny_model_dir),
        "--lengths",
        "2k",
        "--samples",
        "1",
        "--out",
        str(tmp_path),
        "--name",
        "l",
    )
    rows = {row["sample_id"]: row for row in records(tmp_path / "l")}
    assert sorted(rows) == sorted(f"{t}/2k/{p}/0" for t in ("lcfo_summarize", "lcfo_expand") for p in (20, 10, 5))
    for row in rows.values():
        assert row["primary_metric"] == "length_score" and row["score"] is not None
        assert row["input_tokens"] + row["max_new_tokens"] <= 2048
        assert row["metadata"]["requested_label"]
    if runner == "constant":  # "I do not know." is 4 words against a request of dozens
        assert all(row["scores"]["words"] == 4.0 for row in rows.values())


@pytest.mark.integration
def test_documents_fill_the_length_exactly_with_the_real_tokenizer(smollm2_tokenizer):
    samples = build(smollm2_tokenizer, "lcfo_summarize", lengths=(8192,))
    for sample in samples:
        assert sample.input_tokens == smollm2_tokenizer.count(sample.messages)
        # within one corpus word (plus its whitespace) of the length
        assert 0 <= 8192 - sample.input_tokens - sample.max_new_tokens <= 4
        assert sample.metadata["document_words"] > 1000
