"""Model identity and settings: two models never share a record or a row; two settings never a cell."""

from __future__ import annotations

import json
import shutil

import pytest

import lc_bench
from lc_bench.models import model_fingerprint, resolve_model

RUN = dict(tasks="niah_single_1", lengths="1k", depths="50", samples=3, runner="echo", write_outputs=False)


@pytest.fixture
def two_finals(tiny_model_dir, tmp_path):
    """Two checkpoints in folders that share the basename `final`, differing in one config value."""
    first, second = tmp_path / "a" / "final", tmp_path / "b" / "final"
    shutil.copytree(tiny_model_dir, first)
    shutil.copytree(tiny_model_dir, second)
    config = json.loads((second / "config.json").read_text())
    (second / "config.json").write_text(json.dumps({**config, "rope_theta": 12345.0}))
    return first, second


def test_fingerprints_tell_checkpoints_apart_and_survive_a_copy(two_finals, tmp_path):
    first, second = two_finals
    copy = tmp_path / "c" / "final"
    shutil.copytree(first, copy)
    prints = [model_fingerprint(resolve_model(str(path))) for path in (first, second, copy)]
    assert prints[0] != prints[1] and prints[0] == prints[2] and prints[0].startswith("sha256:")
    assert model_fingerprint(resolve_model("org/model")) == "id:org/model"


def test_two_models_of_one_name_get_their_own_folders_and_rows(two_finals, tmp_path):
    first, second = two_finals
    out = tmp_path / "results"
    a = lc_bench.evaluate(model=str(first), out=out, **RUN)
    b = lc_bench.evaluate(model=str(second), out=out, **RUN)
    assert b.summary.generated == 3 and b.summary.skipped == 0  # not "3 already recorded"
    assert a.run_dir.name == "final__echo" and b.run_dir.name.startswith("final-") and a.run_dir != b.run_dir
    manifests = [json.loads((run / "manifest.json").read_text()) for run in (a.run_dir, b.run_dir)]
    assert manifests[0]["model_path"] == str(first) and manifests[1]["model_path"] == str(second)
    board = lc_bench.leaderboard([a.run_dir, b.run_dir])
    overall = board.rows[board.rows["level"] == "task"].set_index("model")["n"]
    assert dict(overall) == {f"final ({first})": 3, f"final ({second})": 3}


def test_an_explicit_name_holding_another_model_is_refused(two_finals, tmp_path):
    first, second = two_finals
    lc_bench.evaluate(model=str(first), out=tmp_path, name="mine", **RUN)
    with pytest.raises(lc_bench.UsageError, match="holds another model"):
        lc_bench.evaluate(model=str(second), out=tmp_path, name="mine", **RUN)


def test_changed_settings_never_pool_into_one_cell(tiny_model_dir, tmp_path):
    runs = [
        lc_bench.evaluate(model=str(tiny_model_dir), out=tmp_path, name="r", **RUN),
        lc_bench.evaluate(model=str(tiny_model_dir), out=tmp_path, name="r", max_new_tokens=64, **RUN),
        lc_bench.evaluate(model=str(tiny_model_dir), out=tmp_path, name="r", seed=5, **RUN),
    ]
    assert [run.summary.generated for run in runs] == [3, 3, 3]
    board = lc_bench.leaderboard([tmp_path / "r"])
    rows = board.rows[board.rows["level"] == "task"].set_index("model")["n"]
    assert len(rows) == 3 and set(rows) == {3}  # three rows of n=3, not one of n=9
    labels = " | ".join(rows.index)
    assert "max_new_tokens=64" in labels and "seed=5" in labels
    pooled = board.pooled
    assert all(len(entry["settings"]) == 1 and len(entry["invocations"]) == 1 for entry in pooled.values())
    invocations = json.loads((tmp_path / "r" / "manifest.json").read_text())["invocations"]
    assert [inv["config"]["max_new_tokens"] for inv in invocations] == [None, 64, None]
    assert [inv["config"]["seed"] for inv in invocations] == [0, 0, 5]


def test_an_api_model_is_its_served_name_at_its_hosts(tmp_path):
    from lc_bench.run_config import resolve_run_config
    from lc_bench.runloop import prepare_run
    from lc_bench.schema import RunManifest
    from tests.metrics.helpers import MANIFEST

    def prepared(host: str, name: str | None = None):
        config = resolve_run_config(tasks="niah_single_1", lengths="1k", depths="50", runner="openai",
                                    model="gpt-4o-mini", tokenizer="tiktoken:o200k_base", out=tmp_path, name=name,
                                    runner_options={"base_url": f"http://{host}:9/v1"})
        return prepare_run(config)[0]

    first = prepared("127.0.0.1")
    assert first.fingerprint == "api:gpt-4o-mini@127.0.0.1" and first.run_dir.name == "gpt-4o-mini__openai"
    first.run_dir.mkdir(parents=True)
    manifest = RunManifest(**{**MANIFEST, "model": "gpt-4o-mini"}, model_fingerprint=first.fingerprint)
    (first.run_dir / "manifest.json").write_text(manifest.model_dump_json())
    other = prepared("gpu-box.example")
    assert other.fingerprint == "api:gpt-4o-mini@gpu-box.example" and other.run_dir != first.run_dir
    assert prepared("127.0.0.1").run_dir == first.run_dir  # the same server resumes in place
    with pytest.raises(lc_bench.UsageError, match="holds another model"):
        prepared("gpu-box.example", name="gpt-4o-mini__openai")


def test_a_reply_budget_past_the_window_is_clipped_to_what_is_left():
    from lc_bench.runloop import clip_to_window
    from lc_bench.schema import ChatMessage, Sample

    sample = Sample(task="t", sample_id="t/0", messages=(ChatMessage(role="user", content="x"),), references=(),
                    target_length=8192, input_tokens=8000, max_new_tokens=1024)
    clipped = clip_to_window(sample, 8192)
    assert clipped.max_new_tokens == 192 and clipped.metadata["max_new_tokens_requested"] == 1024
    assert clip_to_window(sample, 16384) is sample  # room enough: untouched
    full = sample.model_copy(update={"input_tokens": 8192})
    assert clip_to_window(full, 8192) is full  # no room at all: the runner's error says why
