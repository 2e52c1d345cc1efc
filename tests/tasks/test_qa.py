import json

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
