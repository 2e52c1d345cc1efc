"""`lc-bench export RUN`: records and leaderboard cells as Parquet / CSV / JSONL, read back and
checked against records.jsonl; the optional trackers (W&B offline, MLflow on a local file store)
and the Hub (a stand-in HfApi: no network) get the scores; bad input writes nothing."""

from __future__ import annotations

import importlib.util
import json
import shutil
import struct
import time
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import lc_bench
from lc_bench import exports
from lc_bench.api import build
from lc_bench.cli_export import export_command
from lc_bench.errors import UsageError
from lc_bench.store import RECORDS, iter_records, latest_by_key

SECRET = "sk-live-0123456789abcdefXYZ"


@pytest.fixture(scope="module")
def finished_run(tiny_model_dir, tmp_path_factory) -> Path:
    """Two tasks at two lengths with the echo runner, plus one errored sample (a timeout) and a
    secret-named runner option slipped into the manifest (as a hand-edited manifest might hold)."""
    root = tmp_path_factory.mktemp("runs")
    result = lc_bench.evaluate(
        model=str(tiny_model_dir), tasks="niah_single_1,vt", lengths=[1024, 2048], depths="0,100", runner="echo",
        out=root, name="tiny-echo", write_outputs=False,
    )
    records = result.run_dir / RECORDS
    first = json.loads(records.read_text(encoding="utf-8").splitlines()[0])
    failed = {
        **first, "key": "f" * 32, "sample_id": first["sample_id"] + "-failed", "score": None, "scores": {},
        "completion": {**first["completion"], "key": "f" * 32, "text": "", "finish_reason": "error",
                       "error": {"type": "TimeoutError", "message": "read timed out"}},
    }
    with records.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(failed) + "\n")
    manifest_path = result.run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["config"]["runner_options"].update({"api_key": SECRET, "extra_body": {"Authorization": SECRET}})
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    return result.run_dir


def latest_records(run_dir: Path) -> dict[str, dict]:
    return latest_by_key(iter_records(run_dir / RECORDS))


def test_parquet_export_holds_every_record_flattened(finished_run, tmp_path):
    result = exports.export_run(finished_run, out=tmp_path / "out")
    assert [path.name for path in result.files] == ["records.parquet", "cells.parquet", "rows.parquet"]
    frame = pd.read_parquet(tmp_path / "out" / "records.parquet")
    records = latest_records(finished_run)
    assert sorted(frame["key"]) == sorted(records) and len(frame) == len(records)
    for row in frame.to_dict("records"):
        record = records[row["key"]]
        for name in ("task", "family", "model", "settings", "protocol", "target_length", "depth", "input_tokens",
                     "sample_id", "prompt_head", "prompt_tail", "prompt_sha256"):
            assert row[name] == record[name] or (record[name] is None and pd.isna(row[name])), name
        assert row["completion"] == record["completion"]["text"]
        assert row["finish_reason"] == record["completion"]["finish_reason"]
        assert json.loads(row["references"]) == record["references"]
        for name, value in record["scores"].items():
            assert row[f"scores.{name}"] == value
        if record["score"] is None:
            assert pd.isna(row["score"]) and row["error_type"] == "TimeoutError"
        else:
            assert row["score"] == record["score"] and pd.isna(row["error_type"])
    assert {"scores.string_match_all", "scores.string_match_part", "latency_s"} <= set(frame.columns)
    # the prompt never beyond its head and tail
    assert not {"focus_excerpt", "metadata", "messages", "prompt", "stages", "judge"} & set(frame.columns)


def test_cells_and_rows_are_the_leaderboards(finished_run, tmp_path):
    exports.export_run(finished_run, out=tmp_path)
    board = build([finished_run])
    cells = pd.read_parquet(tmp_path / "cells.parquet")
    pd.testing.assert_frame_equal(cells, board.cells.reset_index(drop=True), check_dtype=False)
    overall = cells[cells["level"] == "overall"].set_index("target_length")
    assert list(overall.index) == [1024, 2048] and overall["score"].tolist() == [100.0, 100.0]
    assert overall.loc[1024, "errors"] == 1  # the timeout is counted, not scored
    rows = pd.read_parquet(tmp_path / "rows.parquet")
    assert rows.set_index("level").loc["overall", "avg"] == board.rows.set_index("level").loc["overall", "avg"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_csv_and_jsonl_hold_the_same_values(finished_run, tmp_path, fmt):
    exports.export_run(finished_run, fmt=fmt, out=tmp_path)
    if fmt == "csv":
        records = pd.read_csv(tmp_path / "records.csv", keep_default_na=False, na_values=[""])
        cells = pd.read_csv(tmp_path / "cells.csv")
        members = json.loads(pd.read_csv(tmp_path / "rows.csv").set_index("level").loc["overall", "members"])
    else:
        records = pd.read_json(tmp_path / "records.jsonl", lines=True, dtype=False)
        cells = pd.read_json(tmp_path / "cells.jsonl", lines=True)
        rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text(encoding="utf-8").splitlines()]
        members = next(row["members"] for row in rows if row["level"] == "overall")
    expected = latest_records(finished_run)
    by_key = records.set_index("key")
    for key, record in expected.items():
        assert by_key.loc[key, "completion"] == record["completion"]["text"] or (
            record["completion"]["text"] == "" and pd.isna(by_key.loc[key, "completion"])
        )
        assert by_key.loc[key, "target_length"] == record["target_length"]
    assert cells[cells["level"] == "overall"]["score"].tolist() == [100.0, 100.0]
    assert members == ["ruler"]


def test_default_folder_and_rerun(finished_run, tmp_path):
    run = tmp_path / "tiny-echo"
    shutil.copytree(finished_run, run)
    first = exports.export_run(run)
    assert first.folder == run / "export" and (run / "export" / "records.parquet").exists()
    again = exports.export_run(run)  # overwrites whole files, leaves no .tmp
    assert sorted(p.name for p in (run / "export").iterdir()) == sorted(p.name for p in again.files)
    board = lc_bench.leaderboard([run])  # the export folder inside the run changes nothing
    assert board.cells["n"].sum() == build([finished_run]).cells["n"].sum()


@pytest.mark.parametrize(("options", "message"), [
    ({"fmt": "parket"}, r"unknown --format 'parket'; did you mean parquet\?"),
    ({"to": ["wandbb"]}, r"unknown --to 'wandbb'; did you mean wandb\?"),
    ({"to": ["hf-hub"]}, r"--to hf-hub needs the repository"),
    ({"to": ["hf-hub"], "repo_id": "not a/valid/repo"}, r"--to hf-hub: "),
    ({"to": ["hf-hub"], "repo_id": "me/x", "repo_type": "datasets"}, r"did you mean dataset\?"),
    ({"repo_id": "me/x"}, r"only for --to hf-hub"),
    ({"project": " "}, r"--project is empty"),
])
def test_bad_options_write_nothing(finished_run, tmp_path, options, message):
    with pytest.raises(UsageError, match=message):
        exports.export_run(finished_run, out=tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


def test_not_a_run_and_a_missing_tracker(finished_run, tmp_path, monkeypatch):
    with pytest.raises(UsageError, match="run folder not found"):
        exports.export_run(tmp_path / "none", out=tmp_path / "out")
    with pytest.raises(UsageError, match="is not a run folder"):
        exports.export_run(tmp_path, out=tmp_path / "out")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    with pytest.raises(UsageError, match=r"--to mlflow needs the mlflow package: pip install 'lc_bench\[mlflow\]'"):
        exports.export_run(finished_run, out=tmp_path / "out", to=["mlflow"])
    assert not (tmp_path / "out").exists()


def test_tracker_parameters_never_hold_a_secret(finished_run):
    from lc_bench.store import read_manifest

    params = exports.run_params(read_manifest(finished_run))
    assert SECRET not in json.dumps(params) and "api_key" not in params["config"]["runner_options"]
    assert params["config"]["runner_options"]["extra_body"] == {"Authorization": "[REDACTED]"}
    flat = exports.flat_params(params)
    assert flat["runner"] == "echo" and flat["config.tasks"] == '["niah_single_1", "vt"]'
    assert SECRET not in json.dumps(flat)


def test_metric_names():
    board = build([Path(__file__).parent / "fixtures" / "release_0_1" / "runs" / "adaleval"])
    metrics = exports.summary_metrics(board)
    assert {"overall/avg", "task/tsort/avg", "task/tsort/1024", "family/adaleval/2048"} <= set(metrics)
    curves = exports.length_curves(board)
    assert all(name.startswith("score/") for values in curves.values() for name in values)
    # no name is another's folder (MLflow's file store keeps names as paths)
    names = set(metrics) | {name for values in curves.values() for name in values}
    assert not any(other.startswith(name + "/") for name in names for other in names)
    assert exports.metric_name("tiny (seed=5) [run]/overall/1024") == "tiny _seed_5_ _run_/overall/1024"


def cli_app() -> typer.Typer:
    app = typer.Typer(rich_markup_mode=None)  # as lc-bench's
    app.command("export")(export_command)

    @app.command("other")
    def _other() -> None:  # a second command, so `export` is a subcommand as in lc-bench
        pass

    return app


def test_the_typer_command(finished_run, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli_app(), ["export", str(finished_run), "--format", "csv", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert f"wrote 3 files to {tmp_path / 'o'}" in result.output and (tmp_path / "o" / "cells.csv").exists()
    result = runner.invoke(cli_app(), ["export", str(finished_run), "--format", "xlsx", "--out", str(tmp_path / "b")])
    assert isinstance(result.exception, UsageError) and "unknown --format 'xlsx'" in str(result.exception)
    assert not (tmp_path / "b").exists()
    help_text = runner.invoke(cli_app(), ["export", "--help"]).output
    assert "export [OPTIONS] {RUN} [REPO_ID]" in help_text and "--format" in help_text and "--to" in help_text


# ---- the Hub: a stand-in HfApi, no network ------------------------------------------------------


class FakeHfApi:
    calls: list[tuple[str, dict]] = []

    def create_repo(self, repo_id, **options):
        FakeHfApi.calls.append(("create_repo", {"repo_id": repo_id, **options}))

    def upload_folder(self, **options):
        folder = Path(options["folder_path"])
        files = {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}
        assert set(options["allow_patterns"]) <= files  # the patterns name files that are there
        FakeHfApi.calls.append(("upload_folder", {**options, "files": sorted(options["allow_patterns"])}))
        return type("CommitInfo", (), {"commit_url": f"https://huggingface.co/datasets/{options['repo_id']}/commit/1"})()


def test_hub_upload_sends_the_leaderboard_folder(finished_run, tmp_path, monkeypatch):
    import huggingface_hub

    FakeHfApi.calls = []
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    result = exports.export_run(finished_run, out=tmp_path / "board", to=["hf-hub"], repo_id="me/lc-results")
    (create, options), (upload, sent) = FakeHfApi.calls
    assert create == "create_repo" and options["repo_id"] == "me/lc-results" and options["exist_ok"] is True
    assert options["repo_type"] == "dataset"
    assert upload == "upload_folder" and sent["repo_type"] == "dataset" and sent["repo_id"] == "me/lc-results"
    assert Path(sent["folder_path"]) == tmp_path / "board" and sent["path_in_repo"] is None
    assert {"records.parquet", "cells.parquet", "rows.parquet", "leaderboard.md", "leaderboard.json",
            "leaderboard.html", "README.md"} <= set(sent["files"])
    card = (tmp_path / "board" / "README.md").read_text(encoding="utf-8")
    assert "config_name: cells\n  data_files: cells.parquet" in card and "# lc_bench results: tiny-echo" in card
    assert result.sent["hf-hub"].endswith("/commit/1")
    # a model repository gets no card (it would replace the model's)
    FakeHfApi.calls = []
    (tmp_path / "board" / "stale.txt").write_text("not this export's", encoding="utf-8")
    exports.export_run(finished_run, out=tmp_path / "board", to=["hf-hub"], repo_id="me/model", repo_type="model")
    sent = FakeHfApi.calls[1][1]
    assert sent["repo_type"] == "model" and "records.parquet" in sent["files"]
    assert "README.md" not in sent["files"] and "stale.txt" not in sent["files"]
    assert any(name.startswith("plots/") for name in sent["files"])


def test_a_failed_upload_is_one_line(finished_run, tmp_path, monkeypatch):
    import huggingface_hub

    class Refusing(FakeHfApi):
        def create_repo(self, repo_id, **options):
            raise RuntimeError("401 Client Error: Unauthorized for url\nmore detail")

    monkeypatch.setattr(huggingface_hub, "HfApi", Refusing)
    with pytest.raises(UsageError, match=r"^--to hf-hub failed: 401 Client Error: Unauthorized for url$"):
        exports.export_run(finished_run, out=tmp_path, to=["hf-hub"], repo_id="me/x")


# ---- W&B, offline -------------------------------------------------------------------------------


def wandb_records(path: Path) -> list:
    """The records of an offline run's .wandb file (a LevelDB-style log of protobuf records)."""
    from wandb.proto import wandb_internal_pb2

    data, position, block, pending, found = path.read_bytes(), 7, 32768, b"", []
    while position + 7 <= len(data):
        if block - position % block < 7:
            position += block - position % block
            continue
        _, length, kind = struct.unpack("<IHB", data[position:position + 7])
        if kind == 0 and length == 0:
            break
        pending += data[position + 7:position + 7 + length]
        position += 7 + length
        if kind in (1, 4):  # a whole record, or the last piece of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            found.append(record)
            pending = b""
    return found


def test_wandb_offline_run_holds_the_scores(finished_run, tmp_path, monkeypatch):
    if importlib.util.find_spec("wandb") is None:
        pytest.skip("wandb is not installed (pip install 'lc_bench[wandb]')")
    for name, value in {"WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "WANDB_SILENT": "true",
                        "WANDB_CACHE_DIR": str(tmp_path / "cache"), "WANDB_DATA_DIR": str(tmp_path / "data"),
                        "WANDB_CONFIG_DIR": str(tmp_path / "config")}.items():
        monkeypatch.setenv(name, value)
    result = exports.export_run(finished_run, out=tmp_path / "out", to=["wandb"], project="lc-test")
    files = Path(result.sent["wandb"])
    run_folder = files.parent
    assert run_folder.parent == tmp_path / "wandb" and run_folder.name.startswith("offline-run-")
    assert (files / "records.parquet").exists() and (files / "cells.parquet").exists()
    tables = {path.name.split("_")[0]: json.loads(path.read_text()) for path in (files / "media" / "table").iterdir()}
    assert {"scores", "cells", "rows"} <= set(tables)
    scores = tables["scores"]
    overall = dict(zip(scores["columns"], next(row for row in scores["data"] if row[1] == "overall"), strict=True))
    assert overall["1024"] == 100.0 and overall["2048"] == 100.0
    deadline = time.monotonic() + 20
    while True:  # wandb's own process may still be writing the log's last records
        records = wandb_records(next(run_folder.glob("*.wandb")))
        kinds = [record.WhichOneof("record_type") for record in records]
        if "exit" in kinds or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    summary = {}
    for record in records:
        if record.WhichOneof("record_type") == "summary":
            summary.update({item.key: json.loads(item.value_json) for item in record.summary.update if item.key})
    assert "overall/1024" in summary, kinds
    board = build([finished_run])
    expected = exports.summary_metrics(board)
    assert summary["overall/1024"] == 100.0 and summary["task/vt/2048"] == 100.0
    assert {name: summary[name] for name in expected} == expected


# ---- MLflow, on a local file store ----------------------------------------------------------------


def test_mlflow_run_holds_metrics_params_and_artifacts(finished_run, tmp_path, monkeypatch):
    if importlib.util.find_spec("mlflow") is None:
        pytest.skip("mlflow is not installed (pip install 'lc_bench[mlflow]')")
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps file stores behind this switch
    uri = (tmp_path / "mlruns").as_uri()
    result = exports.export_run(finished_run, out=tmp_path / "out", to=["mlflow"], project="lc-test", tracking_uri=uri)
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("lc-test")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_id in result.sent["mlflow"] and run.info.status == "FINISHED"
    assert run.info.run_name == "tiny-echo" and run.data.tags["lc_bench.run"] == "tiny-echo"
    board = build([finished_run])
    expected = exports.summary_metrics(board)
    assert {name: run.data.metrics[name] for name in expected} == expected
    assert run.data.metrics["overall/1024"] == 100.0
    history = client.get_metric_history(run.info.run_id, "score/overall")
    assert sorted((metric.step, metric.value) for metric in history) == [(1024, 100.0), (2048, 100.0)]
    assert run.data.params["runner"] == "echo" and run.data.params["config.lengths"] == "[1024, 2048]"
    assert run.data.metrics["overall/effective_length"] == 2048
    assert SECRET not in json.dumps(run.data.params)
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id, "lc_bench")}
    assert artifacts == {"lc_bench/records.parquet", "lc_bench/cells.parquet", "lc_bench/rows.parquet"}
