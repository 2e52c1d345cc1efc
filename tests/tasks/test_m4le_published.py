"""M4LE's published instances: evaluation.py's scores, the loader's checks, a suite run end to end."""

from __future__ import annotations

import json

import pytest

import lc_bench
from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.scoring.m4le_published import EVALUATIONS, chinese_rouge_l_recall, score, sentence_bleu, tokenize_zh
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.m4le_published import TASK_TABLE, task_name

# (hub task, reply, answers, the score M4LE's evaluation.py gives the row: its evaluate_by_dict run on
# this one row, x100; the rouge / rouge_chinese / jieba versions it pins)
ORIGINAL = [
    ("arxiv", "the cat sat on the mat\nsecond line", ["the cat was on the mat today"], 66.666667),
    ("arxiv", "", ["a summary"], 0.0),
    ("pubmed", "Patients improved. Outcomes were good.", ["Outcomes were good for patients.", ""], 60.0),
    ("booksum", "He left the town and never came back", ["He left town.", "He never came back to the town"], 100.0),
    ("bigpatent_global_sum", "A device for cutting paper with a blade", ["A paper cutting device having a rotary blade"], 50.0),  # noqa: E501
    ("cnewsum", "今天北京天气晴朗，气温升高。新闻结束", ["北京今天天气晴朗"], 66.666667),
    ("clts+", "新闻：股市大涨", ["股市今日大涨"], 0.0),
    ("lcsts", "政府发布新的环保政策\n多余", ["政府出台环保新政策"], 60.0),
    ("ncls", "", ["某个摘要"], 0.0),
    ("news2016", "标题是\"今天天气很好\"吗", ["今天天气很好"], 100.0),
    ("news2016", "今天 天气", ["今天天气很好"], 0.0),
    ("triviaqa", "The answer is Paris. Because", ["paris", "Paris, France"], 100.0),
    ("nq-open", "It was in 1999\nmore", ["1998"], 0.0),
    ("c3", "答案是B。因为", ["B"], 100.0),
    ("drcd_explicit-single", "文章12，因为", ["12"], 100.0),
    ("wow", "Article 5, I think", ["5"], 100.0),
    ("bigpatent_global_cls", "Human Necessities: because", ["human necessities"], 100.0),
    ("tedtalks-zh2en", "the cat sat on the mat .", ["the cat sat on the mat."], 100.0),
    ("tedtalks-zh2en", "Hello, world! It's 3.5 km-long & wide.", ["Hello world, it is 3.5 km long and wide."], 0.0),
    ("news-commentary-en2zh", "今天天气很好，我们去公园。", ["今天的天气很好，我们去公园吧。"], 69.197274),
    ("open-subtitles-en2zh", "你好—世界→再见", ["你好—世界→再见啊"], 88.24969),
    ("marc", "1, 3, 2. blah", ["1,2,3. x"], 100.0),
    ("marc", "4,2", ["2, 4"], 100.0),
    ("online-shopping", "1，2。多余", ["2，1"], 100.0),
    ("wikitext-103", "Paragraph 3. Since", ["Paragraph 3"], 100.0),
    ("wiki2019zh", "段落3。因为", ["段落3"], 100.0),
    ("mnds-news_explicit-single", " Sports ", ["sports"], 100.0),
    ("mnds-news_explicit-multiple", "A1B2C3, 4D5E6F. more", ["4D5E6F,A1B2C3,0A0A0A"], 80.0),
    ("thucnews_explicit-multiple", "A1B2C3，4D5E6F。", ["A1B2C3，4D5E6F"], 100.0),
    ("mnds-news_semantic-multiple", "3. There are", ["3. there are three"], 100.0),
    ("thucnews_semantic-multiple", "5。", ["5。共五篇"], 100.0),
    ("hotpotqa", "yes. because", ["yes"], 100.0),
]


@pytest.mark.parametrize(("task", "reply", "answers", "expected"), ORIGINAL)
def test_scores_equal_the_original_evaluation(task, reply, answers, expected):
    assert score(task, reply, answers) == pytest.approx(expected, abs=1e-5)


def test_every_hub_task_has_an_evaluation_an_ability_and_a_fixture():
    assert set(EVALUATIONS) == set(TASK_TABLE) and len(TASK_TABLE) == 39
    abilities = {ability for ability, _ in TASK_TABLE.values()}
    assert "global context understanding" in abilities and len(abilities) == 5
    for config in TASK_TABLE:
        assert task_name(config) in TASKS.names()


def test_chinese_rouge_is_the_lcs_of_all_words_over_the_reference():
    # words: a b c d / a c e d -> LCS "a c d" = 3 of the reference's 4 words
    assert chinese_rouge_l_recall("a b c d", "a c e d") == pytest.approx(0.75)
    # one sentence break (after "。") splits "x。y" into two words: still the LCS over all words
    assert chinese_rouge_l_recall("x。y z", "x。 y z") == pytest.approx(1.0)
    with pytest.raises(ValueError):
        chinese_rouge_l_recall("   ", "a")


def test_bleu_by_hand_and_the_zh_tokenizer_quirk():
    # hypothesis "a b c d e" vs reference "a b c d f": p1 4/5, p2 3/4, p3 2/3, p4 1/2, same length
    expected = (4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25
    assert sentence_bleu("a b c d e", ["a b c d f"], "en") == pytest.approx(expected)
    assert sentence_bleu("", ["a b"], "en") == 0.0  # the original divides by zero here
    # U+2192 (an arrow) stands alone: the original's "\u20000" range reaches it
    assert tokenize_zh("ab→cd") == ["ab", "→", "cd"]


def _build(name, params, lengths=(2048,), samples=2, tokenizer=None):
    task = make_task(TASKS.get(name), params)
    return task.build(BuildContext(tokenizer, lengths, (), samples, 0))


def test_a_run_length_picks_its_bucket_and_fits_the_prompt(tiny_tokenizer):
    samples = _build("m4le_pub_arxiv", {"data": "fixture"}, lengths=(1024, 2048), tokenizer=tiny_tokenizer)
    assert [s.metadata["length_bucket"] for s in samples] == ["1000", "1000", "2000", "2000"]
    for sample in samples:
        assert sample.input_tokens + sample.max_new_tokens <= sample.target_length
        assert tiny_tokenizer.count(sample.messages, False) == sample.input_tokens
        assert sample.messages[0].content.startswith("Summarize the article.\n")
    assert not any(s.truncated for s in samples)
    # the 4000-word bucket's fixture prompts are longer than 1k tokens: cut out of the middle, or skipped
    cut = _build("m4le_pub_arxiv", {"data": "fixture", "bucket": 4000}, lengths=(1024,), tokenizer=tiny_tokenizer)
    assert len(cut) == 2 and all(s.truncated for s in cut)
    for sample in cut:
        text = sample.messages[0].content
        assert text.startswith("Summarize the article.\n") and text.endswith("Summary:")  # both ends survive
        assert sample.input_tokens + sample.max_new_tokens == sample.target_length
    none = _build("m4le_pub_arxiv", {"data": "fixture", "bucket": 4000, "truncation": "none"}, lengths=(1024,),
                  tokenizer=tiny_tokenizer)
    assert none == []


def test_a_prompt_that_fits_is_counted_once(tiny_tokenizer, monkeypatch):
    # the build's count (kept as full_prompt_tokens) is the one the fit uses: no second encode
    calls = []
    original = tiny_tokenizer.count

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(tiny_tokenizer, "count", counted)
    samples = _build("m4le_pub_arxiv", {"data": "fixture"}, lengths=(2048,), tokenizer=tiny_tokenizer)
    assert samples and not any(s.truncated for s in samples)
    assert len(calls) == len(samples)


def test_malformed_or_missing_data_is_one_line(tmp_path, tiny_tokenizer):
    bad = tmp_path / "arxiv.jsonl"
    bad.write_text(json.dumps({"instruction": "x", "input": "y", "answers": "z", "length_bucket": 1000}) + "\n")
    with pytest.raises(UsageError, match="'answers'"):
        _build("m4le_pub_arxiv", {"data": str(bad)}, tokenizer=tiny_tokenizer)
    empty = tmp_path / "downloads"
    empty.mkdir()
    with pytest.raises(UsageError, match="no arxiv.jsonl or .parquet under"):
        _build("m4le_pub_arxiv", {"data": str(empty)}, tokenizer=tiny_tokenizer)
    (empty / "summarization").mkdir()
    (empty / "summarization" / "arxiv.jsonl").write_text(bad.read_text().replace('"z"', '["z"]'))
    assert len(_build("m4le_pub_arxiv", {"data": str(empty)}, tokenizer=tiny_tokenizer, lengths=(1024,))) == 1


def test_the_published_suite_runs_end_to_end_with_echo(tiny_model_dir, tmp_path):
    result = lc_bench.evaluate(suite="m4le", runner="echo", model=str(tiny_model_dir), samples=1, lengths="2k",
                               out=tmp_path, name="m4le", write_outputs=False, allow_fixtures=True)
    rows = [json.loads(line) for line in (result.run_dir / "records.jsonl").open()]
    assert sorted(r["task"] for r in rows) == sorted(task_name(c) for c in TASK_TABLE)
    assert {r["metadata"]["ability"] for r in rows} >= {"global context understanding"}
    assert all(0 <= next(iter(r["scores"].values())) <= 100 and r["family"] == "m4le" for r in rows)


@pytest.mark.integration
@pytest.mark.parametrize("config", ["arxiv", "cnewsum", "news-commentary-zh2en", "marc"])
def test_cut_prompts_fill_the_length_exactly_with_smollm2(smollm2_tokenizer, config):
    samples = _build(task_name(config), {"data": "fixture", "bucket": 4000}, lengths=(1024, 2048),
                     tokenizer=smollm2_tokenizer)
    assert samples
    for sample in samples:
        rendered = smollm2_tokenizer.render(sample.messages, False)
        assert len(smollm2_tokenizer.encode_rendered(rendered, False)[0]) == sample.input_tokens
        assert sample.input_tokens + sample.max_new_tokens <= sample.target_length
        if sample.truncated:  # a cut prompt fills the length within a token or two of re-tokenising
            assert sample.target_length - sample.max_new_tokens - sample.input_tokens <= 2


def test_a_parquet_copy_reads_as_the_jsonl(tmp_path, tiny_tokenizer):
    import pandas as pd

    from lc_bench.tasks.m4le_published import fixture_path

    rows = [json.loads(line) for line in fixture_path("marc").read_text(encoding="utf-8").splitlines()]
    (tmp_path / "classification").mkdir()
    pd.DataFrame(rows).to_parquet(tmp_path / "classification" / "marc.parquet")
    from_parquet = _build("m4le_pub_marc", {"data": str(tmp_path)}, lengths=(1024, 2048), tokenizer=tiny_tokenizer)
    from_jsonl = _build("m4le_pub_marc", {"data": "fixture"}, lengths=(1024, 2048), tokenizer=tiny_tokenizer)
    assert [s.messages for s in from_parquet] == [s.messages for s in from_jsonl]
    assert [s.references for s in from_parquet] == [s.references for s in from_jsonl]
