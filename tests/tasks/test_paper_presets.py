"""The paper presets: `ruler-paper` and `adaleval-paper` load, say what they change, and run end to end."""

from __future__ import annotations

import json

import pytest

import lc_bench
from lc_bench.registry import TASKS
from lc_bench.run_config import resolve_run_config
from lc_bench.store import RECORDS, iter_records
from lc_bench.suites.loader import load_suite, shipped_suites
from lc_bench.tasks.base import make_task

RULER_TASKS = ["niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2",
               "niah_multikey_3", "niah_multivalue", "niah_multiquery", "vt", "cwe", "fwe", "qa_1", "qa_2"]
# RULER's tokens_to_generate per task (scripts/data/synthetic/constants.py)
RULER_BUDGETS = {**{t: 128 for t in RULER_TASKS if t.startswith("niah")}, "vt": 30, "cwe": 120, "fwe": 50,
                 "qa_1": 32, "qa_2": 32}


@pytest.mark.parametrize("name", ["ruler-paper", "adaleval-paper"])
def test_the_presets_load_and_name_their_changes(name):
    assert name in shipped_suites()
    suite = load_suite(name)
    assert suite.protocol == name
    assert suite.changes and "\n" not in suite.changes
    assert suite.generation.temperature == 0.0 and suite.generation.top_p == 1.0
    for task, params in suite.task_params.items():
        assert task in suite.tasks
        make_task(TASKS.get(task), params)  # every parameter is one the task has


def test_ruler_paper_is_rulers_published_setting():
    suite = load_suite("ruler-paper")
    assert suite.tasks == RULER_TASKS and suite.samples == 500 and suite.max_new_tokens is None
    assert suite.task_params == {"qa_1": {"dataset_rules": "ruler"}, "qa_2": {"dataset_rules": "ruler"}}
    config = resolve_run_config(suite="ruler-paper")
    assert config.lengths == (4096, 8192, 16384, 32768, 65536, 131072) and config.depths == ()
    assert config.samples_per_cell == 500
    assert {name: TASKS.get(name).default_max_new_tokens for name in RULER_TASKS} == RULER_BUDGETS


def test_adaleval_paper_is_ada_levals_published_setting():
    suite = load_suite("adaleval-paper")
    assert suite.tasks == ["tsort", "bestanswer"] and suite.samples == 1000 and suite.max_new_tokens == 1024
    config = resolve_run_config(suite="adaleval-paper")
    assert config.lengths == (1024, 2048, 4096, 6144, 8192, 12288, 16384, 32768, 65536, 131072)
    tsort = make_task(TASKS.get("tsort"), config.task_params["tsort"])
    bestanswer = make_task(TASKS.get("bestanswer"), config.task_params["bestanswer"])
    # the README's tables: TSort 2k-128k; BestAnswer 1k-128k with 6k and 12k
    assert tsort.params.lengths_of(config.lengths) == (2048, 4096, 8192, 16384, 32768, 65536, 131072)
    assert bestanswer.params.lengths_of(config.lengths) == config.lengths
    for task in (tsort, bestanswer):
        assert task.params.extraction == "compat" and task.params.length_basis == "prompt"
        # dataset.py, mode "normal": 1000 below 32k, 200 from 32k; --samples 5 wins below the cap
        assert [task.params.samples_at(n, 1000) for n in (16384, 32768, 131072)] == [1000, 200, 200]
        assert task.params.samples_at(65536, 5) == 5
    with_samples = resolve_run_config(suite="adaleval-paper", samples=5)
    assert with_samples.samples_per_cell == 5


def _records(run_dir):
    return list(iter_records(run_dir / RECORDS))


def test_ruler_paper_runs_end_to_end(tiny_model_dir, tmp_path):
    # 2k: cwe's one-shot example alone is over 1k tokens with the tiny tokenizer
    result = lc_bench.evaluate(suite="ruler-paper", runner="echo", model=str(tiny_model_dir), samples=1,
                               lengths="2k", out=tmp_path, name="ruler", write_outputs=False, allow_fixtures=True)
    rows = _records(result.run_dir)
    assert sorted(r["task"] for r in rows) == sorted(RULER_TASKS)
    assert {r["task"]: r["max_new_tokens"] for r in rows} == RULER_BUDGETS
    assert all(r["input_tokens"] + r["max_new_tokens"] <= 2048 for r in rows)
    qa = {r["task"]: r for r in rows if r["task"].startswith("qa")}
    # the fixture's first answerable question; echo repeats the prompt, which holds the gold paragraph
    assert qa["qa_1"]["references"] == ["1871", "1871", "in 1871"] and qa["qa_1"]["score"] == 100.0
    assert qa["qa_2"]["references"] == ["Lune"]
    assert {r.get("protocol") for r in rows} == {"ruler-paper+fixtures"}  # the QA data is the fixture
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest.get("protocol") == "ruler-paper+fixtures"


def test_adaleval_paper_runs_end_to_end(tiny_model_dir, tmp_path):
    result = lc_bench.evaluate(suite="adaleval-paper", runner="echo", model=str(tiny_model_dir), samples=1,
                               lengths="1k,2k", out=tmp_path, name="ada")
    rows = _records(result.run_dir)
    # TSort is published from 2k only; BestAnswer from 1k
    assert sorted((r["task"], r["target_length"]) for r in rows) == [
        ("bestanswer", 1024), ("bestanswer", 2048), ("tsort", 2048)]
    for row in rows:
        assert row["max_new_tokens"] == 1024  # needs run_config's max_new_tokens wiring
        # the prompt fills the setting; the reply budget comes on top (Ada-LEval's settings)
        assert row["target_length"] - 2 <= row["input_tokens"] <= row["target_length"]
        assert row["scores"]  # scored with the original extraction
        assert row.get("protocol") == "adaleval-paper"
