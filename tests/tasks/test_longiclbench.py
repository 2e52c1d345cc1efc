"""LongICLBench: the original's prompts, demonstration order, answer parsing and metrics (expected values
from the snapshot's own parsing blocks and evaluate scripts run on these inputs), exact fitting at any
length, the loader's one-line errors, and the suite end to end."""

from __future__ import annotations

import json

import pytest

import lc_bench
from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.scoring.longiclbench import (
    dialogre_scores,
    f1_from_counts,
    fewnerd_scores,
    parse_banking77,
    parse_discovery,
    parse_goemotion,
    parse_tacred,
    pooled_f1,
    tacred_f1,
    tacred_scores,
)
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.longiclbench import complete_rounds, header, question
from lc_bench.tasks.longiclbench_data import label_lists, load_split, select_rounds, select_tacred

TASK_NAMES = [f"longicl_{k}" for k in ("goemotion", "banking77", "tacred", "fewnerd", "dialogre", "discovery")]


def _build(tokenizer, name, lengths=(2048,), samples=1, **params):
    task = make_task(TASKS.get(name), {"data": "fixture", **params})
    context = BuildContext(tokenizer=tokenizer, lengths=lengths, depths=(), samples_per_cell=samples, seed=0)
    return task, task.build(context)


def test_label_sets_are_the_scripts():
    sizes = {key: len(labels) for key, labels in label_lists().items()}
    assert sizes == {"goemotion": 28, "banking77": 77, "tacred": 41, "fewnerd": 66, "dialogre": 34, "discovery": 174}
    assert label_lists()["banking77"][51] == "Refund_not_showing_up"  # the script's spelling, kept
    assert label_lists()["discovery"][0] == "[no-conn]"


def test_prompts_are_the_originals_word_for_word():
    labels = label_lists()
    assert header("banking77", False, labels["banking77"]) == (
        "Given a customer service query, please predict the intent of the query. The predict answer must come from "
        "the demonstration examples with the exact format. The examples are as follows: \n"
    )
    assert header("goemotion", True, ["a", "b"]).endswith(
        "exact format.You can only make prediction from the following categories: a, b.\n"
        " The examples are as follows: \n"
    )
    row = {"sentence1": "It rained.", "sentence2": "We stayed in.", "label": 19}
    assert question("discovery", row, labels["discovery"], True) == (
        "It rained. ( ) We stayed in.\nthe most suitable conjunction word in the previous ( ) is  as_a_result,\n"
    )
    tac = {"sentence": "S.", "subject_entity": "A", "object_entity": "B", "relation": "per:title"}
    assert question("tacred", tac, [], False) == (
        "sentence: S.\nthe subject is A and the object is B\nthe relation between the two entities is: "
    )
    dre = {
        "dialogue": "Speaker 1: hi",
        "relations": [{"relation": "per:friends", "subject_entity": "Speaker 1", "object_entity": "Ann's"}],
    }
    assert question("dialogre", dre, [], True) == (
        "Dialogue: \nSpeaker 1: hi\nThe list of 1 entity pairs are ('Speaker 1', \"Ann's\")\n"
        "The 1 respective relations between each entity pair are: per:friends\n"
    )
    assert question("fewnerd", {"sentence": "Ann ran.", "entities": {"Ann": "person-athlete"}}, [], True) == (
        "Sentence: Ann ran.\nAnn: person-athlete\n"
    )


def test_demonstrations_follow_select_data():
    rows = [{"label": lab, "i": i} for i, lab in enumerate([0, 1, 0, 2, 0, 1])]
    # rounds in first-appearance order; label 2 runs out in round 2 and passes its turn on: none left after it
    assert [r["i"] for r in select_rounds(rows, lambda r: r["label"], None)] == [0, 1, 3, 2, 5, 4]
    assert [r["i"] for r in select_rounds(rows, lambda r: r["label"], 1)] == [0, 1, 3]
    # label 0 exhausted in round 2: its turn goes to label 1
    rows = [{"label": 0, "i": 0}, {"label": 1, "i": 1}, {"label": 1, "i": 2}, {"label": 1, "i": 3}]
    assert [r["i"] for r in select_rounds(rows, lambda r: r["label"], 2)] == [0, 1, 2, 3]
    tac = [{"relation": r} for r in ["a", "a", "b", "x", "b", "a"]]
    assert select_tacred(tac, ["a", "b"]) == [
        {"relation": "a"},
        {"relation": "b"},
        {"relation": "b"},
        {"relation": "a"},
    ]
    assert complete_rounds([["a"], ["b"], ["a", "b"], ["a"]], 2) == 2


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (" Love\ncomment: x", True),
        ("comment: I love it\nemotion category: love\ncomment: next", True),
        ("I love it\njoy", False),
        ("  LOVE  ", True),
        ("love, maybe", False),
    ],
)
def test_goemotion_parsing_matches_the_script(output, expected):
    assert (parse_goemotion(output, "I love it") == "love") is expected


def test_banking_discovery_tacred_parsing_match_the_scripts():
    assert parse_banking77("card_arrival\nservice query: more", "where is my card") == "card_arrival"
    assert (
        parse_banking77(
            "service query: where is my card\nintent category: Card_Arrival service query", "where is my card"
        )
        == "card_arrival"
    )
    assert parse_banking77("where is my card", "where is my card") == ""
    assert parse_discovery("As_a_result,", "B went home.") == "as_a_result"
    assert (
        parse_discovery(
            "B went home.\nthe most suitable conjunction word in the previous ( ) is  “as_a_result.”", "B went home."
        )
        == "as_a_result"
    )
    assert parse_discovery("accordingly, I think", "B went home.") == "accordingly i think"
    labels = label_lists()["tacred"]
    meta = {"sentence": "Ann works at Acme.", "label": "per:employee_of"}
    cases = [
        (" per:employee_of\nsentence: x", "per:employee_of", 100.0, 100.0),
        ("Ann works at Acme.\nthe relation between the two entities is: per:title", "per:title", 0.0, 100.0),
        ("employee of", "employee of", 0.0, 0.0),
        ("PER:EMPLOYEE_OF", "PER:EMPLOYEE_OF", 0.0, 0.0),
    ]
    for output, pred, accuracy, valid in cases:
        assert parse_tacred(output, meta["sentence"]) == pred
        assert tacred_scores(output, meta, labels) == {"accuracy": accuracy, "valid": valid}
    # pooled over those four: 1 correct, 2 valid, 4 asked: P = 1/2, R = 1/4, F1 = 1/3 (1e-8 guards)
    assert tacred_f1(25.0, 50.0) == pytest.approx(100 / 3, abs=1e-5)


def test_fewnerd_f1_matches_fewnerd_evaluate():
    cases = [
        (
            {
                "sentence": "Ann met Bob in Rome.",
                "entities": {"Ann": "person-other", "Bob": "person-actor", "Rome": "location-GPE"},
            },
            "Ann: person-other\nBob: person-director\nRome: location-GPE\nSentence: next",
        ),
        (
            {"sentence": "Acme sued Zed.", "entities": {"Acme": "organization-company", "Zed": "organization-company"}},
            "Acme sued Zed.\nAcme: organization-company\nZed Corp: organization-company\nExtra: x: y\n\nSentence: z",
        ),
        ({"sentence": "Nothing here.", "entities": {"Paris": "location-GPE"}}, "no entities"),
    ]
    scores = [fewnerd_scores(output, meta) for meta, output in cases]
    assert [(s["correct"], s["predicted"], s["gold"]) for s in scores] == [(2, 3, 3), (1, 3, 2), (0, 0, 1)]
    assert scores[0]["f1"] == pytest.approx(200 * 2 / 6) and scores[2]["f1"] == 0.0
    # fewnerd_evaluate.py on these predictions printed f1: 0.49999999916666665
    assert pooled_f1([{"scores": s} for s in scores], "fewnerd") / 100 == 0.49999999916666665


def test_dialogre_f1_matches_dialogre_evaluate():
    relation_set = label_lists()["dialogre"]
    cases = [
        ("Speaker 1: hi\nSpeaker 2: yo", ["per:friends", "per:boss"], "per:friends, per:subordinate\nDialogue: next"),
        (
            "Speaker 1: mom!\nSpeaker 2: son",
            ["per:parents", "per:children", "per:alternate_names"],
            "The 3 respective relations between each entity pair are: per:parents and more, per:children [/INST] x, no",
        ),
        ("Speaker 1: a\nSpeaker 2: b", ["per:age"], "I do not know"),
    ]
    scores = []
    for dialogue, relations, output in cases:
        meta = {"dialogue": dialogue, "label": ", ".join(relations), "relations": [{"relation": r} for r in relations]}
        scores.append(dialogre_scores(output, meta, relation_set))
    assert [(s["correct"], s["predicted"], s["gold"]) for s in scores] == [(1, 2, 2), (2, 2, 3), (0, 0, 1)]
    # dialogueRE_evaluate.py on these outputs printed f1: 59.999999400000014
    assert pooled_f1([{"scores": s} for s in scores]) == pytest.approx(59.999999400000014, abs=1e-9)
    assert f1_from_counts(3, 4, 6) == pytest.approx(0.599999994, abs=1e-9)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_fills_each_length_within_one_demonstration(tiny_tokenizer, name):
    task, samples = _build(tiny_tokenizer, name, lengths=(2048, 4096), samples=2)
    assert [s.sample_id for s in samples] == [f"{name}/2k/0", f"{name}/2k/1", f"{name}/4k/0", f"{name}/4k/1"]
    for sample in samples:
        budget = sample.target_length - 100
        assert sample.max_new_tokens == 100 and not sample.use_chat_template
        rendered = tiny_tokenizer.render(sample.messages, False)
        assert len(tiny_tokenizer.encode_rendered(rendered, False)[0]) == sample.input_tokens <= budget
        assert budget - sample.input_tokens < 400  # less than one more demonstration (a DialogRE dialogue)
        meta = sample.metadata
        assert meta["shots"] > 0 and meta["n_labels"] == len(label_lists()[task.key])
        per_round = {"longicl_fewnerd": 57, "longicl_dialogre": 34}.get(name, meta["n_labels"])
        assert meta["rounds"] == round(meta["shots"] / per_round, 2) and not meta["data_exhausted"]
        # the echo of the prompt does not answer it: the question comes last, unanswered
        assert sample.messages[0].content.endswith((": ", "  ", "\n"))
    more = [s.metadata["shots"] for s in samples]
    assert more[2] > more[0]
    assert _build(tiny_tokenizer, name, lengths=(2048, 4096), samples=2)[1] == samples  # deterministic


def test_gold_answer_scores_full_marks(tiny_tokenizer):
    for name in TASK_NAMES:
        task, (sample,) = _build(tiny_tokenizer, name)
        reply = "\n".join(sample.references)
        primary = task.score(reply, sample.references, sample.metadata)[task.primary_metric]
        assert primary == 100.0, name
        assert task.score("nothing", sample.references, sample.metadata)[task.primary_metric] == 0.0


def test_whole_rounds_mode_and_instruct(tiny_tokenizer):
    _, samples = _build(tiny_tokenizer, "longicl_goemotion", lengths=(4096,), fill="rounds", instruct=True)
    meta = samples[0].metadata
    assert meta["shots"] % 28 == 0 and meta["complete_rounds"] == meta["shots"] // 28 >= 1
    assert "following categories: admiration, amusement" in samples[0].messages[0].content
    _, samples = _build(tiny_tokenizer, "longicl_fewnerd", lengths=(8192,), fill="rounds")
    assert samples[0].metadata["shots"] == 57 and samples[0].metadata["rounds"] == 1.0  # fewnerd_infer.py's round 1
    # fewnerd_infer.py's format_long_prompt(round=1) + its question, written the script's way
    train, test, _ = load_split("fewnerd", "fixture")
    prompt = ""
    for data in train[:57]:
        prompt = prompt + "Sentence: " + data["sentence"] + "\n"
        for ent in data["entities"]:
            prompt = prompt + ent + ": " + data["entities"][ent] + "\n"
    prompt = (
        "Given the sentence, please find the name entities in the sentence and their corresponding entity types in "
        "the strict format of given examples as following (Entity: EntityType):\n" + prompt
    )
    assert samples[0].messages[0].content == prompt + "Sentence: " + test[0]["sentence"] + "\n"


def test_malformed_and_missing_data_are_one_line_errors(tmp_path):
    (tmp_path / "banking77_train.jsonl").write_text('{"text": "hi", "label": 3}\n{"text": "x", "label": 99}\n')
    (tmp_path / "banking77_test.jsonl").write_text('{"text": "hi", "label": 3}\n')
    with pytest.raises(UsageError) as caught:
        load_split("banking77", str(tmp_path))
    message = str(caught.value)
    assert "banking77_train.jsonl:2 has label index 99" in message and "\n" not in message
    (tmp_path / "train_tacred.json").write_text('[{"sentence": 1}]')
    (tmp_path / "test_tacred.json").write_text("not json")
    with pytest.raises(UsageError, match=r"train_tacred.json: record 1 lacks relation"):
        load_split("tacred", str(tmp_path))
    with pytest.raises(UsageError, match="lacks fewnerd_train_10turns.json.*processed_data"):
        load_split("fewnerd", str(tmp_path))
    with pytest.raises(UsageError, match="not found"):
        load_split("dialogre", str(tmp_path / "nowhere"))


def test_published_layout_folder_is_read(tmp_path):
    rows = [
        {"sentence": f"s{i}", "relation": r, "subject_entity": "A", "object_entity": "B"}
        for i, r in enumerate(label_lists()["tacred"][:3])
    ]
    folder = tmp_path / "processed_data"
    folder.mkdir()
    (folder / "train_tacred.json").write_text(json.dumps(rows))
    (folder / "test_tacred.json").write_text(json.dumps(rows))
    train, test, source = load_split("tacred", str(tmp_path))
    assert len(train) == len(test) == 3 and source == str(tmp_path)


def test_suite_runs_end_to_end_with_echo(tiny_model_dir, tmp_path):
    result = lc_bench.evaluate(
        suite="longiclbench",
        runner="echo",
        model=str(tiny_model_dir),
        samples=1,
        lengths="2k,4k",
        out=tmp_path,
        name="licb",
        write_outputs=False,
        allow_fixtures=True,
    )
    rows = [json.loads(line) for line in (result.run_dir / "records.jsonl").open()]
    assert sorted((r["task"], r["target_length"]) for r in rows) == sorted(
        (name, length) for name in TASK_NAMES for length in (2048, 4096)
    )
    for row in rows:
        assert row["input_tokens"] + row["max_new_tokens"] <= row["target_length"]
        assert row["scores"] and row["family"] == "longiclbench"


@pytest.mark.integration
@pytest.mark.parametrize("name", TASK_NAMES)
def test_exact_fit_with_smollm2(smollm2_tokenizer, name):
    _, samples = _build(smollm2_tokenizer, name, lengths=(4096, 8192))
    for sample in samples:
        rendered = smollm2_tokenizer.render(sample.messages, False)
        assert len(smollm2_tokenizer.encode_rendered(rendered, False)[0]) == sample.input_tokens
        assert 0 <= sample.target_length - 100 - sample.input_tokens < 400
        assert not sample.metadata["data_exhausted"]


def test_parquet_splits_are_read_as_the_published_files(tmp_path):
    import pandas as pd

    rows = [
        {"sentence": f"s{i}", "relation": r, "subject_entity": "A", "object_entity": "B"}
        for i, r in enumerate(label_lists()["tacred"][:3])
    ]
    pd.DataFrame(rows).to_parquet(tmp_path / "train_tacred.parquet")
    pd.DataFrame(rows).to_parquet(tmp_path / "test_tacred.parquet")
    train, test, _ = load_split("tacred", str(tmp_path))
    assert [dict(row) for row in train] == rows and len(test) == 3
