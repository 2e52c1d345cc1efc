"""L-Eval (OpenLMLab/LEval): metrics by hand (the expected values are what the original
Evaluation/auto_eval.py, em.py, f1.py and rouge.py give on the same inputs), the published prompts,
both truncations, the loader, the judge plan, and the suite end to end with the echo runner."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.schema import Completion, Request
from lc_bench.scoring.leval import (
    closed_score,
    exact_match_score,
    f1_score,
    open_score,
    process_gt_code,
    process_gt_mc,
    process_math,
    process_output_code,
    process_output_mc,
)
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.datafiles import fixture_policy
from lc_bench.tasks.leval_config import JUDGE_SYSTEM, SYSTEM_PROMPTS
from lc_bench.tasks.leval_data import load_documents
from lc_bench.tasks.leval_fit import paper_cut, paper_max_length
from lc_bench.tasks.leval_judge import LEvalPairwiseJudge, judge_prompt, match_scores
from lc_bench.tasks.leval_report import length_class

# --- metrics (each expected value is the original's on the same input) ------------------------------


@pytest.mark.parametrize(
    ("output", "reference", "letters", "score"),
    [
        ("AB", "AB", "AB", 100.0),
        ("A", "AB", "A", 25.0),  # a proper subset of the right options: 0.25
        ("The answers are A and C.", "AC", "AC", 100.0),  # letters before a space or a period
        ("B, D", "BD", "B", 25.0),  # "D" at the very end is not followed by [\s.)]: only B is read
        ("", "B", "None", 0.0),
        ("none of them", "C", "A", 0.0),  # no option letter: the original's guess, "A"
    ],
)
def test_coursera_reads_multiple_answers_as_auto_eval_does(output, reference, letters, score):
    assert process_output_mc(output, coursera=True) == letters
    assert closed_score("coursera", output, reference) == {"exact_match": score}


@pytest.mark.parametrize(
    ("task", "output", "reference", "score"),
    [
        ("quality", "(B) A storm", "(B) A storm was coming", 100.0),  # the reference's first word: "(B)" -> B
        ("quality", "I think so", "(A) The engine failed", 100.0),  # no letter A-D: read as "A" (compat)
        ("quality", "I think so", "(B) x", 0.0),
        ("tpo", "Based on the text, C", "C", 0.0),  # the first capital A-D anywhere: the B of "Based"
    ],
)
def test_single_choice_tasks_take_the_first_option_letter(task, output, reference, score):
    assert closed_score(task, output, reference) == {"exact_match": score}


def test_strict_mode_drops_the_random_guess():
    assert process_output_mc("I think so", coursera=False, mode="strict") == "None"
    assert closed_score("quality", "I think so", "(A) x", mode="strict") == {"exact_match": 0.0}
    assert process_gt_mc("(C) text") == "C" and process_gt_mc("no letter") == "A"


@pytest.mark.parametrize(
    ("output", "reference", "digits", "score"),
    [
        ("So she makes 9 x 2 = $18 a day.\nThe answer is $18.", "9 x 2 = 18\nThe answer is 18", "18", 100.0),
        ("The answer is 1,080.", "The answer is 1080", "1080", 100.0),
        ("She pays 40 dollars.\n\nThen 50", "40", "40", 100.0),  # no "The answer is": last number of paragraph 1
        ("no number", "7", "", 0.0),
    ],
)
def test_gsm100_compares_the_answers_numbers(output, reference, digits, score):
    assert process_math(output) == digits
    assert closed_score("gsm100", output, reference) == {"exact_match": score}


@pytest.mark.parametrize(
    ("output", "reference", "read", "score"),
    [
        ("The final output of the code is `[5 7 9]`.", "[5 7 9]", "The final output `[5 7 9]`.", 100.0),
        ("So the final output will be 3.", "3", " 3.", 100.0),  # " 3." reads as the number 3
        ("It prints [5, 7, 9]", "[5 7 9]", "It prints [5 7 9]", 100.0),
        ("the result is 4", "3", "the result 4", 0.0),
    ],
)
def test_codeu_extracts_the_output_as_auto_eval_does(output, reference, read, score):
    assert process_output_code(output, reference) == read and process_gt_code(reference) == reference
    assert closed_score("codeU", output, reference) == {"exact_match": score}


def test_topic_retrieval_counts_the_topic_inside_the_output():
    assert closed_score(
        "topic_retrieval_longchat", 'The first topic was "The history of tea."', "The history of tea"
    ) == {"exact_match": 100.0}
    assert closed_score("topic_retrieval_longchat", "We talked about tea.", "The history of tea")["exact_match"] == 0
    assert exact_match_score("12.0", "12") == 1.0  # numbers compare as floats


def test_sci_fi_scores_loyalty_and_fact_separately():
    reference = "True [fact: False]"
    assert closed_score("sci_fi", "True.", reference, "loyalty") == {"exact_match": 100.0}
    assert closed_score("sci_fi", "false", reference, "fact") == {"exact_match": 100.0}
    assert closed_score("sci_fi", "It is untrue", reference, "fact") == {"exact_match": 0.0}  # "untrue" holds "true"
    assert closed_score("sci_fi", "I cannot tell", reference, "loyalty") == {"exact_match": 0.0}  # <error>


def test_f1_and_rouge_by_hand():
    # "the cat sat on the mat" -> cat sat on mat (4 tokens); "A cat sat" -> cat sat: P 1/2, R 1, F1 2/3
    assert f1_score("The cat sat on the mat", "A cat sat") == pytest.approx(2 / 3)
    assert open_score("f1", "Nothing here", "A cat sat") == {"f1": 0.0}
    rouge = open_score("rouge", "the cat sat on the mat", "the cat sat")
    # unigrams: 3 of 6 predicted, 3 of 3 reference -> F 2/3; bigrams: 2 of 5, 2 of 2 -> F 4/7; LCS 3 -> 2/3
    assert rouge["rouge_1"] == pytest.approx(200 / 3) and rouge["rouge_l"] == pytest.approx(200 / 3)
    assert rouge["rouge_2"] == pytest.approx(400 / 7)


# --- prompts ------------------------------------------------------------------------------------------


def _build(name: str, tokenizer, params: dict | None = None, lengths=(4096,), samples: int = 1):
    task = make_task(TASKS.get(name), {"data": "fixture", **(params or {})})
    return task, task.build(BuildContext(tokenizer, lengths, (), samples, 0))


def test_closed_ended_prompt_is_the_reference_scripts(tiny_tokenizer):
    _, (sample,) = _build("leval_quality", tiny_tokenizer)
    row = load_documents("fixture", "quality")[0][0]
    system, user = sample.messages
    assert system.role == "system" and system.content == SYSTEM_PROMPTS["exam"]
    assert system.content.startswith("Now you are given a very long document.") and "sinlge" in system.content
    assert user.content == (
        f"Document is as follows. {row['input']} Question: {row['instructions'][0]} \n"
        "Please directly give answer without any additional output or explanation\n Answer: "
    )
    assert sample.max_new_tokens == 512 and sample.references == (row["outputs"][0],)
    assert sample.input_tokens == tiny_tokenizer.count(sample.messages) and not sample.truncated
    _, (gsm,) = _build("leval_gsm100", tiny_tokenizer)
    gsm_row = load_documents("fixture", "gsm100")[0][0]
    assert gsm.messages[1].content == gsm_row["input"] + "\n\n" + gsm_row["instructions"][0]
    assert gsm.messages[0].content.startswith("Given several question answer pairs")


def test_open_ended_prompt_carries_the_length_instruction(tiny_tokenizer):
    _, (sample,) = _build("leval_news_summ", tiny_tokenizer)
    row = load_documents("fixture", "news_summ")[0][0]
    words = len(row["outputs"][0].split())
    assert sample.messages[0].content == SYSTEM_PROMPTS["open"]
    assert sample.messages[1].content == (
        f"Document is as follows. {row['input']} Instruction: "
        f"{row['instructions'][0]} The suggested output length is around "
        f"{words} words. Output: "
    )
    assert sample.metadata["reference_words"] == words and sample.metadata["length_class"] == "0-4k"
    _, (plain,) = _build("leval_news_summ", tiny_tokenizer, {"length_instruction": False})
    assert plain.messages[1].content.endswith(f"Instruction: {row['instructions'][0]} Output: ")


def test_sci_fi_asks_the_fact_question_without_the_document(tiny_tokenizer):
    _, samples = _build("leval_sci_fi", tiny_tokenizer)
    loyalty, fact = samples
    assert (loyalty.metadata["part"], fact.metadata["part"]) == ("loyalty", "fact")
    assert fact.sample_id == loyalty.sample_id + "-fact" and len(fact.messages) == 1
    assert fact.messages[0].content.endswith(
        "Answer this question based on the real-world knowledge and facts up until your last training"
        "\nPlease directly give answer without any additional output or explanation \nAnswer:"
    )
    _, only = _build("leval_sci_fi", tiny_tokenizer, {"fact_check": False})
    assert len(only) == 1


def test_subsets_follow_the_records_evaluation_and_questions_alternate_documents(tiny_tokenizer):
    task = make_task(TASKS.get("leval_financial_qa"), {"data": "fixture"})
    rows, _ = load_documents("fixture", "financial_qa")  # document 0: f1 (2 questions); 1: LLM (1)
    assert task.questions(rows, 10) == [(0, 0), (0, 1)]
    assert make_task(TASKS.get("leval_financial_qa"), {"subset": "llm_gpt4_eval"}).questions(rows, 10) == [(1, 0)]
    assert make_task(TASKS.get("leval_financial_qa"), {"subset": "all"}).questions(rows, 10) == [(0, 0), (1, 0), (0, 1)]


# --- truncation ---------------------------------------------------------------------------------------


class WordTokenizer:
    """One token per space-separated word, plus a BOS when special tokens are added."""

    def prompt_ids(self, messages, use_chat_template=True, answer_prefix=""):
        return [0] + [1] * len("".join(m.content for m in messages).split(" "))


def test_paper_cut_is_the_originals_word_chunk_loop():
    document = " ".join(f"w{i}" for i in range(1000))
    # 1001 tokens > 300: first 300 words (301 tokens: still over); then cnt = 250: the first 50 of those
    cut, truncated = paper_cut(WordTokenizer(), document, 300, keep_end=False)
    assert truncated and cut == " ".join(f"w{i}" for i in range(50))
    cut, _ = paper_cut(WordTokenizer(), document, 300, keep_end=True)  # codeU keeps the end
    assert cut == " ".join(f"w{i}" for i in range(950, 1000))
    assert paper_cut(WordTokenizer(), "a b c", 300, keep_end=False) == ("a b c", False)
    assert paper_max_length(4096, 512) == 3488 and paper_max_length(16384, 512) == 15488


def _long_folder(tmp_path: Path, task: str, group: str, words: int = 1500) -> Path:
    folder = tmp_path / "LEval-data" / group
    folder.mkdir(parents=True)
    document = " ".join(f"word{i % 97} fact{i}" for i in range(words))
    row = {
        "input": document,
        "instructions": ["Summarize it.", "What is fact7?"],
        "outputs": ["A list of facts.", "seven"],
        "evaluation": "rouge",
        "source": "t",
    }
    (folder / f"{task}.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    return tmp_path


def test_document_truncation_fills_the_length_and_keeps_the_beginning(tiny_tokenizer, tmp_path):
    root = _long_folder(tmp_path, "gov_report_summ", "Open-ended-tasks")
    _, samples = _build("leval_gov_report_summ", tiny_tokenizer, {"data": str(root)}, lengths=(2048, 4096))
    document = load_documents(str(root), "gov_report_summ")[0][0]["input"]
    for sample in samples:
        assert sample.truncated and sample.input_tokens == tiny_tokenizer.count(sample.messages)
        assert sample.target_length - 8 <= sample.input_tokens + sample.max_new_tokens <= sample.target_length
        kept = sample.messages[1].content.removeprefix("Document is as follows. ").split(" Instruction:")[0]
        assert document.startswith(kept[:200]) and kept[:200] == document[:200]
        whole = len(tiny_tokenizer.encode(document))  # the whole document's tokens, not the cut ones
        assert sample.metadata["doc_tokens"] == whole > 4096 and sample.metadata["length_class"] == length_class(whole)
    middle = _build("leval_gov_report_summ", tiny_tokenizer, {"data": str(root), "truncation": "middle"})[1][0]
    assert middle.messages[1].content.split(" Instruction:")[0].endswith(document[-100:])


def test_codeu_keeps_the_end_and_paper_truncation_counts_the_document_only(tiny_tokenizer, tmp_path):
    root = _long_folder(tmp_path, "codeU", "Closed-ended-tasks")
    row = load_documents(str(root), "codeU")[0][0]
    _, samples = _build("leval_codeu", tiny_tokenizer, {"data": str(root)}, lengths=(2048,))
    assert samples[0].messages[1].content.split("\n\n")[0].endswith(row["input"][-200:])
    _, paper = _build("leval_codeu", tiny_tokenizer, {"data": str(root), "truncation": "paper"}, lengths=(4096,))
    expected, _ = paper_cut(tiny_tokenizer, row["input"], 4000 - 512, keep_end=True)
    assert paper[0].messages[1].content == expected + "\n\n" + row["instructions"][0]
    assert paper[0].metadata["max_length"] == 3488 and paper[0].truncated


# --- data ---------------------------------------------------------------------------------------------


def test_the_loader_reads_the_published_layout(tmp_path):
    root = _long_folder(tmp_path, "news_summ", "Open-ended-tasks", words=10)
    rows, source = load_documents(str(root), "news_summ")  # the repository root (LEval-data/ below it)
    assert source == str(root) and rows[0]["outputs"] == ["A list of facts.", "seven"]
    assert load_documents(str(root / "LEval-data"), "news_summ")[0] == rows
    assert load_documents(str(root / "LEval-data" / "Open-ended-tasks"), "news_summ")[0] == rows
    assert load_documents(str(root / "LEval-data" / "Open-ended-tasks" / "news_summ.jsonl"), "news_summ")[0] == rows


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"input": "x"\n', "is not valid JSON"),
        ('{"input": "x", "instructions": ["q"], "outputs": ["a"]}\n', "lacks evaluation"),
        (
            '{"input": "x", "instructions": "q", "outputs": ["a"], "evaluation": "exam"}\n',
            "should be a list of strings",
        ),
        (
            '{"input": "x", "instructions": ["q", "r"], "outputs": ["a"], "evaluation": "exam"}\n',
            "2 instructions but 1",
        ),
        ('{"input": "x", "instructions": ["q"], "outputs": ["True"], "evaluation": "exam"}\n', "without its [fact"),
        ("", "holds no records"),
    ],
)
def test_a_malformed_file_is_one_line(tmp_path, content, problem):
    path = tmp_path / "sci_fi.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_documents(str(path), "sci_fi")
    assert problem in str(caught.value) and "\n" not in str(caught.value)


def test_missing_data_says_how_to_get_it(tmp_path):
    with pytest.raises(UsageError) as caught:
        load_documents(str(tmp_path), "tpo")
    message = str(caught.value)
    assert "holds no tpo.jsonl" in message and "L4NLP/LEval" in message and "\n" not in message
    with pytest.raises(UsageError, match="not found.*OpenLMLab/LEval"):
        load_documents(str(tmp_path / "tpo.jsonl"), "tpo")


def test_auto_falls_back_to_the_fixture_except_under_the_paper_protocol(capsys):
    load_documents.cache_clear()
    rows, source = load_documents("auto", "tpo")  # the tests run offline
    assert source == "fixture" and len(rows) == 2
    assert "using the shipped L-Eval fixture" in capsys.readouterr().err
    with fixture_policy("leval-paper", allowed=False), pytest.raises(UsageError, match="needs the real data"):
        load_documents("auto", "tpo")


# --- judge --------------------------------------------------------------------------------------------


def test_the_judge_prompt_and_win_rate_are_llm_evals():
    prompt = judge_prompt("Q?", "REF", "ANSWER A", "ANSWER B")
    assert prompt.startswith("[User Question]\nQ?\n\n[The Start of Reference Answer]\nREF\n")
    assert LEvalPairwiseJudge.system_prompt == JUDGE_SYSTEM  # sent as the system message before it
    assert prompt.endswith("[The Start of Assistant B's Answer]\nANSWER B\n[The End of Assistant B's Answer]")
    assert "Additional details or information that are not mentioned in reference answer" in JUDGE_SYSTEM
    assert match_scores("[[A]]", "[[B]]")["judge_win_rate"] == 100.0  # won both orders
    assert match_scores("[[A]]", "[[A]]")["judge_win_rate"] == 50.0  # position A won twice: one each
    tie = match_scores("Verdict: [[C]]", "no verdict")  # the error game is dropped
    assert tie == {"judge_win_rate": 50.0, "judge_wins": 0.0, "judge_ties": 1.0, "judge_games": 1.0}
    assert match_scores("??", "??") is None


def test_the_judge_battles_a_prediction_file(tiny_tokenizer, tmp_path):
    rows, _ = load_documents("fixture", "narrative_qa")
    question, gt = rows[0]["instructions"][0], rows[0]["outputs"][0]
    battle = tmp_path / "turbo.pred.jsonl"
    battle.write_text(json.dumps({"query": question, "gt": gt, "turbo-16k-0613_pred": "OPPONENT"}) + "\n")
    _, samples = _build("leval_narrative_qa", tiny_tokenizer, {"battle_with": str(battle)}, samples=2)
    record = {"metadata": samples[0].metadata, "completion": {"text": "MINE"}}
    first, second = LEvalPairwiseJudge().prompts(record)
    assert "[The Start of Assistant A's Answer]\nMINE\n" in first and "Answer]\nOPPONENT\n" in first
    assert "[The Start of Assistant A's Answer]\nOPPONENT\n" in second
    unmatched = {"metadata": samples[1].metadata, "completion": {"text": "MINE"}}
    assert LEvalPairwiseJudge().prompts(unmatched) == []  # llm_eval.py skips a question the file lacks


# --- end to end ---------------------------------------------------------------------------------------


class VerdictJudge:
    """A judge runner that always answers "[[A]]"."""

    name = "verdicts"

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def generate(self, requests: Sequence[Request]) -> Iterator[Completion]:
        for request in requests:
            self.requests.append(request)
            yield Completion(key=request.key, text="Both are close. [[A]]")


def test_the_suite_runs_end_to_end_with_the_echo_runner_and_is_judged(tiny_model_dir, tmp_path):
    from typer.testing import CliRunner

    from lc_bench.cli import app
    from lc_bench.judge import judge_run

    args = ["run", "--suite", "leval", "--model", str(tiny_model_dir), "--lengths", "2k,4k", "--samples", "1"]
    result = CliRunner().invoke(app, [*args, "--runner", "echo", "--out", str(tmp_path), "--name", "lv"])
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "lv"
    rows = [json.loads(line) for line in (run_dir / "records.jsonl").open()]
    assert len(rows) == 2 * (20 + 1)  # one question per task and length, plus sci_fi's fact question
    assert {row["family"] for row in rows} == {"leval"} and len({row["task"] for row in rows}) == 20
    for row in rows:
        assert row["input_tokens"] + row["max_new_tokens"] <= row["target_length"]
        assert row["max_new_tokens"] == 512 and not row["completion"].get("error")
    reports = json.loads((run_dir / "manifest.json").read_text())["task_reports"]
    assert [axis["field"] for axis in reports["leval_sci_fi"]["axes"]["labels"]] == ["length_class", "part"]
    judge = VerdictJudge()
    summary = judge_run(run_dir, judge, "judge-model")
    assert (summary.judged, summary.failures) == (26, 0)  # 13 open-ended tasks x 2 lengths
    assert len(judge.requests) == 52 and judge.requests[0].max_new_tokens == 2048
    latest = {}
    for row in map(json.loads, (run_dir / "records.jsonl").open()):
        latest[row["sample_id"]] = row
    judged = [row for row in latest.values() if row["task"] == "leval_news_summ"]
    assert all(row["scores"]["judge_win_rate"] == 50.0 for row in judged)
    assert all(row["score"] == row["scores"]["rouge_l"] for row in judged)


def test_the_paper_suite_sets_the_originals_truncation():
    from lc_bench.suites.loader import load_suite

    suite = load_suite("leval-paper")
    assert suite.protocol == "leval-paper" and suite.changes and "\n" not in suite.changes
    assert len(suite.tasks) == 20 and all(suite.task_params[t] == {"truncation": "paper"} for t in suite.tasks)
    assert load_suite("leval").tasks == suite.tasks and all(t in TASKS.names() for t in suite.tasks)


@pytest.mark.integration
def test_document_truncation_is_exact_with_a_real_tokenizer(smollm2_tokenizer, tmp_path):
    root = _long_folder(tmp_path, "meeting_summ", "Open-ended-tasks")
    _, samples = _build("leval_meeting_summ", smollm2_tokenizer, {"data": str(root)}, lengths=(2048, 8192))
    for sample in samples:
        assert sample.input_tokens == smollm2_tokenizer.count(sample.messages)
        assert sample.target_length - 4 <= sample.input_tokens + sample.max_new_tokens <= sample.target_length


def test_a_parquet_copy_of_a_task_file_reads_as_the_jsonl(tmp_path):
    import pandas as pd

    from lc_bench.tasks.datafiles import read_jsonl
    from lc_bench.tasks.leval_data import fixture_path

    rows = read_jsonl(fixture_path("coursera"))
    (tmp_path / "Closed-ended-tasks").mkdir()
    pd.DataFrame(rows).to_parquet(tmp_path / "Closed-ended-tasks" / "coursera.parquet")
    documents, source = load_documents(str(tmp_path), "coursera")
    published, _ = load_documents(str(fixture_path("coursera")), "coursera")
    assert len(documents) == len(rows) and list(documents) == list(published) and source == str(tmp_path)
