"""The `ray` runner on a local two-worker Ray cluster: the hf runner's records, each exactly once."""

from __future__ import annotations

import pytest

from tests.e2e.test_cli import lc_bench, records

pytest.importorskip("ray")
pytestmark = pytest.mark.ray


def test_ray_workers_reproduce_the_hf_runner(tiny_model_dir, tmp_path):
    common = ["--model", str(tiny_model_dir), "--lengths", "1k,2k", "--depths", "0,50,100", "--samples", "2",
              "--max-new-tokens", "8", "--out", str(tmp_path)]
    lc_bench("run", "--runner", "hf", *common, "--name", "hf")
    result = lc_bench("run", "--runner", "ray", "--runner-opt", "num_workers=2", "--runner-opt", "chunk_size=3",
                      *common, "--name", "ray")
    hf_rows, ray_rows = records(tmp_path / "hf"), records(tmp_path / "ray")
    assert len(ray_rows) == 12 and len({r["sample_id"] for r in ray_rows}) == 12  # each sample once
    assert {r["sample_id"]: r["completion"]["text"] for r in ray_rows} == {
        r["sample_id"]: r["completion"]["text"] for r in hf_rows
    }
    # same identity as the inner runner: the resume keys are the hf run's keys
    assert {r["key"] for r in ray_rows} == {r["key"] for r in hf_rows}
    assert all(r["runner"] == "ray" for r in ray_rows)
    again = lc_bench("run", "--runner", "ray", *common, "--name", "ray")
    assert "12 already recorded, 0 generated" in again.stdout
    assert "12 samples: 0 already recorded, 12 generated, 0 errors" in result.stdout


def test_bad_worker_options_fail_before_any_actor_starts(tiny_model_dir, tmp_path):
    result = lc_bench("run", "--runner", "ray", "--model", str(tiny_model_dir), "--runner-opt",
                      'worker_options={"batch_sise": 2}', "--out", str(tmp_path), check_rc=2)
    assert "option batch_sise" in result.stderr and result.stderr.count("\n") == 1
