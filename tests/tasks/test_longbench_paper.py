# ruff: noqa: E501 - the official prompt files' long last lines are kept whole
"""The LongBench paper presets: pred.py's truncation (v1 and v2, special tokens counted), v2's empty
replies left out of the accuracy, its no_context and rag prompts, and both suites end to end.

Truncation is shown on a character tokenizer: every ASCII character is one token and the
tokenizer adds a BOS (`<s>`) to plain text, as Llama's does, so the kept text can be computed by
hand from the prompt's characters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.suites.loader import load_suite
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.longbench import raw_prompt_ids
from lc_bench.tasks.longbench_config import PROMPTS, task_name
from lc_bench.tasks.longbench_v2 import PROMPT_NO_CONTEXT, PROMPT_RAG, load_questions

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 4  # 104 characters of context

# prompts/0shot_no_context.txt and prompts/0shot_rag.txt (THUDM/LongBench 2e00731), as the files hold them
NO_CONTEXT_FILE = """What is the correct answer to this question: $Q$
Choices:
(A) $C_A$
(B) $C_B$
(C) $C_C$
(D) $C_D$

What is the single, most likely answer choice? Format your response as follows: "The correct answer is (insert answer here)"."""
RAG_FILE = """Please read the following retrieved text chunks and answer the question below.

<text>
$DOC$
</text>

What is the correct answer to this question: $Q$
Choices:
(A) $C_A$
(B) $C_B$
(C) $C_C$
(D) $C_D$

Format your response as follows: "The correct answer is (insert answer here)"."""


@pytest.fixture(scope="module")
def chars():
    """One token per byte, a BOS added to plain text, and llama2's pred.py chat format."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    from lc_bench.tokenizers import ModelTokenizer

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    raw = Tokenizer(models.BPE(vocab={"<s>": 0, "</s>": 1, **{c: i + 2 for i, c in enumerate(alphabet)}}, merges=[]))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    raw.decoder = decoders.ByteLevel()
    raw.add_special_tokens(["<s>", "</s>"])
    raw.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 0)])
    hf = PreTrainedTokenizerFast(tokenizer_object=raw, bos_token="<s>", eos_token="</s>")
    hf.chat_template = "{{ bos_token }}[INST]{{ messages[0]['content'] }}[/INST]"
    return ModelTokenizer(hf, "chars")


def v1_data(tmp_path: Path, dataset: str, question: str) -> str:
    path = tmp_path / f"{dataset}.jsonl"
    path.write_text(json.dumps({
        "input": question, "context": LETTERS, "answers": ["Z"], "length": 20, "dataset": dataset,
        "language": "en", "all_classes": None, "_id": "r1",
    }) + "\n", encoding="utf-8")
    return str(path)


def v2_data(tmp_path: Path, name: str = "questions.jsonl", **extra) -> str:
    path = tmp_path / name
    row = {"_id": "q1", "domain": "d", "difficulty": "easy", "length": "short", "question": "Which letter?",
           "choice_A": "A", "choice_B": "B", "choice_C": "C", "choice_D": "D", "answer": "B", "context": LETTERS,
           **extra}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return str(path)


def build_v1(tokenizer, dataset, data, lengths=(1024,), **params):
    task = make_task(TASKS.get(task_name(dataset)), {"data": data, "truncation": "paper", **params})
    return task.build(BuildContext(tokenizer, lengths, (), 10, 0))


def test_v1_paper_truncation_keeps_the_first_and_last_halves_bos_counted(chars, tmp_path):
    data = v1_data(tmp_path, "hotpotqa", "Who?")
    prompt = PROMPTS["hotpotqa"].format(context=LETTERS, input="Who?")
    ids = raw_prompt_ids(chars, prompt)
    assert len(prompt) == 380 and len(ids) == 381 and ids[0] == 0  # <s> + one id per character

    # max_length 61: int(61/2) = 30 ids from each end; the head's 30 are <s> and 29 characters
    [sample] = build_v1(chars, "hotpotqa", data, max_length=61)
    assert sample.messages[0].content == "Answer the question based on words.\n\nQuestion: Who?\nAnswer:"
    assert prompt[:29] == "Answer the question based on " and prompt[-30:] == "words.\n\nQuestion: Who?\nAnswer:"
    # then the chat template (hotpotqa is not among pred.py's no-template datasets)
    assert chars.render(sample.messages, sample.use_chat_template) == (
        "<s>[INST]Answer the question based on words.\n\nQuestion: Who?\nAnswer:[/INST]"
    )
    assert sample.input_tokens == 1 + len("[INST]") + 59 + len("[/INST]") == 73
    assert sample.truncated and sample.target_length == 1024 and sample.max_new_tokens == 32
    assert sample.metadata["max_length"] == 61 and sample.metadata["truncation"] == "paper"
    # 60 keeps the same 30 + 30
    assert build_v1(chars, "hotpotqa", data, max_length=60)[0].messages == sample.messages

    # the BOS counts: 381 ids fit max_length 381 untouched, and 380 cuts (<s> + 189 characters, 190 characters)
    [whole] = build_v1(chars, "hotpotqa", data, max_length=381)
    assert whole.messages[0].content == prompt and not whole.truncated
    [cut] = build_v1(chars, "hotpotqa", data, max_length=380)
    assert cut.messages[0].content == prompt[:189] + prompt[-190:] and cut.truncated


def test_v1_paper_truncation_on_a_dataset_without_the_chat_template(chars, tmp_path):
    data = v1_data(tmp_path, "samsum", "Dialogue: Hi\nSummary: ")
    [sample] = build_v1(chars, "samsum", data, max_length=61)
    assert sample.messages[0].content == "Summarize the dialogue into aUVWXYZ\n\nDialogue: Hi\nSummary: "
    assert not sample.use_chat_template
    assert chars.render(sample.messages, False) == sample.messages[0].content
    assert sample.input_tokens == 1 + 59  # the tokenizer's <s> and the characters
    assert sample.stop_tokens == ("\n",) and sample.min_new_tokens == 1


def test_v1_paper_default_max_length_is_model2maxlen_rule(tiny_tokenizer):
    samples = build_v1(tiny_tokenizer, "gov_report", "fixture", lengths=(1024, 4096))
    by_length = {s.target_length: s for s in samples}
    assert by_length[1024].metadata["max_length"] == 500 and by_length[4096].metadata["max_length"] == 3500
    cut = by_length[1024]
    assert cut.truncated
    # 250 ids from each end of the raw prompt, then the chat template around them
    template = tiny_tokenizer.count(cut.messages, True) - len(tiny_tokenizer.encode(cut.messages[0].content))
    assert cut.input_tokens <= 500 + template + 2  # re-tokenising the seam may merge or split a token
    assert cut.messages[0].content.endswith("Now, write a one-page summary of the report.\n\nSummary:")


def test_v1_paper_keeps_prompts_longer_than_the_length_and_says_so(tiny_tokenizer, capsys):
    [sample] = build_v1(tiny_tokenizer, "gov_report", "fixture", max_length=100000)[:1]
    assert not sample.truncated and sample.input_tokens + sample.max_new_tokens > sample.target_length == 1024
    assert "and their 512 new tokens exceed 1k; kept as pred.py keeps them" in capsys.readouterr().err


def test_v2_paper_truncation_is_per_side_and_ignores_the_output_budget(chars, tmp_path):
    data = v2_data(tmp_path)
    task = make_task(TASKS.get("longbench_v2"), {"data": data, "truncation": "paper", "max_length": 61})
    # pred.py: ids[:61//2] + ids[-61//2:], i.e. <s> + 29 characters, then the last 31 characters
    expected = "Please read the following tex" + 'nswer is (insert answer here)".'
    for max_new in (None, 16, 1000):
        [sample] = task.build(BuildContext(chars, (2048,), (), 1, 0, max_new_tokens=max_new))
        assert sample.messages[0].content == expected
        assert sample.input_tokens == 1 + 6 + 60 + 7 and sample.metadata["max_length"] == 61
    # by default 120000 ids are kept whatever the length: this prompt is never cut
    default = make_task(TASKS.get("longbench_v2"), {"data": data, "truncation": "paper"})
    [sample] = default.build(BuildContext(chars, (2048,), (), 1, 0))
    assert not sample.truncated and sample.metadata["max_length"] == 120000
    # lc_bench's own `middle` fits input + output to the length, so the output budget moves the cut
    middle = make_task(TASKS.get("longbench_v2"), {"data": data})
    short, long = (middle.build(BuildContext(chars, (300,), (), 1, 0, max_new_tokens=n))[0] for n in (16, 100))
    assert short.messages != long.messages and long.input_tokens + 100 <= 300


def test_v2_empty_reply_is_dropped_in_paper_mode_and_zero_by_default():
    paper = make_task(TASKS.get("longbench_v2"), {"data": "fixture", "truncation": "paper", "drop_empty": True})
    assert paper.score("", ("B",), {}) == {"dropped_empty": 1.0}  # no accuracy: the record is unscored
    assert paper.score("  ", ("B",), {}) == {"accuracy": 0.0, "answered": 0.0, "dropped_empty": 0.0}
    assert paper.score("The correct answer is (B)", ("B",), {}) == {
        "accuracy": 100.0, "answered": 100.0, "dropped_empty": 0.0
    }
    default = make_task(TASKS.get("longbench_v2"), {"data": "fixture"})
    assert default.score("", ("B",), {}) == {"accuracy": 0.0, "answered": 0.0}


def test_v2_paper_cot_drops_an_empty_reasoning_without_the_answer_call(tiny_tokenizer):
    cot = make_task(TASKS.get("longbench_v2"), {"data": "fixture", "mode": "cot", "drop_empty": True})
    sample = cot.build(BuildContext(tiny_tokenizer, (4096,), (), 1, 0))[0]
    assert cot.follow_up(sample, "") is None
    assert "Let’s think step by step: Because." in cot.follow_up(sample, " Because. ").messages[0].content


def test_the_prompt_templates_are_the_published_files():
    assert PROMPT_NO_CONTEXT == NO_CONTEXT_FILE
    assert PROMPT_RAG == RAG_FILE


def test_no_context_prompt(tiny_tokenizer):
    task = make_task(TASKS.get("longbench_v2"), {"data": "fixture", "mode": "no_context"})
    sample = task.build(BuildContext(tiny_tokenizer, (4096,), (), 1, 0))[0]
    assert sample.messages[0].content == (
        "What is the correct answer to this question: In which year was the Harlow Street bridge rebuilt?\n"
        "Choices:\n(A) 1952\n(B) 1978\n(C) 1991\n(D) 2004\n\n"
        'What is the single, most likely answer choice? Format your response as follows: '
        '"The correct answer is (insert answer here)".'
    )
    assert sample.max_new_tokens == 128 and not sample.truncated and sample.metadata["mode"] == "no_context"


def test_rag_prompt_takes_the_top_k_chunks_in_document_order(tiny_tokenizer):
    rows, _ = load_questions("fixture")
    chunks = {chunk["c_idx"]: chunk["content"] for chunk in rows[0]["retrieved_context"]}
    assert [chunk["c_idx"] for chunk in rows[0]["retrieved_context"]] == [3, 2, 4, 0]  # ranked by the retriever
    task = make_task(TASKS.get("longbench_v2"), {"data": "fixture", "mode": "rag", "rag_top_k": 3})
    sample = task.build(BuildContext(tiny_tokenizer, (4096,), (), 1, 0))[0]
    # the top 3 (3, 2, 4), sorted by c_idx (2, 3, 4), numbered from 1; chunk 0 (ranked 4th) is left out
    assert sample.messages[0].content == (
        "Please read the following retrieved text chunks and answer the question below.\n\n<text>\n"
        f"Retrieved chunk 1: {chunks[2]}\n\n"
        "Retrieved chunk 2: The Harlow Street bridge was rebuilt in 1978 after a flood damaged its piers.\n\n"
        f"Retrieved chunk 3: {chunks[4]}\n</text>\n\n"
        "What is the correct answer to this question: In which year was the Harlow Street bridge rebuilt?\n"
        "Choices:\n(A) 1952\n(B) 1978\n(C) 1991\n(D) 2004\n\n"
        'Format your response as follows: "The correct answer is (insert answer here)".'
    )
    assert chunks[0] not in sample.messages[0].content
    assert sample.metadata["mode"] == "rag" and sample.metadata["rag_top_k"] == 3


def test_rag_without_retrieval_data_is_a_one_line_usage_error(tiny_tokenizer, tmp_path):
    task = make_task(TASKS.get("longbench_v2"), {"data": v2_data(tmp_path), "mode": "rag", "rag_top_k": 2})
    with pytest.raises(UsageError, match=r"question q1 has no retrieved_context; mode=rag reads") as error:
        task.build(BuildContext(tiny_tokenizer, (4096,), (), 1, 0))
    assert "\n" not in str(error.value) and "THUDM/LongCite utils/retrieve.py" in str(error.value)
    assert "pass data=FILE.json|.jsonl" in str(error.value)
    malformed = v2_data(tmp_path, "bad.jsonl", retrieved_context=[{"content": "x"}])
    bad = make_task(TASKS.get("longbench_v2"), {"data": malformed, "mode": "rag", "rag_top_k": 2})
    with pytest.raises(UsageError, match="chunk 1 should be an object with c_idx"):
        bad.build(BuildContext(tiny_tokenizer, (4096,), (), 1, 0))
    with pytest.raises(UsageError, match="mode=rag and rag_top_k=N"):
        make_task(TASKS.get("longbench_v2"), {"mode": "rag"})
    with pytest.raises(UsageError, match="mode=rag and rag_top_k=N"):
        make_task(TASKS.get("longbench_v2"), {"rag_top_k": 4})


def test_rag_offline_falls_back_to_the_fixture_with_a_warning(tiny_tokenizer, capsys):
    load_questions.cache_clear()
    task = make_task(TASKS.get("longbench_v2"), {"mode": "rag", "rag_top_k": 2})  # data=auto; tests run offline
    samples = task.build(BuildContext(tiny_tokenizer, (4096,), (), 10, 0))
    assert len(samples) == 4 and all(s.metadata["data_source"] == "fixture" for s in samples)
    assert "THUDM/LongBench-v2 unavailable" in capsys.readouterr().err


def test_the_paper_suites_load():
    v1 = load_suite("longbench-paper")
    assert v1.protocol == "longbench-paper" and v1.changes and "\n" not in v1.changes
    assert v1.tasks == load_suite("longbench").tasks
    assert v1.task_params == {task: {"truncation": "paper"} for task in v1.tasks}
    assert v1.generation.temperature == 0.0 and v1.max_new_tokens is None  # greedy, per-dataset budgets
    v2 = load_suite("longbench-v2-paper")
    assert v2.protocol == "longbench-v2-paper" and v2.changes and "\n" not in v2.changes
    assert v2.tasks == ["longbench_v2"] and v2.lengths == "128k" and v2.generation.temperature == 0.1
    assert v2.task_params == {"longbench_v2": {"truncation": "paper", "max_length": 120000, "drop_empty": True}}


def test_longbench_paper_suite_end_to_end(tiny_model_dir, tmp_path):
    from lc_bench.api import evaluate
    from tests.e2e.test_cli import records

    result = evaluate(suite="longbench-paper", runner="echo", model=str(tiny_model_dir), samples=1, lengths="4k",
                      out=tmp_path, name="paper", allow_fixtures=True)
    rows = records(result.run_dir)
    assert len(rows) == 21 and all(r["completion"]["error"] is None for r in rows)
    assert all(r["metadata"]["truncation"] == "paper" and r["metadata"]["max_length"] == 3500 for r in rows)
    assert all(r["target_length"] == 4096 for r in rows)
    assert all(r["protocol"] == "longbench-paper+fixtures" for r in rows)


def test_longbench_v2_paper_suite_end_to_end_drops_empty_replies(tiny_model_dir, tmp_path):
    from lc_bench.api import evaluate
    from tests.e2e.test_cli import records

    script = tmp_path / "script.json"
    script.write_text(json.dumps([
        {"contains": "Harlow Street bridge", "reply": "The correct answer is (B)"},  # right
        {"contains": "dam of Marrow Lake", "reply": "The correct answer is (B)"},  # wrong (C)
        {"contains": "What did the team decide", "reply": ""},  # dropped
        {"contains": "Which bird lays", "reply": ""},  # dropped
    ]))
    result = evaluate(suite="longbench-v2-paper", runner="constant", runner_options={"script": str(script)},
                      model=str(tiny_model_dir), lengths="32k", out=tmp_path, name="v2paper", allow_fixtures=True)
    rows = {r["metadata"]["_id"]: r for r in records(result.run_dir)}
    assert len(rows) == 4 and all(r["completion"]["error"] is None for r in rows.values())
    assert [rows[f"lcbench-v2-{n}"]["score"] for n in range(4)] == [100.0, 0.0, None, None]
    assert rows["lcbench-v2-2"]["scores"] == {"dropped_empty": 1.0}
    assert all(r["max_new_tokens"] == 128 and r["metadata"]["max_length"] == 120000 for r in rows.values())
    assert all(r["protocol"] == "longbench-v2-paper+fixtures" for r in rows.values())
    assert result.records["score"].mean() == 50.0  # over the two written replies, as result.py counts
    board = result.tables["scores"]
    assert board[board["level"] == "task"][32768].tolist() == [50.0]  # the leaderboard's accuracy too
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["config"]["temperature"] == 0.1 and manifest["config"]["protocol"] == "longbench-v2-paper+fixtures"
