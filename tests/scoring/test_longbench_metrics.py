"""LongBench metrics against hand-computed cases, one group per metric of eval.py."""

import pytest

from lc_bench.scoring.longbench import (
    classification_score,
    code_sim_score,
    count_score,
    dataset_score,
    length_bucket,
    normalize_answer,
    normalize_zh_answer,
    qa_f1_score,
    qa_f1_zh_score,
    retrieval_score,
    retrieval_zh_score,
    rouge_score,
    rouge_zh_score,
    score_sample,
)


def test_normalisation():
    assert normalize_answer("The  Cat, a hat & AN apple!") == "cat hat apple"
    assert normalize_zh_answer("北京， 是 “首都”！ OK.") == "北京是首都ok"


def test_qa_f1_by_hand():
    # "cat sat on mat" vs "cat on mat": 3 shared, P = 3/4, R = 1, F1 = 2 * .75 / 1.75
    assert qa_f1_score("The cat sat on the mat.", "a cat on a mat") == pytest.approx(6 / 7)
    assert qa_f1_score("dog", "cat") == 0.0
    assert qa_f1_score("", "cat") == 0.0


def test_qa_f1_zh_by_hand():
    # jieba: 北京/是/中国/的/首都/。 -> 5 tokens after dropping 。; 中国/的/首都 -> 3 shared; P = 3/5, R = 1
    assert qa_f1_zh_score("北京是中国的首都。", "中国的首都") == pytest.approx(0.75)


def test_rouge_l_by_hand_and_errors_score_zero():
    # LCS 2 of 4 predicted and 2 reference words: P = 1/2, R = 1, F = 2/3
    assert rouge_score("cat sat down today", "cat sat") == pytest.approx(2 / 3, abs=1e-6)
    # LCS of "one two three" and "one three two" is 2: P = R = 2/3
    assert rouge_score("one two three", "one three two") == pytest.approx(2 / 3, abs=1e-6)
    assert rouge_score("", "reference") == 0.0  # the package raises on an empty text; the original scores 0


def test_rouge_zh_segments_with_jieba():
    # 今天天气/很/好 vs 今天天气/不错: LCS 1, P = 1/3, R = 1/2, F = 0.4
    assert rouge_zh_score("今天天气很好", "今天天气不错") == pytest.approx(0.4, abs=1e-6)


def test_classification_and_its_iteration_quirk():
    classes = ["Lo", "Loc", "Location", "Human"]
    assert classification_score("Human", "Human", all_classes=classes) == 1.0
    # matches Lo, Loc, Location, Human; compat drops Lo and skips Loc: 1 of 3; strict drops both: 1 of 2
    assert classification_score("Human or Location", "Location", all_classes=classes) == pytest.approx(1 / 3)
    assert classification_score("Human or Location", "Location", all_classes=classes, mode="strict") == 0.5
    assert classification_score("Human", "Location", all_classes=classes) == 0.0
    # "Lo", "Loc" and "Location" all match; "Lo" is removed and the list shifts, so "Loc" (a
    # substring of the answer) is never examined: compat keeps it and scores 1/2, strict 1
    assert classification_score("Location", "Location", all_classes=classes) == 0.5
    assert classification_score("Location", "Location", all_classes=classes, mode="strict") == 1.0


def test_retrieval_and_count():
    assert retrieval_score("Paragraph 3, or maybe Paragraph 3 and 5", "Paragraph 3") == pytest.approx(2 / 3)
    assert retrieval_score("no idea", "Paragraph 3") == 0.0
    assert retrieval_zh_score("答案是段落12", "段落12") == 1.0
    assert count_score("There are 12 unique paragraphs (12).", "12") == 1.0
    assert count_score("5 or 12", "12") == 0.5


def test_code_similarity_by_hand():
    prediction = "\n# a comment\nreturn x + 1\n"
    # difflib matches "return x", "+", "1": 10 of 12 + 10 characters -> 20/22 = 90.9 -> 91 (fuzzywuzzy rounds)
    assert code_sim_score(prediction, "return x+1") == 0.91
    assert code_sim_score(prediction, "return x+1", mode="strict") == pytest.approx(20 / 22)
    assert code_sim_score("```python", "x = 1") == 0.0  # no usable line: empty vs reference
    assert code_sim_score("x = 1", "x = 1") == 1.0


def test_score_sample_first_line_and_max_over_answers():
    classes = ["Location", "Human", "Entity"]
    assert score_sample("trec", "\nLocation\nHuman", ["Location"], classes) == 1.0
    assert score_sample("trec", "Human\nLocation", ["Location"], classes) == 0.0  # only the first line counts
    assert score_sample("qasper", "Paris", ["London", "Paris, France"]) == pytest.approx(2 / 3)


def test_dataset_score_and_buckets():
    assert dataset_score([1.0, 0.0, 0.5]) == 50.0
    assert dataset_score([1 / 3]) == 33.33
    assert [length_bucket(n) for n in (3999, 4000, 7999, 8000)] == ["0-4k", "4-8k", "4-8k", "8k+"]
