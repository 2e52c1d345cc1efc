"""HelloBench: HelloEval's checklist prompt, reply parsing and weighted score by hand, the length
score of the length-constrained subset, data layouts and one-line errors, and the suite end to end
(echo and constant runners, then `lc-bench judge`)."""

from __future__ import annotations

import json
import shutil

import pytest

from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.scoring.hellobench import (
    SYS_PROMPT,
    checklist_weights,
    formatted_checklists,
    hello_eval,
    judge_prompt,
    judged_response,
    parse_checklist_scores,
    regression_weights,
)
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.hellobench import CATEGORIES, HelloEvalChecklists, fixture_folder, load_prompts
from tests.e2e.test_cli import lc_bench, records

CONTINUATION = [21.427707308340644, 19.022158840412466, 16.220256947514333, 20.57043807105919, 22.759438832673375]


def verdict(scores, ids=None):
    ids = range(len(scores)) if ids is None else ids
    return json.dumps(
        [{"checklist_id": str(i), "reason": "r", "evaluation_score": str(s)} for i, s in zip(ids, scores, strict=True)]
    )


def test_the_published_weights_are_shipped_and_each_subcategory_sums_to_100():
    weights = regression_weights()
    assert len(weights) == 38 and weights["continuation"] == tuple(CONTINUATION)
    assert all(sum(w) == pytest.approx(100.0) for w in weights.values())
    assert len(weights["travel"]) == 7 and len(weights["news"]) == 6 and len(weights["story_writing"]) == 5


def test_hello_eval_is_the_weighted_checklist_sum_by_hand():
    scores = hello_eval("continuation", [1.0, 0.5, 0.75, 0.0, 0.25])
    # 21.4277 * 1 + 19.0222 * .5 + 16.2203 * .75 + 20.5704 * 0 + 22.7594 * .25
    assert scores["hello_eval"] == pytest.approx(48.793839147350965)
    assert scores["hello_eval_rescaled"] == pytest.approx(-104.82464341059614)  # OpenCompass: (x - 75) * 4
    assert hello_eval("continuation", [1.0] * 5)["hello_eval"] == pytest.approx(100.0)
    assert hello_eval("continuation", [1.0] * 5)["hello_eval_rescaled"] == pytest.approx(100.0)
    # a subcategory without published weights (or with another count) weighs its checklists equally
    assert checklist_weights("my_own", 4) == (25.0, 25.0, 25.0, 25.0)
    assert hello_eval("my_own", [1.0, 0.0, 1.0, 0.0])["hello_eval"] == pytest.approx(50.0)
    assert hello_eval("continuation", [1.0, 0.0, 1.0])["hello_eval"] == pytest.approx(200 / 3)


@pytest.mark.parametrize(
    ("reply", "parsed"),
    [
        (verdict([1, 0.5, 0.75]), [1.0, 0.5, 0.75]),
        # fences and newlines are stripped as llm_judge.py does
        ("```json\n" + verdict([0, 0.25, 1]).replace("}, {", "},\n{") + "\n```", [0.0, 0.25, 1.0]),
        ("```python\n" + verdict([0.5, 0.5, 0.5]) + "```", [0.5, 0.5, 0.5]),
        (verdict([1, 0, 0.5], ids=[2, 0, 1]), [0.0, 0.5, 1.0]),  # ids 0..n-1 out of order: by id
        (verdict([1, 0, 0.5], ids=[5, 6, 7]), [1.0, 0.0, 0.5]),  # other ids: list order (OpenCompass)
        (verdict([1, 0.5]), None),  # one checklist short
        (verdict([1, 0.5, 0.75, 1]), None),  # one too many
        (verdict([1, 0.5, 2]), None),  # outside [0, 1] (OpenCompass's check)
        (verdict([1, 0.5, -0.25]), None),
        ("[{'checklist_id': 0, 'evaluation_score': 1}]", None),  # a Python literal is not JSON
        ("The response is good. Score: 1", None),
        ('{"checklist_id": 0, "evaluation_score": 1}', None),  # not a list
        ('[{"checklist_id": 0, "evaluation_score": "high"}, {}, {}]', None),
        (
            '[{"checklist_id": "a", "evaluation_score": 1}, {"checklist_id": 1, "evaluation_score": 1}, '
            '{"checklist_id": 2, "evaluation_score": 1}]',
            None,
        ),
        ("[1, 2, 3]", None),
        ("", None),
    ],
)
def test_judge_replies_parse_as_llm_judge_does(reply, parsed):
    assert parse_checklist_scores(reply, 3) == parsed


def test_backslashes_are_removed_before_parsing():
    # llm_judge.py drops every backslash, so an escaped quote inside a reason breaks the JSON
    reply = '[{"checklist_id": 0, "reason": "no \\"quotes\\"", "evaluation_score": 1}]'
    assert parse_checklist_scores(reply, 1) is None
    assert parse_checklist_scores('[{"checklist_id": 0, "reason": "a\\\\b", "evaluation_score": 1}]', 1) == [1.0]


def test_the_judge_prompt_is_llm_judges_wording():
    checklists = ["Is it long?", 'Is it "good"?']
    prompt = judge_prompt("Write an essay.\n[Topic]: Dogs", "I don't know.", checklists)
    assert prompt.startswith("Your core task is to evaluate the checklists based on the user's ")
    assert HelloEvalChecklists.system_prompt == SYS_PROMPT  # sent as the system message before it
    assert '\nHere is the instruction:\n{"instruction": Write an essay.\n[Topic]: Dogs}\n' in prompt
    assert '\nHere is the response given by LLM:\n{"response": I do n\'t know .}\n' in prompt
    assert (
        'Here are checklists of this instruction:\n{"checklists": [{"checklist_id": 0, "checklist_content": '
        '"Is it long?"}, {"checklist_id": 1, "checklist_content": "Is it \\"good\\"?"}]}'
    ) in prompt
    assert "There are total 2 checklists that you need to evaluate." in prompt
    assert prompt.endswith("as it will be directly executed in Python.")
    # one pass, as str.format: a placeholder inside the instruction is not filled
    assert '{"instruction": Say $RESPONSE$}' in judge_prompt("Say $RESPONSE$", "x", checklists)
    assert prompt.count("0.75: The response aligns with most checklist requirements") == 2
    assert formatted_checklists(checklists) == json.dumps(
        [
            {"checklist_id": 0, "checklist_content": "Is it long?"},
            {"checklist_id": 1, "checklist_content": 'Is it "good"?'},
        ]
    )


def test_long_responses_are_cut_to_16000_words_once_over_15000():
    assert judged_response("word " * 15500) == " ".join(["word"] * 15500)
    assert judged_response("word " * 16050) == " ".join(["word"] * 16000)


def test_the_fixture_matches_the_published_layout_and_weights():
    for category in CATEGORIES:
        prompts, source = load_prompts("fixture", category)
        assert source == "fixture" and len(prompts) >= 2
        for prompt in prompts:
            row = prompt.row
            assert row["num_checklist"] == len(row["checklists"])
            assert row["formatted_checklists"] == formatted_checklists(row["checklists"])
            assert len(regression_weights()[row["category"]]) == row["num_checklist"]
    lengths, _ = load_prompts("fixture", "length_constrained")
    assert sorted({p.setting for p in lengths}) == ["16k", "2k", "4k", "8k"]


def test_samples_carry_the_instruction_checklists_and_budgets(tiny_tokenizer):
    task = make_task(TASKS.get("hellobench_chat"), {"data": "fixture"})
    samples = task.build(BuildContext(tiny_tokenizer, (4096,), (), 2, 0))
    assert [s.sample_id for s in samples] == ["hellobench_chat/4k/0", "hellobench_chat/4k/1"]
    first = samples[0]
    assert first.messages[0].content == first.metadata["instruction"]
    assert first.metadata["subcategory"] == "report_write" and len(first.metadata["checklists"]) == 6
    assert first.max_new_tokens == 4096 - first.input_tokens  # 16384 capped by the window
    assert first.use_chat_template
    lengthy = make_task(TASKS.get("hellobench_length_constrained"), {"data": "fixture", "settings": ["2k", "16k"]})
    samples = lengthy.build(BuildContext(tiny_tokenizer, (32768,), (), 1, 0))
    assert [s.sample_id for s in samples] == [
        "hellobench_length_constrained/32k/2k/0",
        "hellobench_length_constrained/32k/16k/0",
    ]
    assert [s.metadata["requested_length"] for s in samples] == [2000.0, 16000.0]
    assert [s.metadata["requested_label"] for s in samples] == ["2k", "16k"]
    assert [s.max_new_tokens for s in samples] == [16384, 24000]  # run.py: 24000 for the 16k setting


def test_length_constrained_outputs_get_longwriters_length_score():
    task = make_task(TASKS.get("hellobench_length_constrained"), {"data": "fixture"})
    assert task.score("word " * 2000, (), {"requested_length": 2000.0})["length_score"] == 100.0
    assert task.score("word " * 1000, (), {"requested_length": 2000.0})["length_score"] == 50.0  # 1 - (2-1)/2
    assert task.score("word " * 4500, (), {"requested_length": 2000.0})["length_score"] == pytest.approx(
        100 * (1 - 1.25 / 3)
    )
    main = make_task(TASKS.get("hellobench_chat"), {"data": "fixture"})
    scores = main.score("one two three", (), {})
    assert scores["words"] == 3.0 and "length_score" not in scores and "hello_eval" not in scores


def test_official_layouts_load_from_the_repository_the_flat_folder_or_a_file(tmp_path):
    repo = tmp_path / "HelloBench"
    shutil.copytree(fixture_folder() / "main_data", repo / "data" / "main_data")
    shutil.copytree(fixture_folder() / "length_constrained_data", repo / "data" / "length_constrained_data")
    prompts, source = load_prompts(str(repo), "chat")
    assert source == str(repo) and prompts[0].row["id"] == "chat_000"
    assert len(load_prompts(str(repo / "data"), "length_constrained")[0]) == 8
    flat = tmp_path / "flat"
    shutil.copytree(fixture_folder() / "main_data", flat)
    shutil.copytree(fixture_folder() / "length_constrained_data", flat / "length_constrained_data")
    assert len(load_prompts(str(flat), "summarization")[0]) == 2
    assert len(load_prompts(str(flat), "length_constrained")[0]) == 8
    one = flat / "length_constrained_data" / "heuristic_text_generation_8k.jsonl"
    assert {p.setting for p in load_prompts(str(one), "length_constrained")[0]} == {"8k"}


def test_the_hub_copy_is_split_by_task_type_and_auto_falls_back_to_the_fixture(monkeypatch, capsys):
    import datasets

    fixture_rows = [p.row for c in CATEGORIES for p in load_prompts("fixture", c)[0]]
    monkeypatch.setattr(datasets, "load_dataset", lambda hub_id, split: fixture_rows)
    load_prompts.cache_clear()
    prompts, source = load_prompts("auto", "chat")
    assert source == "quehry/HelloBench" and [p.row["id"] for p in prompts] == ["chat_000", "chat_001"]
    assert [p.row["id"] for p in load_prompts("someone/copy", "open_ended_qa")[0]][0] == "open_ended_qa_000"
    _, source = load_prompts("auto", "length_constrained")  # GitHub only
    assert source == "fixture" and "length-constrained files unavailable" in capsys.readouterr().err
    monkeypatch.setattr(datasets, "load_dataset", lambda hub_id, split: [{"id": "chat_000"}])
    load_prompts.cache_clear()
    with pytest.raises(UsageError, match=r"quehry/HelloBench: record 1 lacks category"):
        load_prompts("auto", "chat")

    def offline(hub_id, split):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    load_prompts.cache_clear()
    assert load_prompts("auto", "chat")[1] == "fixture"
    assert "quehry/HelloBench unavailable (ConnectionError); using the shipped HelloBench fixture" in (
        capsys.readouterr().err
    )
    with pytest.raises(UsageError, match="cannot load HelloBench from someone/copy"):
        load_prompts("someone/copy", "chat")
    load_prompts.cache_clear()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json\n", "chat.jsonl:1 is not valid JSON"),
        ('{"id": "x"}\n', "chat.jsonl:1 lacks category, instruction, checklists, num_checklist"),
        (
            '{"id": "x", "category": "rewrite", "instruction": "Do.", "checklists": "Is it?", "num_checklist": 1}\n',
            "field 'checklists' should be a list of strings",
        ),
        (
            '{"id": "x", "category": "rewrite", "instruction": "Do.", "checklists": ["a"], "num_checklist": 2}\n',
            "chat.jsonl:1 has 1 checklists but num_checklist 2",
        ),
        ("", "holds no records"),
    ],
)
def test_malformed_data_is_one_line_saying_where_to_get_it(tmp_path, content, problem):
    path = tmp_path / "chat.jsonl"
    path.write_text(content)
    with pytest.raises(UsageError) as error:
        load_prompts(str(path), "chat")
    assert problem in str(error.value) and "\n" not in str(error.value)
    assert "github.com/Quehry/HelloBench" in str(error.value)


def test_a_malformed_data_file_is_a_one_line_cli_error(tiny_model_dir, tmp_path):
    bad = tmp_path / "chat.jsonl"
    bad.write_text('{"id": "x"}\n')
    result = lc_bench(
        "run",
        "--tasks",
        "hellobench_chat",
        "--task-opt",
        f"hellobench_chat.data={bad}",
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
    assert len(lines) == 1 and "lacks category" in lines[0]


def test_missing_data_and_unknown_settings_are_refused(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        load_prompts(str(tmp_path / "nowhere"), "chat")
    with pytest.raises(UsageError, match="holds no chat.jsonl"):
        load_prompts(str(tmp_path), "chat")
    with pytest.raises(UsageError, match="settings must be among 2k, 4k, 8k, 16k"):
        make_task(TASKS.get("hellobench_length_constrained"), {"settings": ["32k"]})


def test_the_judge_plan_scores_a_record_and_refuses_a_malformed_verdict():
    plan = HelloEvalChecklists()
    record = {
        "key": "k",
        "completion": {"text": "A story."},
        "metadata": {
            "instruction": "Continue.",
            "checklists": ["a", "b", "c", "d", "e"],
            "subcategory": "continuation",
        },
    }
    [prompt] = plan.prompts(record)
    assert '{"response": A story .}' in prompt and "There are total 5 checklists" in prompt
    scores, parsed = plan.scores(record, [verdict([1.0, 0.5, 0.75, 0.0, 0.25])])
    assert parsed == [1.0, 0.5, 0.75, 0.0, 0.25]
    assert scores["hello_eval"] == pytest.approx(48.793839147350965) and scores["checklist_4"] == 0.25
    assert plan.scores(record, ["not a list"]) is None
    assert (
        plan.paper_sampling.temperature,
        plan.paper_sampling.seed,
        plan.paper_sampling.max_new_tokens,
        plan.paper_sampling.attempts,
    ) == (0.8, 42, 4096, 3)
    with pytest.raises(UsageError, match="rerun the task"):
        plan.prompts({"key": "k", "completion": {"text": ""}, "metadata": {}})


@pytest.mark.parametrize("runner", ["echo", "constant"])
def test_the_suite_runs_end_to_end_and_is_judged(runner, tiny_model_dir, tmp_path):
    lc_bench(
        "run",
        "--suite",
        "hellobench",
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
        "h",
    )
    rows = {row["sample_id"]: row for row in records(tmp_path / "h")}
    assert sorted(rows) == sorted(
        [f"hellobench_{c}/2k/0" for c in CATEGORIES]
        + [f"hellobench_length_constrained/2k/{s}/0" for s in ("2k", "4k", "8k", "16k")]
    )
    for row in rows.values():
        assert row["score"] is None and row["primary_metric"] == "hello_eval"  # HelloEval needs the judge
        assert row["input_tokens"] + row["max_new_tokens"] <= 2048
    assert rows["hellobench_length_constrained/2k/2k/0"]["scores"]["length_score"] == 0.0
    verdicts = tmp_path / "verdicts.json"
    verdicts.write_text(
        json.dumps(
            [
                {
                    "contains": f"There are total {n} checklists",
                    "reply": "```json\n" + verdict([1.0] * (n - 1) + [0.0]) + "\n```",
                }
                for n in (5, 6, 7)
            ]
        )
    )
    result = lc_bench(
        "judge",
        str(tmp_path / "h"),
        "--runner",
        "constant",
        "--runner-opt",
        f"script={verdicts}",
        "--model",
        str(tiny_model_dir),
    )
    assert "judged 9 samples, 0 verdicts did not parse" in result.stdout
    latest = {row["sample_id"]: row for row in records(tmp_path / "h")}
    chat = latest["hellobench_chat/2k/0"]
    weights = regression_weights()["report_write"]
    assert chat["score"] == pytest.approx(100.0 - weights[-1])  # every checklist 1 but the last ("flawless")
    assert chat["scores"]["hello_eval_rescaled"] == pytest.approx((100.0 - weights[-1] - 75) * 4)
    assert chat["judge"]["parsed"] == [1.0] * 5 + [0.0]
    assert chat["judge"]["system"] == SYS_PROMPT and not chat["judge"]["prompts"][0].startswith(SYS_PROMPT)
