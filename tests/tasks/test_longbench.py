"""LongBench v1 tasks: published prompts, exact budgets, the three truncation policies, data loading."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.longbench import fixture_path, load_records
from lc_bench.tasks.longbench_config import DATASETS, PROMPTS, task_name


def build(tokenizer, dataset, lengths=(1024, 2048), **params):
    task = make_task(TASKS.get(task_name(dataset)), {"data": "fixture", **params})
    return task, task.build(BuildContext(tokenizer, lengths, (), 10, 0))


def test_all_21_datasets_are_registered_with_their_metric():
    assert len(DATASETS) == 21
    assert TASKS.get("longbench_repobench_p").primary_metric == "code_sim"
    assert TASKS.get("longbench_multifieldqa_zh").primary_metric == "qa_f1_zh"
    assert TASKS.get("longbench_gov_report").default_max_new_tokens == 512
    assert TASKS.get("longbench_hotpotqa").family == "longbench"


@pytest.mark.parametrize("dataset", ["hotpotqa", "gov_report", "trec", "multifieldqa_zh", "lcc", "passage_count"])
def test_every_prompt_fits_its_budget(tiny_tokenizer, dataset):
    _, samples = build(tiny_tokenizer, dataset)
    assert samples
    for sample in samples:
        assert sample.input_tokens + sample.max_new_tokens <= sample.target_length
        measured = tiny_tokenizer.count(sample.messages, sample.use_chat_template)
        assert measured == sample.input_tokens


def test_middle_truncation_keeps_both_ends(tiny_tokenizer):
    _, samples = build(tiny_tokenizer, "hotpotqa", lengths=(1024,))
    cut = [s for s in samples if s.truncated]
    assert cut, "the fixture's first record exceeds 1k tokens"
    text = cut[0].messages[0].content
    assert text.startswith("Answer the question based on the given passages.")
    assert text.rstrip().endswith("Answer:") and "Question:" in text[-300:]


def test_context_truncation_keeps_the_instructions_and_question(tiny_tokenizer):
    _, samples = build(tiny_tokenizer, "gov_report", lengths=(1024,), truncation="context")
    text = samples[0].messages[0].content
    assert samples[0].truncated
    assert text.startswith("You are given a report by a government agency.")
    assert text.endswith("Now, write a one-page summary of the report.\n\nSummary:")


def test_no_truncation_skips_and_says_so(tiny_tokenizer, capsys):
    _, samples = build(tiny_tokenizer, "hotpotqa", lengths=(1024, 4096), truncation="none")
    assert 4096 in {s.target_length for s in samples}  # everything fits at 4k
    assert not any(s.truncated for s in samples)
    assert "do not fit 1024 tokens (truncation=none); skipped" in capsys.readouterr().err


def test_dataset_settings(tiny_tokenizer):
    _, trec = build(tiny_tokenizer, "trec", lengths=(2048,))
    assert not trec[0].use_chat_template and trec[0].max_new_tokens == 64
    assert trec[0].metadata["all_classes"] and trec[0].references == ("Location",)
    _, hotpot = build(tiny_tokenizer, "hotpotqa", lengths=(2048,))
    assert hotpot[0].use_chat_template and hotpot[0].metadata["length_bucket"] == "0-4k"
    assert PROMPTS["samsum"].endswith("{input}")
    assert hotpot[0].stop == () and hotpot[0].stop_tokens == () and hotpot[0].min_new_tokens == 0


def test_samsum_ends_at_the_newline_token_as_pred_py(tiny_tokenizer):
    """pred.py adds the newline token to eos_token_id with min_length = prompt + 1: a token-level
    stop that cannot end the reply at its first token, not a "\n" stop string."""
    _, samples = build(tiny_tokenizer, "samsum", lengths=(2048,))
    sample = samples[0]
    assert sample.stop == ()
    assert sample.stop_tokens == ("\n",)
    assert sample.min_new_tokens == 1
    assert not sample.use_chat_template and sample.max_new_tokens == 128


def test_scores_are_longbench_scores_x100(tiny_tokenizer):
    task, samples = build(tiny_tokenizer, "trec", lengths=(2048,))
    assert task.score("Location\nHuman", ("Location",), samples[0].metadata) == {"classification": 100.0}
    task, _ = build(tiny_tokenizer, "passage_count", lengths=(2048,))
    assert task.score("3 or 4", ("3",), {}) == {"count": 50.0}


def test_loading_files_and_errors(tmp_path):
    rows = [json.loads(line) for line in fixture_path("trec").read_text(encoding="utf-8").splitlines()]
    parquet = tmp_path / "trec.parquet"
    pd.DataFrame(rows).to_parquet(parquet)
    records, source = load_records(str(parquet), "trec")
    assert len(records) == 2 and records[0]["all_classes"] == rows[0]["all_classes"] and source == str(parquet)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({"input": "q", "context": "c", "dataset": "trec"}) + "\n")
    with pytest.raises(UsageError, match="lacks answers, length, language, all_classes, _id"):
        load_records(str(broken), "trec")
    with pytest.raises(UsageError, match="not found; get the data with"):
        load_records(str(tmp_path / "missing.jsonl"), "trec")
    with pytest.raises(UsageError, match="no shipped LongBench fixture for lsht_v9"):
        load_records("fixture", "lsht_v9")


def test_the_longbench_suites_run_end_to_end_on_the_fixtures(tiny_model_dir, tmp_path):
    from tests.e2e.test_cli import lc_bench, records

    for suite, tasks in (("longbench", 21), ("longbench-e", 13)):
        result = lc_bench("run", "--suite", suite, "--runner", "echo", "--model", str(tiny_model_dir),
                          "--lengths", "1k", "--out", str(tmp_path), "--name", suite)
        rows = records(tmp_path / suite)
        assert len({r["task"] for r in rows}) == tasks and all(r["completion"]["error"] is None for r in rows)
        assert all(r["metadata"]["data_source"] == "fixture" for r in rows)
        assert all(r["input_tokens"] + r["max_new_tokens"] <= 1024 for r in rows)
        assert "## longbench" in result.stdout and "0 errors" in result.stdout


def test_skipped_samples_are_counted_in_the_leaderboard(tiny_model_dir, tmp_path):
    """truncation=none leaves over-length samples out: the manifest and every output count them,
    and a rerun that truncates instead replaces the count rather than adding to it."""
    import json

    from tests.e2e.test_cli import lc_bench

    def run(truncation: str) -> str:
        return lc_bench("run", "--tasks", "longbench_hotpotqa", "--task-opt", "longbench_hotpotqa.data=fixture",
                        "--task-opt", f"longbench_hotpotqa.truncation={truncation}", "--runner", "echo",
                        "--model", str(tiny_model_dir), "--lengths", "1k,4k", "--samples", "10",
                        "--out", str(tmp_path), "--name", "skip").stdout

    markdown = run("none")
    manifest = json.loads((tmp_path / "skip" / "manifest.json").read_text())
    skipped = manifest["invocations"][-1]["skipped_samples"]
    assert skipped and {entry["target_length"] for entry in skipped} == {1024}
    count = skipped[0]["count"]
    assert "## Samples left out" in markdown
    assert f"| longbench_hotpotqa | 1k | {count} |" in markdown.split("## Samples left out")[1]
    board = json.loads((tmp_path / "skip" / "leaderboard.json").read_text())
    assert [(row["task"], row["target_length"], row["skipped"]) for row in board["skipped"]] == [
        ("longbench_hotpotqa", 1024, count)
    ]
    assert 'id="table-skipped"' in (tmp_path / "skip" / "leaderboard.html").read_text()
    markdown = run("middle")  # the same cells built again, now fitting: nothing is left out any more
    assert "## Samples left out" not in markdown
