"""InfiniteBench: scores as compute_scores.py gives them, the published prompts, truncate_input's
middle cut to an exact budget, the data loader and the suite end to end."""

from __future__ import annotations

import json

import pytest

from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.scoring.infinitebench import score_one
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.datafiles import fixture_policy, read_jsonl
from lc_bench.tasks.infinitebench import middle_cut
from lc_bench.tasks.infinitebench_data import SYNTHETIC_FIXTURES, fixture_path, load_records
from lc_bench.tasks.infinitebench_prompts import DATASETS, MAX_NEW_TOKENS

# Expected values: OpenBMB/InfiniteBench src/compute_scores.py (commit 88b3daa) run on these inputs in a
# scratch folder, `get_score_one(pred, label, task, model_name)` with the label in the original's form
# (a choice label as get_answer builds it, [text, letter]; math_calc's list; math_find's int or float)
# and model_name "gpt4" for prompt_set gpt4, "yarn-mistral" for open (evaluate's "rouge" stood in by
# evaluate's own rouge.py _compute over rouge_score). The references below are lc_bench's text form.
ORIGINAL_CASES = [
    ("passkey", "The pass key is 71432.", ("71432",), "gpt4", 1.0),
    ("passkey", "1. 71432", ("71432",), "gpt4", 0.0),  # the FIRST digit run counts
    ("number_string", "Sure: 3000077442 is it", ("3000077442",), "gpt4", 1.0),
    ("number_string", "30000 77442", ("3000077442",), "gpt4", 0.0),
    ("kv_retrieval", 'The value is: "c14cb8ba-002b".', ("c14cb8ba-002b",), "gpt4", 1.0),
    ("kv_retrieval", "value=c14cb8ba-002b", ("c14cb8ba-002b",), "gpt4", 0.0),  # "=" is no separator
    ("longdialogue_qa_eng", "Ace: yes", ("ACE", "ACE ROTHSTEIN"), "gpt4", 1.0),
    ("longdialogue_qa_eng", "remo gaggi", ("remo Gaggi", "GAGGI"), "gpt4", 0.0),  # the answer is not upper-cased
    ("longbook_choice_eng", "B. Hall Farm", ("Snowfield", "C"), "gpt4", 0.0),
    ("longbook_choice_eng", "Snowfield", ("Snowfield", "C"), "gpt4", 1.0),
    ("longbook_choice_eng", "I think the answer is: C Snowfield", ("Snowfield", "C"), "gpt4", 1.0),
    ("longbook_choice_eng", "my guess would be AB then", ("Snowfield", "C"), "gpt4", 0.0),  # "AB" in "ABCD"
    ("longbook_choice_eng", "it must be C", ("Snowfield", "C"), "gpt4", 1.0),
    ("code_debug", "C. cmd_gen", ("cmd_gen", "C"), "gpt4", 1.0),
    ("code_debug", "The correct option is: cmd_gen", ("cmd_gen", "C"), "gpt4", 1.0),
    ("code_debug", "The answer is: Option B", ("cmd_gen", "C"), "gpt4", 0.0),
    ("code_debug", "", ("cmd_gen", "C"), "gpt4", 0.0),
    ("code_run", "The return value is: -7.", ("-7",), "gpt4", 1.0),
    ("code_run", "It returns 12, so the value is 12 units", ("12",), "gpt4", 0.0),  # the LAST word counts
    ("math_find", "88\nThe smallest is 1", ("88",), "gpt4", 1.0),
    ("math_find", "The median is 49.5", ("49.5",), "gpt4", 1.0),
    ("math_find", "50", ("50.0",), "gpt4", 1.0),
    ("math_calc", "[5, 9, 4, 7]", ("[9, 4, 8]",), "gpt4", 2 / 3),  # gpt4: the first number is dropped
    ("math_calc", "[9, 4, 8]", ("[9, 4, 8]",), "open", 1.0),
    ("math_calc", "[9, -4, 8]", ("[9, 4, 8]",), "open", 1.0),  # the minus sign is not read
    ("longbook_qa_eng", "The stockings.", ("stockings", "red stockings for the boy"), "gpt4", 1.0),
    ("longbook_qa_eng", "She knits a reddish-brown stocking", ("stockings",), "gpt4", 0.0),
    ("longbook_qa_chn", "胡一刀、马行空。", ("胡一刀，马行空，商老太",), "gpt4", 0.8),
    (
        "longbook_sum_eng",
        "The family lives at Norland.\nJohn gives his sisters nothing.",
        ("The Dashwood family lives at Norland Park.\nJohn Dashwood gives his sisters almost nothing.",),
        "gpt4",
        0.8333333333333333,
    ),
    ("longbook_sum_eng", "", ("A summary.",), "gpt4", 0.0),
]


@pytest.mark.parametrize(("task", "prediction", "references", "prompt_set", "expected"), ORIGINAL_CASES)
def test_scores_match_the_original(task, prediction, references, prompt_set, expected):
    assert score_one(task, prediction, references, prompt_set) == pytest.approx(expected, abs=1e-12)


def test_hand_computed_f1_and_the_strict_variants():
    # En.QA: "she knits reddish brown stocking" (pred, article dropped) vs "reddish brown stockings":
    # 2 common of 5 and 3 -> P 0.4, R 2/3, F1 = 2 * 0.4 * (2/3) / (0.4 + 2/3) = 0.5
    assert score_one("longbook_qa_eng", "She knits a reddish brown stocking", ("reddish brown stockings",)) == 0.5
    # a hyphen is removed, not spaced: "reddish-brown" is one token "reddishbrown"
    assert score_one("longbook_qa_eng", "reddish-brown", ("reddish brown",)) == 0.0
    # Zh.QA: characters of "胡一刀马行空" against "胡一刀马行空商老太": P 1, R 6/9 -> 0.8
    assert score_one("longbook_qa_chn", "胡一刀、马行空。", ("胡一刀，马行空，商老太",)) == pytest.approx(0.8)
    # the original raises on int("12.0") for an int answer; compat scores it 0
    assert score_one("math_find", "12.0", ("12",)) == 0.0
    # strict: En.Dia upper-cases the answer too, Math.Calc reads signed numbers
    assert score_one("longdialogue_qa_eng", "remo gaggi", ("remo Gaggi",), mode="strict") == 0.0  # two words
    assert score_one("longdialogue_qa_eng", "Gaggi!", ("gaggi",), mode="strict") == 1.0
    assert score_one("math_calc", "[9, -4, 8]", ("[9, 4, 8]",), "open", mode="strict") == pytest.approx(1 / 3)


def _task(dataset, **params):
    return make_task(TASKS.get(f"infinitebench_{dataset}"), {"data": "fixture", **params})


def _context(tokenizer, lengths=(2048,), samples=1):
    return BuildContext(tokenizer=tokenizer, lengths=lengths, depths=(), samples_per_cell=samples, seed=0)


def test_every_task_is_registered_with_its_budget_and_metric():
    names = {dataset: TASKS.get(f"infinitebench_{dataset}") for dataset in DATASETS}
    assert len(names) == 12 and all(cls.family == "infinitebench" for cls in names.values())
    assert {d: cls.default_max_new_tokens for d, cls in names.items()} == MAX_NEW_TOKENS
    assert MAX_NEW_TOKENS["passkey"] == 6 and MAX_NEW_TOKENS["math_calc"] == 30000
    assert names["longbook_sum_eng"].primary_metric == "rouge_lsum"
    assert names["longbook_qa_chn"].primary_metric == "qa_f1_zh" and names["code_run"].primary_metric == "accuracy"


def test_prompts_are_the_published_ones(tiny_tokenizer):
    row = read_jsonl(fixture_path("passkey"))[0]
    sample = _task("passkey").build(_context(tiny_tokenizer, (8192,)))[0]
    assert [m.role for m in sample.messages] == ["system", "user"]
    assert sample.messages[0].content == "You are a helpful assistant"
    assert sample.messages[1].content == (
        "There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I will quiz "
        "you about the important information there.\n\n" + row["context"] + "\n\nWhat is the pass key?"
    )
    assert sample.use_chat_template and not sample.truncated and sample.references == (row["answer"][0],)

    choice = read_jsonl(fixture_path("longbook_choice_eng"))[0]
    open_sample = _task("longbook_choice_eng", prompt_set="open").build(_context(tiny_tokenizer, (8192,)))[0]
    assert len(open_sample.messages) == 1 and not open_sample.use_chat_template
    assert open_sample.messages[0].content == (
        "Read the book and answer the question.\n\n" + choice["context"] + "\n\nQuestion: In which county had the "
        "Dashwood family long been settled?\nA. Kent\nB. Sussex\nC. Devon\nD. Norfolk\n\nThe letter of the correct "
        "answer is"
    )
    assert open_sample.references == ("Sussex", "B")

    calc = _task("math_calc").build(_context(tiny_tokenizer, (32768,)))[0]
    assert [m.role for m in calc.messages] == ["system", "user", "assistant", "user"]
    assert calc.messages[0].content.startswith("You are a calculator does nothing but calculating")
    assert [m.content for m in calc.messages[1:3]] == ["1 + 2 - 4 - 10", "[1, 3, -1, -11]"]
    assert calc.messages[3].content == read_jsonl(fixture_path("math_calc"))[0]["context"]
    assert calc.max_new_tokens == 30000 and calc.input_tokens + 30000 <= 32768

    run = read_jsonl(fixture_path("code_run"))[0]
    call = run["input"].split("return value of ")[1].split(". ")[0]  # e.g. func_123(-4)
    prompt = _task("code_run").build(_context(tiny_tokenizer, (8192,)))[0].messages[1].content
    assert prompt.startswith(
        f"Following is a set of Python functions. There is a function called named {call.split('(')[0]}.\n\n"
    )
    assert prompt.endswith(f"return value of {call}. Be concise. Your response must end with the final returned value.")

    find = _task("math_find").build(_context(tiny_tokenizer, (8192,)))[0].messages[1].content
    assert find.startswith("What is the largest number in the following list?\n\n[")


def test_middle_cut_fills_an_exact_budget_keeping_head_and_tail(tiny_tokenizer):
    task = _task("longbook_qa_eng")
    row = read_jsonl(fixture_path("longbook_qa_eng"))[0]
    from lc_bench.tasks.infinitebench_prompts import fill_prompt

    prompt = fill_prompt(row, "longbook_qa_eng", "gpt4")
    for budget in (600, 1001):
        text, count, cut = middle_cut(tiny_tokenizer, prompt, task._wrap, True, budget)
        assert cut and count == budget == tiny_tokenizer.count(task._wrap(text), True)
        assert text.startswith("Read the book below and answer a question.\n\nSENSE AND SENSIBILITY")
        assert text.endswith("Question: Where was the residence of the Dashwood family?\n\nBe very concise.")
        # truncate_input's halves: the first keep//2 and the last keep - keep//2 content tokens, decoded at once
        ids = tiny_tokenizer.encode(prompt)
        keep = len(tiny_tokenizer.encode(text))
        head, tail = keep // 2, keep - keep // 2
        assert text == tiny_tokenizer.decode(ids[:head] + ids[len(ids) - tail :])
    assert middle_cut(tiny_tokenizer, prompt, task._wrap, True, 10**6)[2] is False  # fits: left whole


def test_every_task_fits_the_length_rule_and_math_calc_is_skipped_below_its_budget(tiny_tokenizer, capsys):
    for dataset in DATASETS:
        context = _context(tiny_tokenizer, (2048, 4096), samples=3)
        samples = _task(dataset).build(context)
        for sample in samples:
            assert sample.input_tokens + sample.max_new_tokens <= sample.target_length
            if sample.truncated:  # the seam may cost a token or two (Chinese)
                assert sample.input_tokens + sample.max_new_tokens >= sample.target_length - 2
            assert sample.metadata["full_length_bucket"] == "<32k" and sample.metadata["data_source"] == "fixture"
        if dataset == "math_calc":
            assert samples == [] and context.skipped == {
                ("infinitebench_math_calc", 2048): 1,
                ("infinitebench_math_calc", 4096): 1,
            }
    assert "30000 new tokens leave no room for a prompt" in capsys.readouterr().err


def test_truncation_none_skips_what_does_not_fit(tiny_tokenizer):
    context = _context(tiny_tokenizer, (2048, 8192), samples=2)
    samples = _task("longbook_qa_eng", truncation="none").build(context)
    assert [s.target_length for s in samples] == [8192, 8192]
    assert context.skipped == {("infinitebench_longbook_qa_eng", 2048): 2}


def test_the_retrieval_fixtures_are_built_by_the_original_construction():
    for dataset, build in SYNTHETIC_FIXTURES.items():
        assert read_jsonl(fixture_path(dataset)) == build()
    needle = SYNTHETIC_FIXTURES["number_string"]()[1]
    key = needle["answer"][0]
    assert (
        len(key) == 10 and f"The sequence of digits is {key}. Remember it. {key} is the sequence" in needle["context"]
    )
    kv = SYNTHETIC_FIXTURES["kv_retrieval"]()[2]
    assert kv["context"].startswith('JSON data:\n{"') and f'": "{kv["answer"][0]}"' in kv["context"]
    assert needle["input"] == "What is the sequence of digits?"


def test_loader_reads_the_published_layout_and_refuses_bad_files(tmp_path):
    rows = [{"id": 7, "context": "ctx", "input": "What is the pass key?", "answer": ["12345"], "options": []}]
    (tmp_path / "passkey.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    records, source = load_records(str(tmp_path), "passkey")
    assert records[0]["id"] == 7 and source == str(tmp_path / "passkey.jsonl")

    bad = tmp_path / "bad" / "kv_retrieval.jsonl"
    bad.parent.mkdir()
    bad.write_text(json.dumps(rows[0]) + "\n{not json\n")
    with pytest.raises(UsageError) as error:
        load_records(str(bad.parent), "kv_retrieval")
    assert str(error.value) == f"{bad}:2 is not valid JSON" and "\n" not in str(error.value)

    choice = tmp_path / "choice.jsonl"
    choice.write_text(json.dumps({"context": "c", "input": "q", "answer": ["E"], "options": ["A", "B", "C", "D"]}))
    with pytest.raises(UsageError, match=r"choice.jsonl:1: answer 'E' is not one of its options"):
        load_records(str(choice), "longbook_choice_eng")
    with pytest.raises(UsageError, match="download_dataset.sh"):
        load_records(str(tmp_path), "code_run")  # the folder has no code_run.jsonl


def test_offline_auto_falls_back_to_the_fixture_but_not_under_a_paper_protocol(capsys):
    load_records.cache_clear()
    records, source = load_records("auto", "passkey")
    assert source == "fixture" and len(records) == 3
    assert "using the shipped fixture" in capsys.readouterr().err
    with fixture_policy("paper", allowed=False), pytest.raises(UsageError, match="needs the real data"):
        load_records("auto", "passkey")


def test_the_suite_runs_end_to_end_on_the_fixtures(tiny_model_dir, tmp_path):
    from tests.e2e.test_cli import lc_bench, records

    result = lc_bench(
        "run",
        "--suite",
        "infinitebench",
        "--runner",
        "echo",
        "--model",
        str(tiny_model_dir),
        "--lengths",
        "2k,4k",
        "--samples",
        "1",
        "--out",
        str(tmp_path),
        "--name",
        "ib",
    )
    rows = records(tmp_path / "ib")
    assert len({r["task"] for r in rows}) == 11  # Math.Calc's 30000 new tokens fit neither length
    assert len(rows) == 22 and all(r["completion"]["error"] is None for r in rows)
    assert all(r["input_tokens"] + r["max_new_tokens"] <= r["target_length"] for r in rows)
    assert all(r["family"] == "infinitebench" and r["metadata"]["data_source"] == "fixture" for r in rows)
    passkey = [r for r in rows if r["task"] == "infinitebench_passkey"]
    assert [r["score"] for r in passkey] == [100.0, 100.0]  # echo repeats the needle first
    assert "## infinitebench" in result.stdout


def test_a_missing_data_path_is_one_line():
    with pytest.raises(UsageError, match=r"^InfiniteBench data /nonexistent/ib not found; get the data with"):
        load_records("/nonexistent/ib", "passkey")


@pytest.mark.integration
def test_exact_lengths_with_the_real_tokenizer(smollm2_tokenizer):
    for dataset in ("longbook_qa_eng", "longbook_qa_chn", "kv_retrieval", "code_debug"):
        for prompt_set in ("gpt4", "open"):
            samples = _task(dataset, prompt_set=prompt_set).build(_context(smollm2_tokenizer, (1024, 2048)))
            assert samples[0].target_length == 1024 and samples[0].truncated
            for sample in samples:
                assert sample.input_tokens == smollm2_tokenizer.count(sample.messages, sample.use_chat_template)
                total = sample.input_tokens + sample.max_new_tokens
                assert sample.target_length - 2 <= total <= sample.target_length if sample.truncated else total <= 2048


def test_paper_truncation_is_the_original_fixed_cut(tiny_tokenizer, capsys):
    from lc_bench.tasks.infinitebench_prompts import fill_prompt
    from lc_bench.tasks.longbench import raw_prompt_ids

    row = read_jsonl(fixture_path("longbook_qa_eng"))[0]
    # open (truncate_by_tokens): tok.encode with its BOS, the first and last 250 ids, decoded together
    sample = _task("longbook_qa_eng", prompt_set="open", truncation="paper", max_length=500).build(
        _context(tiny_tokenizer, (2048,))
    )[0]
    ids = raw_prompt_ids(tiny_tokenizer, fill_prompt(row, "longbook_qa_eng", "open"))
    assert sample.messages[0].content == tiny_tokenizer.hf.decode(ids[:250] + ids[-250:], skip_special_tokens=True)
    assert sample.truncated and sample.target_length == 2048 and sample.metadata["max_length"] == 500
    # gpt4 (create_msgs): input[:n // 2] + input[-n // 2:], so an odd n keeps one more at the end
    sample = _task("longbook_qa_eng", truncation="paper", max_length=501).build(_context(tiny_tokenizer, (512,)))[0]
    ids = tiny_tokenizer.encode(fill_prompt(row, "longbook_qa_eng", "gpt4"))
    assert sample.messages[1].content == tiny_tokenizer.decode(ids[:250] + ids[-251:])
    assert sample.input_tokens + sample.max_new_tokens > 512  # not subtracted: kept, and said
    assert "kept as the original keeps them" in capsys.readouterr().err


def test_a_parquet_copy_reads_as_the_jsonl(tmp_path):
    import pandas as pd

    rows = read_jsonl(fixture_path("kv_retrieval"))
    pd.DataFrame(rows).to_parquet(tmp_path / "kv_retrieval.parquet")
    records, _ = load_records(str(tmp_path), "kv_retrieval")
    assert [{k: v for k, v in r.items() if k != "id"} for r in records] == [
        {k: v for k, v in r.items() if k != "id"} for r in rows]
