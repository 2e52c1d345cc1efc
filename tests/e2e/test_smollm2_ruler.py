"""Integration tier for the needle family: the real SmolLM2 tokenizer at 1k-128k, and a real
generation run over every RULER family at 1k-4k."""

from __future__ import annotations

import json

import pytest

from lc_bench.lengths import input_budget
from lc_bench.registry import TASKS
from lc_bench.tasks.base import BuildContext, make_task
from tests.e2e.test_cli import lc_bench

pytestmark = pytest.mark.integration
ALL_LENGTHS = (1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)
# noise haystacks are fitted by whole 25-token lines, as RULER fits them
SLACK = {
    "niah_single_1": 40, "niah_multikey_2": 40, "niah_multikey_3": 80, "vt": 40, "cwe": 40, "fwe": 16, "qa_1": 600,
    "qa_2": 600,
}


@pytest.mark.parametrize(
    "name",
    ["niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2", "niah_multikey_3",
     "niah_multivalue", "niah_multiquery", "vt", "cwe", "fwe", "qa_1", "qa_2"],
)
def test_every_ruler_task_fits_1k_to_128k_with_the_real_tokenizer(smollm2_tokenizer, name):
    task = make_task(TASKS.get(name), {"data": "fixture"} if name.startswith("qa") else {})
    lengths = ALL_LENGTHS if name.startswith("niah_single") else (1024, 4096, 32768, 131072)
    samples = task.build(BuildContext(smollm2_tokenizer, lengths, (25.0,), 1, 0))
    assert len(samples) == len(lengths)
    for sample in samples:
        budget = input_budget(sample.target_length, sample.max_new_tokens)
        measured = smollm2_tokenizer.count(sample.messages, answer_prefix=sample.answer_prefix)
        assert measured == sample.input_tokens
        assert budget - SLACK.get(name, 2) <= measured <= budget, sample.sample_id


def test_quick_suite_generates_on_smollm2_at_1k_and_4k(smollm2_dir, tmp_path):
    out = tmp_path / "results"
    result = lc_bench("run", "--suite", "quick", "--lengths", "1k,4k", "--out", str(out), "--name", "smol", "--plots")
    run_dir = out / "smol"
    rows = [json.loads(line) for line in (run_dir / "records.jsonl").read_text().splitlines()]
    assert len(rows) == 14 and all(row["completion"]["error"] is None for row in rows)
    assert all(row["completion"]["prompt_tokens"] == row["input_tokens"] for row in rows)
    assert {row["target_length"] for row in rows} == {1024, 4096}
    assert sum(row["scores"][row["primary_metric"]] for row in rows) > 0  # it finds something
    assert (run_dir / "plots" / "heatmap_SmolLM2-135M-Instruct_niah_single_2.png").exists()
    assert "| SmolLM2-135M-Instruct | cwe |" in result.stdout
