"""M4LE subset: the original's wording (English and Chinese), its metrics (expected values from evaluation.py's
evaluate_by_dict and preprocess functions run on these inputs), exact fitting, the loaders' one-line errors,
and the suite end to end."""

from __future__ import annotations

import json

import pytest

import lc_bench
from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.scoring.m4le import accuracy, cls_f1, exact_match
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.m4le_data import load_source, prompts

NAMES = [
    f"m4le_{source}_{task}"
    for source in ("mnds_news", "thucnews")
    for task in ("explicit_single", "explicit_multiple", "semantic_multiple")
] + ["m4le_hotpotqa", "m4le_nq_open"]


def _build(tokenizer, name, lengths=(2048,), samples=1, seed=0):
    task = make_task(TASKS.get(name), {"data": "fixture"})
    context = BuildContext(tokenizer=tokenizer, lengths=lengths, depths=(), samples_per_cell=samples, seed=seed)
    return task, task.build(context), context


@pytest.mark.parametrize(
    ("reply", "answer", "expected"),
    [
        ("A1B2C3, D4E5F6.", "A1B2C3, D4E5F6", 100.0),
        ("D4E5F6,A1B2C3", "A1B2C3, D4E5F6", 100.0),
        ("A1B2C3", "A1B2C3, D4E5F6", 200 / 3),
        ("A1B2C3, 999999, D4E5F6. And more", "A1B2C3, D4E5F6", 80.0),
        ("none", "A1B2C3", 0.0),
        ("", "A1B2C3", 0.0),
    ],
)
def test_cls_f1_matches_evaluation_py(reply, answer, expected):
    assert cls_f1(reply, answer) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("6823A5，439817。", 80.0),
        ("439817", 50.0),
        ("6823A5，439817，ABCDEF，123456。其他", 100 * 0.5714285714285715),
        ("6823A5, 439817", 0.0),
        ("", 0.0),
    ],
)
def test_chinese_cls_f1_matches_evaluation_py(reply, expected):
    assert cls_f1(reply, "6823A5，439817，6C6640", "。", "，") == pytest.approx(expected)


def test_exact_match_and_acc_match_evaluation_py():
    count = [("2.", 100.0), (" 2", 100.0), ("2 articles.", 0.0), ("Two.", 0.0), ("", 0.0)]
    for reply, expected in count:
        assert exact_match(reply, ["2."], end_tokens=(".",), stop=".") == expected
    zh = [("2。", 100.0), ("2", 100.0), ("两篇。", 0.0), ("2篇。", 0.0), ("3。\n", 0.0)]
    for reply, expected in zh:
        assert exact_match(reply, ["2。"], end_tokens=("。",), stop="。") == expected
    single = [("体育", 100.0, 0.0), ("体育。", 0.0, 0.0), (" 体育 ", 100.0, 0.0), ("Sport", 0.0, 100.0)]
    for reply, chinese, english in single:
        assert (exact_match(reply, ["体育"]), exact_match(reply, ["sport"])) == (chinese, english)
    qa = [
        ("1971.", 100.0, 0.0),
        ("It was 1971", 100.0, 0.0),
        ("In 1971\nmore", 100.0, 0.0),
        ("The answer: 1,971", 0.0, 0.0),
        ("no. 1971", 0.0, 0.0),
        ("Stone Linden, I think", 0.0, 100.0),
    ]
    for reply, year, name in qa:
        assert (accuracy(reply, ["1971"]), accuracy(reply, ["Stone Linden"])) == (year, name)


@pytest.mark.parametrize("name", NAMES)
def test_fills_each_length_within_one_instance(tiny_tokenizer, name):
    task, samples, _ = _build(tiny_tokenizer, name, lengths=(2048, 4096), samples=2)
    assert [s.sample_id for s in samples] == [f"{name}/2k/0", f"{name}/2k/1", f"{name}/4k/0", f"{name}/4k/1"]
    for sample in samples:
        rendered = tiny_tokenizer.render(sample.messages, False)
        assert len(tiny_tokenizer.encode_rendered(rendered, False)[0]) == sample.input_tokens
        assert 0 <= sample.target_length - 128 - sample.input_tokens < 400  # less than one more instance
        assert sample.metadata["ability"] == task.ability and sample.metadata["language"] == task.language
        assert sample.references[0]
        assert task.score(sample.references[0], sample.references, sample.metadata)[task.primary_metric] == 100.0
        assert task.score("nothing", sample.references, sample.metadata)[task.primary_metric] == 0.0
    assert samples[2].metadata["n_para"] > samples[0].metadata["n_para"]
    assert _build(tiny_tokenizer, name, lengths=(2048, 4096), samples=2)[1] == samples
    assert _build(tiny_tokenizer, name, seed=1)[1][0] != samples[0]


def test_prompts_use_the_original_wording(tiny_tokenizer):
    p = prompts()
    _, (single,), _ = _build(tiny_tokenizer, "m4le_mnds_news_explicit_single")
    text = single.messages[0].content
    assert text.startswith(p["mnds_explicit_single_instruction"] + "\nArticle ")
    assert "\nQuestion: What is the category of article " in text
    assert text.endswith("?\nAnswer:") and "Answer: arts, culture, entertainment and media\n\nArticle " in text
    _, (retrieval,), _ = _build(tiny_tokenizer, "m4le_mnds_news_explicit_multiple")
    text = retrieval.messages[0].content
    assert text.startswith(p["mnds_explicit_multiple_instruction"] + "\nThe article id is ")
    assert "'arts, culture, entertainment and media.'.\nAnswer: " in text and text.endswith("'.\nAnswer:")
    assert all(f"The article id {i}. " in text for i in retrieval.references[0].split(", "))
    _, (count,), _ = _build(tiny_tokenizer, "m4le_mnds_news_semantic_multiple")
    text = count.messages[0].content
    assert text.startswith(p["mnds_semantic_multiple_instruction"] + "\nArticle: Rarely do the worlds")
    assert "media.'.\nAnswer: 2.\n\nArticle: " in text and count.references == ("1.",)
    _, (zh,), _ = _build(tiny_tokenizer, "m4le_thucnews_explicit_multiple")
    text = zh.messages[0].content
    assert text.startswith(p["thucnews_explicit_multiple_instruction"] + "\n" + p["thucnews_explicit_multiple_example"])
    assert "\n问题：请返回所有" in text and text.endswith("新闻的编号。\n回答：")
    assert all(f"新闻 {i}：" in text for i in zh.references[0].split("，"))
    _, (qa,), _ = _build(tiny_tokenizer, "m4le_hotpotqa")
    text = qa.messages[0].content
    assert text.startswith(
        "Answer the question based on the given paragraphs. Note that some paragraphs might be "
        "irrelevant.\nParagraph 1: Pratia is a genus"
    )
    assert "\nAnswer: no.\n\nParagraph 1: " in text and text.endswith("?\nAnswer:")
    _, (nq,), _ = _build(tiny_tokenizer, "m4le_nq_open")
    text = nq.messages[0].content
    n = nq.metadata["n_para"]
    assert text.startswith(
        "Write a high-quality answer for the given question using only the provided search results "
        "(some of which might be irrelevant).\nDocument [1](Title: "
    )
    assert f"\nDocument [{n + 1}](Title: LLaMA) LLaMA (Large Language Model Meta AI)" in text
    assert text.endswith("February 2023.\nQuestion: when was the stone bridge in Tampere finished\nAnswer:")
    assert f"Document [{nq.metadata['gold_index'] + 1}](Title: Stone bridge (Tampere)) " in text


def test_too_short_lengths_are_skipped_not_built(tiny_tokenizer):
    _, samples, context = _build(tiny_tokenizer, "m4le_thucnews_explicit_multiple", lengths=(1024,))
    assert samples == [] and context.skipped == {("m4le_thucnews_explicit_multiple", 1024): 1}


def test_malformed_data_is_one_line_error(tmp_path):
    bad = tmp_path / "MN-DS-news-classification.csv"
    bad.write_text("title,text\nx,y\n")
    with pytest.raises(UsageError) as caught:
        load_source("mnds", str(tmp_path))
    assert "lacks the columns content and category_level_1" in str(caught.value) and "\n" not in str(caught.value)
    bad.write_text("content,category_level_1\nsome text,\n")
    with pytest.raises(UsageError, match=r"csv:2 has an empty"):
        load_source("mnds", str(bad))
    with pytest.raises(UsageError, match="not found"):
        load_source("mnds", str(tmp_path / "missing.csv"))
    hotpot = tmp_path / "hotpot_dev_distractor_v1.json"
    hotpot.write_text('[{"question": "q", "answer": "a", "context": [["t", "not a list"]]}]')
    with pytest.raises(UsageError, match=r"record 1 is not \{question, answer, context"):
        load_source("hotpotqa", str(tmp_path))
    (tmp_path / "nq.jsonl").write_text('{"question": "q", "answers": ["a"], "ctxs": []}\n')
    with pytest.raises(UsageError, match=r"nq.jsonl:1 is not \{question, answers, ctxs"):
        load_source("nq", str(tmp_path / "nq.jsonl"))
    (tmp_path / "bad.jsonl.gz").write_bytes(b"not gzip")
    with pytest.raises(UsageError, match="not a readable gzip file"):
        load_source("nq", str(tmp_path / "bad.jsonl.gz"))
    (tmp_path / "THUCNews").mkdir()
    with pytest.raises(UsageError, match="no THUCNews articles"):
        load_source("thucnews", str(tmp_path))


@pytest.mark.integration
@pytest.mark.parametrize("name", NAMES)
def test_exact_fit_with_smollm2(smollm2_tokenizer, name):
    _, samples, _ = _build(smollm2_tokenizer, name, lengths=(4096, 8192))
    for sample in samples:
        rendered = smollm2_tokenizer.render(sample.messages, False)
        assert len(smollm2_tokenizer.encode_rendered(rendered, False)[0]) == sample.input_tokens
        assert 0 <= sample.target_length - 128 - sample.input_tokens < 300


def test_suite_runs_end_to_end_with_echo(tiny_model_dir, tmp_path):
    result = lc_bench.evaluate(
        suite="m4le-filled",
        runner="echo",
        model=str(tiny_model_dir),
        samples=1,
        lengths="2k,4k",
        out=tmp_path,
        name="m4le",
        write_outputs=False,
        allow_fixtures=True,
    )
    rows = [json.loads(line) for line in (result.run_dir / "records.jsonl").open()]
    assert sorted((r["task"], r["target_length"]) for r in rows) == sorted(
        (name, length) for name in NAMES for length in (2048, 4096)
    )
    assert all(r["input_tokens"] + r["max_new_tokens"] <= r["target_length"] and r["family"] == "m4le" for r in rows)
