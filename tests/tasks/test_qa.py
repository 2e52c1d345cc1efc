import json
import random
from pathlib import Path

import pytest

from lc_bench.errors import UsageError
from lc_bench.lengths import input_budget
from lc_bench.registry import TASKS
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.qa import load_qa


def build(tokenizer, name, lengths=(2048,), n=2, **params):
    return make_task(TASKS.get(name), params).build(BuildContext(tokenizer, tuple(lengths), (), n, 0))


@pytest.mark.parametrize("name", ["qa_1", "qa_2"])
def test_gold_documents_are_in_the_pile(tiny_tokenizer, name):
    for sample in build(tiny_tokenizer, name, data="fixture"):
        content = sample.messages[0].content
        assert sample.metadata["data_source"] == "fixture"
        assert content.endswith(f"Question: {sample.metadata['question']}")
        assert content.count("Document ") == sample.metadata["documents"]
        budget = input_budget(sample.target_length, sample.max_new_tokens)
        assert budget - 400 <= sample.input_tokens <= budget  # a document is the unit
        assert sample.answer_prefix == " Answer:"  # RULER's prefix, leading space included


def test_offline_auto_falls_back_to_the_fixture_with_a_warning(tiny_tokenizer, capsys):
    load_qa.cache_clear()
    sample = build(tiny_tokenizer, "qa_1", n=1)[0]
    assert sample.metadata["data_source"] == "fixture"
    assert "not the real dataset" in capsys.readouterr().err


def test_local_jsonl_in_lc_bench_and_squad_layouts(tiny_tokenizer, tmp_path):
    mine = tmp_path / "mine.jsonl"
    mine.write_text(json.dumps({"question": "Q?", "answers": ["A1"], "gold": ["Gold text A1."],
                                "distractors": ["Other text.", "More text."]}) + "\n")
    data = load_qa(str(mine), "squad", "squad_mini")
    assert data.items[0].answers == ("A1",) and len(data.documents) == 3
    squad = tmp_path / "squad.jsonl"
    squad.write_text(json.dumps({"question": "Who?", "context": "Ann did.", "answers": {"text": ["Ann"]}}) + "\n")
    assert load_qa(str(squad), "squad", "squad_mini").items[0].gold == ("Ann did.",)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Q?"}\n')
    with pytest.raises(UsageError, match="lacks answers, gold"):
        load_qa(str(bad), "squad", "squad_mini")
    with pytest.raises(UsageError, match="not found"):
        load_qa(str(tmp_path / "none.jsonl"), "squad", "squad_mini")


def test_scoring_is_string_match_part():
    task = make_task(TASKS.get("qa_2"), {})
    assert task.primary_metric == "string_match_part"
    assert task.score("It is the Lune.", ["the Lune", "Lune"], {})["string_match_part"] == 100.0


# -- dataset_rules=ruler: RULER's scripts/data/synthetic/qa.py on its published files -------------

from lc_bench.tasks.qa import (  # noqa: E402 - kept beside the tests that use them
    QATask,
    _hotpot_layout,
    _squad_layout,
    load_ruler_qa,
    read_official,
    ruler_context,
    ruler_fixture,
    ruler_hotpot,
    ruler_selection,
    ruler_squad,
)

SQUAD_QUESTIONS = [  # the fixture's answerable questions, in file order
    "In what year was the Harrowgate lighthouse first lit?",
    "Who was the first keeper of the Harrowgate lighthouse?",
    "What did the Orlan Valley weavers use to dye their cloth blue?",
    "When did the railway reach the Orlan Valley?",
    "How many arches does the Tessel viaduct have?",
    "Who runs the line over the Tessel viaduct today?",
]


class FirstK:
    """A stand-in for random.Random whose `sample` takes the first k, so selections are hand-checkable."""

    def sample(self, population, k):
        return list(population)[:k]


def test_squad_v2_keeps_answerable_questions_in_file_order():
    data = ruler_fixture("squad")
    assert [q.question for q in data.questions] == SQUAD_QUESTIONS
    # the fixture's three unanswerable questions (is_impossible) never become samples
    skipped = ("demolished", "second lens", "tunnels")
    assert not any(word in q.question for q in data.questions for word in skipped)
    # documents: the 7 distinct paragraphs sorted as text ("The H..." sorts before "Trains")
    assert [d[:12] for d in data.documents] == [
        "Completed af", "For centurie", "Keepers of t", "Most of the ", "The Harrowga", "Trains still", "Visitors can"]
    first, arches = data.questions[0], data.questions[4]
    assert first.answers == ("1871", "1871", "in 1871")  # every answer text, duplicates kept, as RULER does
    # gold: "The Harrowgate..." (4); its article's other paragraphs in article order: "Keepers" (2), "Visitors" (6)
    assert first.gold == (4,) and first.same_article == (2, 6)
    assert arches.gold == (0,) and arches.same_article == (5,)


def test_squad_selection_takes_the_same_article_first_then_others():
    data = ruler_fixture("squad")
    first = data.questions[0]
    # 2 documents: the gold one and a sample of its article's others (stub: the first)
    assert ruler_selection(first, 7, 2, FirstK()) == [4, 2]
    # 4: gold, all of the article's others in article order, then a sample of the rest [0, 1, 3, 5]
    assert ruler_selection(first, 7, 4, FirstK()) == [4, 2, 6, 0]
    # all 7 or more: the sorted documents, repeated and cut
    assert ruler_selection(first, 7, 7, FirstK()) == [0, 1, 2, 3, 4, 5, 6]
    assert ruler_selection(first, 7, 9, FirstK()) == [0, 1, 2, 3, 4, 5, 6, 0, 1]
    picked = ruler_selection(first, 7, 5, random.Random(3))
    assert picked[:3] == [4, 2, 6] and set(picked[3:]) < {0, 1, 3, 5} and len(set(picked)) == 5


def test_the_documents_are_shuffled_by_a_fresh_random_42():
    data = ruler_fixture("squad")
    # random.Random(42).shuffle puts [a, b, c, d] in the order [c, b, d, a]: for [4, 2, 6, 0] that is
    # Visitors (6), Keepers (2), Completed (0), The Harrowgate (4), the gold document last
    text = ruler_context(data, [4, 2, 6, 0], seed=0)
    assert text.startswith("Document 1:\nVisitors can climb the tower on summer weekends. A small museum")
    blocks = text.split("\n\n")
    assert [b.split("\n")[0] for b in blocks] == ["Document 1:", "Document 2:", "Document 3:", "Document 4:"]
    assert [b.split("\n")[1][:12] for b in blocks] == ["Visitors can", "Keepers of t", "Completed af", "The Harrowga"]
    # the same count always gives the same order (RULER re-seeds for every sample); --seed 1 is RULER's chunk 1
    assert ruler_context(data, [4, 2, 6, 0], seed=0) == text and ruler_context(data, [4, 2, 6, 0], seed=1) != text


def test_hotpot_keeps_all_ten_paragraphs_of_each_question():
    data = ruler_fixture("hotpotqa")
    assert [len(q.gold) for q in data.questions] == [10, 10, 10]
    assert len(data.documents) == 29  # 30 paragraphs, "Castlebrook" shared by the first two questions
    assert "Castlebrook\nCastlebrook is a market town built on both banks of the river Lune. A medieval bridge of " \
           "five arches crosses the river there." in data.documents  # title, newline, the sentences joined
    # fewer documents than the pool: all 10 gold ones, then a sample of the rest
    chosen = ruler_selection(data.questions[1], 29, 12, FirstK())
    assert chosen[:10] == list(data.questions[1].gold) and chosen[10:] == [0, 1]


def test_ruler_rules_build_from_the_fixture(tiny_tokenizer):
    load_ruler_qa.cache_clear()
    samples = build(tiny_tokenizer, "qa_1", lengths=(1024, 2048), n=7, dataset_rules="ruler", data="fixture")
    for length in (1024, 2048):
        cell = [s for s in samples if s.target_length == length]
        # sample i asks question i at every length; past the last question it starts again
        assert [s.metadata["question"] for s in cell] == [*SQUAD_QUESTIONS, SQUAD_QUESTIONS[0]]
        counts = {s.metadata["documents"] for s in cell}
        assert len(counts) == 1  # one document count per length (none of these needed lowering)
        for sample in cell:
            assert sample.input_tokens <= length - 32 and sample.metadata["data_source"] == "fixture"
            assert sample.messages[0].content.count("Document ") == sample.metadata["documents"]
    assert samples[0].references == ("1871", "1871", "in 1871")
    hotpot = build(tiny_tokenizer, "qa_2", lengths=(1024,), n=3, dataset_rules="ruler", data="fixture")
    data = ruler_fixture("hotpotqa")
    for sample, question in zip(hotpot, data.questions, strict=True):
        assert all(f"\n{data.documents[d]}\n" in sample.messages[0].content + "\n" for d in question.gold)


def test_ruler_lowers_the_count_by_ten_while_a_sample_is_too_long():
    question = ruler_fixture("squad").questions[0]

    def make(n):
        return "w " * n

    def tokens(text):
        return text.split()

    # 40 words > 25: 30, then 20 fits
    assert QATask._ruler_fit(question, 40, 25, make, tokens, 4096)[2] == 20
    # 12 > 10 drops to 2; at 10 or below RULER would loop for ever: here one at a time down to the gold
    assert QATask._ruler_fit(question, 12, 5, make, tokens, 4096)[2] == 2
    assert QATask._ruler_fit(question, 8, 5, make, tokens, 4096)[2] == 5
    with pytest.raises(UsageError, match="cannot hold the 1 gold document"):
        QATask._ruler_fit(question, 3, 0, make, tokens, 4096)


def _squad_hub_rows(published):
    """The published SQuAD layout as the hub's flat rows (title, context, question, answers)."""
    return [{"title": article["title"], "context": p["context"], "question": q["question"],
             "answers": {"text": [a["text"] for a in q["answers"]]}}
            for article in published["data"] for p in article["paragraphs"] for q in p["qas"]]


def test_the_hubs_copies_give_the_same_questions_and_documents():
    folder = Path(__file__).parents[2] / "lc_bench" / "data" / "qa"
    squad = read_official(folder / "squad_v2_dev_mini.json", "squad")
    assert ruler_squad(_squad_layout(_squad_hub_rows(squad)), "hub") == ruler_squad(squad, "hub")
    hotpot = read_official(folder / "hotpot_dev_distractor_mini.json", "hotpotqa")
    rows = [{"question": r["question"], "answer": r["answer"],
             "context": {"title": [t for t, _ in r["context"]], "sentences": [s for _, s in r["context"]]}}
            for r in hotpot]
    assert ruler_hotpot(_hotpot_layout(rows), "hub") == ruler_hotpot(hotpot, "hub")


def test_official_files_by_path_and_their_one_line_errors(tmp_path):
    load_ruler_qa.cache_clear()
    good = tmp_path / "dev-v2.0.json"
    good.write_text(json.dumps({"version": "v2.0", "data": [{"title": "T", "paragraphs": [
        {"context": "Ann did it.", "qas": [
            {"question": "Who did it?", "answers": [{"text": "Ann", "answer_start": 0}], "is_impossible": False},
            {"question": "Who did not?", "answers": [], "plausible_answers": [{"text": "Ann"}], "is_impossible": True},
        ]}]}]}))
    data = load_ruler_qa(str(good), "squad")
    assert [q.question for q in data.questions] == ["Who did it?"] and data.source == str(good)
    # without dataset_rules=ruler the same file gives lc_bench's items (the answerable question only)
    assert [item.question for item in load_qa(str(good), "squad", "squad_mini").items] == ["Who did it?"]

    url = "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v2.0.json"
    v11 = tmp_path / "dev-v1.1.json"
    v11.write_text(json.dumps({"data": [{"paragraphs": [{"context": "c", "qas": [
        {"question": "q", "answers": [{"text": "c"}]}]}]}]}))
    not_json = tmp_path / "broken.json"
    not_json.write_text("{")
    cases = [
        (tmp_path / "missing.json", "squad", "not found"),
        (v11, "squad", "a SQuAD v1.1 file"),
        (not_json, "squad", "not valid JSON"),
        (good, "hotpotqa", "not a JSON list of questions"),
    ]
    for path, dataset, problem in cases:
        with pytest.raises(UsageError) as caught:
            load_ruler_qa(str(path), dataset)
        message = str(caught.value)
        assert problem in message and "\n" not in message
        if dataset == "squad":
            assert url in message and "--task-opt qa_1.data=PATH/dev-v2.0.json" in message
        else:
            assert "hotpot_dev_distractor_v1.json" in message and "qa_2.data=" in message
    no_answer = tmp_path / "hotpot_test.json"
    no_answer.write_text(json.dumps([{"question": "q", "context": [["T", ["s."]]]}]))
    with pytest.raises(UsageError, match=r'record 1 has no "answer" text .*http://curtis\.ml\.cmu\.edu'):
        load_ruler_qa(str(no_answer), "hotpotqa")


def test_ruler_auto_offline_uses_the_fixture_and_says_where_the_files_are(tiny_tokenizer, capsys):
    load_ruler_qa.cache_clear()
    sample = build(tiny_tokenizer, "qa_2", n=1, dataset_rules="ruler")[0]
    assert sample.metadata["data_source"] == "fixture"
    err = capsys.readouterr().err
    assert "not the real dataset" in err and "hotpot_dev_distractor_v1.json" in err and "qa_2.data=PATH" in err


def test_ruler_rules_refuse_other_data_forms():
    with pytest.raises(UsageError, match=r"reads RULER's SQuAD 2\.0 dev json .*not 'rajpurkar/squad'"):
        load_ruler_qa("rajpurkar/squad", "squad")
