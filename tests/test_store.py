import json

import pytest

from lc_bench.errors import UsageError
from lc_bench.schema import Completion, GenerationError, Record, RunManifest
from lc_bench.store import RECORDS, TORN, RunStore, check_writable, iter_records, move_torn_tail


def manifest(**overrides) -> RunManifest:
    fields = dict(
        run_name="r", lc_bench_version="0", model="m", model_path=None, runner="echo", runner_config={},
        tokenizer="m", chat_template_sha256="abc", context_window=None, seed=0, config={},
        package_versions={}, git_revision=None, python="3.11", platform="x", started="t",
        invocations=[{"started": "t"}],
    )
    fields.update(overrides)
    return RunManifest(**fields)


def record(key: str, error: bool = False) -> Record:
    completion = Completion(
        key=key,
        text="" if error else "42",
        finish_reason="error" if error else "stop",
        error=GenerationError(type="RuntimeError", message="boom") if error else None,
    )
    return Record(
        key=key, task="t", sample_id=key, model="m", runner="echo", target_length=1024, input_tokens=900,
        template_overhead=10, max_new_tokens=32, references=("42",), prompt_sha256="0" * 64,
        prompt_head="", prompt_tail="", completion=completion, scores={} if error else {"s": 100.0},
        primary_metric="s", created="t",
    )


def test_append_and_resume_keys(tmp_path):
    store = RunStore(tmp_path / "run")
    m = store.open(manifest())
    store.append(record("a"))
    store.append(record("b", error=True))
    store.close(m)
    reopened = RunStore(tmp_path / "run")
    m2 = reopened.open(manifest())
    assert reopened.done_keys() == {"a"}  # the error is retried on resume
    reopened.append(record("b"))
    reopened.close(m2)
    assert RunStore(tmp_path / "run").done_keys() == {"a", "b"}
    lines = (tmp_path / "run" / RECORDS).read_text().splitlines()
    assert len(lines) == 3  # append-only: the failed attempt is still there
    assert len(json.loads((tmp_path / "run" / "manifest.json").read_text())["invocations"]) == 2


def test_torn_last_line_is_ignored_then_moved_aside(tmp_path):
    store = RunStore(tmp_path / "run")
    m = store.open(manifest())
    store.append(record("a"))
    store.close(m)
    path = tmp_path / "run" / RECORDS
    with path.open("a") as handle:
        handle.write('{"key": "b", "task": "t", "samp')  # a writer killed mid-line
    assert [r["key"] for r in iter_records(path)] == ["a"]
    store = RunStore(tmp_path / "run")
    m = store.open(manifest())
    assert store.torn_bytes > 0
    store.append(record("c"))
    store.close(m)
    assert [r["key"] for r in iter_records(path)] == ["a", "c"]
    assert '"samp' in (tmp_path / "run" / TORN).read_text()


def test_torn_file_without_any_newline(tmp_path):
    path = tmp_path / RECORDS
    path.write_bytes(b'{"key": "half')
    assert move_torn_tail(path) == len(b'{"key": "half')
    assert path.read_bytes() == b""


def test_another_model_cannot_reuse_a_run_dir(tmp_path):
    store = RunStore(tmp_path / "run")
    store.close(store.open(manifest()))
    with pytest.raises(UsageError, match="model='m'"):
        RunStore(tmp_path / "run").open(manifest(model="other"))


def test_a_run_dir_is_locked_while_in_use(tmp_path):
    first = RunStore(tmp_path / "run")
    m = first.open(manifest())
    with pytest.raises(UsageError, match="in use"):
        RunStore(tmp_path / "run").open(manifest())
    first.close(m)


def test_unwritable_or_file_output_dirs(tmp_path):
    check_writable(tmp_path / "new" / "deeper")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="not a directory"):
        check_writable(tmp_path / "file" / "run")
    with pytest.raises(UsageError, match="not writable"):
        check_writable(__import__("pathlib").Path("/proc/lc-bench-run"))
