"""`lc-bench export RUN`: a run's records and leaderboard as Parquet, CSV or JSONL files, and
optionally sent on to an experiment tracker (Weights & Biases, MLflow) or the Hugging Face Hub.

Written into the export folder (RUN/export by default):
- records.EXT: the latest record of every sample, flattened (one `scores.NAME` column per score).
  The prompt is never written beyond what a record keeps of it (its head, tail and sha256).
- cells.EXT: the leaderboard's cells (model x task, family and overall x length, with n and 95%
  interval); rows.EXT: each row's average, effective length and wAvg.

The trackers and the Hub are optional extras (`pip install 'lc_bench[wandb]'`, `[mlflow]`, `[hub]`);
a missing one is refused before anything is written. Their credentials come from their own
settings (WANDB_API_KEY, MLFLOW_TRACKING_URI, HF_TOKEN or a login): no key is ever an option here,
and what is logged as parameters is the manifest's configuration, with runner options filtered
again through the secret rules (lc_bench/runners/secrets.py).
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lc_bench.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from lc_bench.metrics.aggregate import Leaderboard
    from lc_bench.schema import RunManifest

FORMATS = ("parquet", "csv", "jsonl")
TARGETS = ("wandb", "mlflow", "hf-hub")
REPO_TYPES = ("dataset", "model", "space")
EXPORT_DIR = "export"  # inside the run folder, unless --out says otherwise
DEFAULT_PROJECT = "lc_bench"
# the Python package each target needs, and the extra that installs it
TARGET_PACKAGES = {"wandb": ("wandb", "wandb"), "mlflow": ("mlflow", "mlflow"), "hf-hub": ("huggingface_hub", "hub")}
# MLflow refuses longer parameter values on older servers
MAX_PARAM_CHARS = 500
# names MLflow accepts for metrics and parameters; anything else becomes "_"
_METRIC_NAME = re.compile(r"[^\w\-. /:]")

RECORD_FIELDS = (
    "key", "task", "family", "sample_id", "model", "runner", "settings", "protocol", "target_length", "depth",
    "input_tokens", "template_overhead", "max_new_tokens", "truncated", "needle_token_position",
)
PROMPT_FIELDS = ("prompt_sha256", "prompt_head", "prompt_tail")  # never more of the prompt than these
COMPLETION_FIELDS = ("finish_reason", "prompt_tokens", "completion_tokens", "latency_s", "queue_s", "attempts")
# fixed column types, so that every export of every run has one schema (a column of nulls included)
NULLABLE_INTS = ("needle_token_position", "prompt_tokens", "completion_tokens", "attempts")
FLOATS = ("depth", "score", "latency_s", "queue_s")
TEXTS = ("family", "settings", "protocol", "primary_metric", "finish_reason", "error_type", "created")


@dataclass
class ExportResult:
    """What `export_run` did: the folder and files it wrote, and where each target now holds them."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    sent: dict[str, str] = field(default_factory=dict)


def record_rows(run_dir: str | Path) -> list[dict[str, Any]]:
    """The latest record of each sample as one flat dict: ids, settings, lengths, depth, the score
    and every `scores.NAME`, the completion's text (`completion`), finish reason, token counts,
    latency and error type. References are a JSON list; the prompt appears only as head, tail and sha256."""
    from lc_bench.store import RECORDS, iter_records, latest_by_key, read_manifest

    run_dir = Path(run_dir)
    read_manifest(run_dir)  # a clear error for a folder that is not a run
    rows = []
    for record in latest_by_key(iter_records(run_dir / RECORDS)).values():
        completion = record.get("completion") or {}
        error = completion.get("error") or {}
        row: dict[str, Any] = {"run": run_dir.name, **{name: record.get(name) for name in RECORD_FIELDS}}
        row["references"] = json.dumps(list(record.get("references") or []), ensure_ascii=False)
        row.update({name: record.get(name) for name in PROMPT_FIELDS})
        row["primary_metric"] = record.get("primary_metric")
        row["score"] = record.get("score")
        row.update({f"scores.{name}": value for name, value in sorted((record.get("scores") or {}).items())})
        row["completion"] = completion.get("text", "")
        row.update({name: completion.get(name) for name in COMPLETION_FIELDS})
        row["error_type"] = error.get("type") if isinstance(error, dict) else None
        row["created"] = record.get("created")
        rows.append(row)
    return rows


def records_frame(run_dir: str | Path) -> pd.DataFrame:
    """`record_rows` as a DataFrame, with the `scores.*` columns after `score` in name order."""
    import pandas as pd

    rows = record_rows(run_dir)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    score_columns = sorted({name for row in rows for name in row if name.startswith("scores.")})
    before = list(frame.columns[: frame.columns.get_loc("score") + 1])
    after = [name for name in frame.columns if name not in before and name not in score_columns]
    frame = frame[[name for name in before if not name.startswith("scores.")] + score_columns + after]
    for names, dtype in ((NULLABLE_INTS, "Int64"), ((*FLOATS, *score_columns), "float64"), (TEXTS, "string")):
        for name in names:
            frame[name] = frame[name].astype(dtype)
    return frame


def leaderboard_frames(board: Leaderboard) -> dict[str, pd.DataFrame]:
    """The leaderboard tables an export holds: cells (per length) and rows (per row, over lengths)."""
    return {"cells": board.cells.reset_index(drop=True), "rows": board.rows.reset_index(drop=True)}


# ---------------------------------------------------------------------------------------------
# checks: every one runs before anything is written


def check_format(fmt: str) -> str:
    return _choice(fmt, FORMATS, "--format")


def check_targets(targets: Iterable[str]) -> list[str]:
    """Each target once, in the order given ("wandb,mlflow" counts as two); unknown ones refused."""
    chosen: list[str] = []
    for item in targets:
        for name in (part.strip() for part in item.split(",")):
            if name and _choice(name, TARGETS, "--to") not in chosen:
                chosen.append(name)
    return chosen


def _choice(value: str, choices: Sequence[str], option: str) -> str:
    if value in choices:
        return value
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise UsageError(f"unknown {option} {value!r}{hint} (choose from {', '.join(choices)})")


def check_target_packages(targets: Iterable[str]) -> None:
    for target in targets:
        package, extra = TARGET_PACKAGES[target]
        if importlib.util.find_spec(package) is None:
            raise UsageError(f"--to {target} needs the {package} package: pip install 'lc_bench[{extra}]'")


def check_repo(targets: Sequence[str], repo_id: str | None, repo_type: str) -> None:
    if "hf-hub" not in targets:
        if repo_id is not None:
            raise UsageError(f"a repository ({repo_id!r}) is only for --to hf-hub")
        return
    if not repo_id:
        raise UsageError("--to hf-hub needs the repository: lc-bench export RUN --to hf-hub USER/NAME")
    _choice(repo_type, REPO_TYPES, "--repo-type")
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise UsageError(f"--to hf-hub: {str(exc).splitlines()[0]}") from None


# ---------------------------------------------------------------------------------------------
# files


def write_table(frame: pd.DataFrame, path: Path, fmt: str) -> Path:
    """`frame` as one Parquet, CSV or JSONL file, whole or not at all (a failed write leaves no
    partial file and no .tmp, and is one line naming the file). CSV cells hold lists as JSON."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            frame.to_parquet(temporary, index=False)
        elif fmt == "csv":
            _text_lists(frame).to_csv(temporary, index=False)
        else:
            with temporary.open("w", encoding="utf-8") as handle:
                for row in frame.to_dict("records"):
                    handle.write(json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _plain(value: Any) -> Any:
    """A cell as plain JSON: NaN and pandas' missing values as null, numpy scalars as numbers."""
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy scalars and arrays
        return _plain(value.tolist())
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _text_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """List-valued cells (a row's members, its lengths) as JSON text, for CSV and trackers' tables."""
    import numpy as np

    def is_list(value: Any) -> bool:
        return isinstance(value, list | tuple | np.ndarray)

    copy = frame.copy()
    for name in copy.columns:
        if copy[name].dtype == object and copy[name].map(is_list).any():
            copy[name] = copy[name].map(lambda value: json.dumps(_plain(value)) if is_list(value) else value)
    return copy


def hub_card(run_name: str, fmt: str, names: Sequence[str], markdown: str) -> str:
    """README.md of a dataset repository: one viewer configuration per table, then the leaderboard."""
    configs = "".join(f"- config_name: {name}\n  data_files: {name}.{fmt}\n" for name in names)
    return (
        f"---\nconfigs:\n{configs}tags:\n- lc_bench\n- long-context\n- evaluation\n---\n\n"
        f"# lc_bench results: {run_name}\n\n{markdown}"
    )


# ---------------------------------------------------------------------------------------------
# what trackers get


def run_params(manifest: RunManifest) -> dict[str, Any]:
    """The run's settings as tracker parameters: the manifest's identity and configuration, with
    runner options passed through the secret rules again (a manifest never holds one; a tracker
    must not either, whatever wrote the manifest)."""
    from lc_bench.runners.secrets import is_secret_option, mask_secret_fields

    config = {k: v for k, v in manifest.config.items() if k not in ("runner_options", "out_dir")}
    options = manifest.config.get("runner_options") or {}
    config["runner_options"] = {
        name: mask_secret_fields(value) for name, value in options.items() if not is_secret_option(str(name))
    }
    return {
        "run_name": manifest.run_name, "model": manifest.model, "runner": manifest.runner,
        "tokenizer": manifest.tokenizer, "protocol": manifest.protocol, "seed": manifest.seed,
        "context_window": manifest.context_window, "lc_bench_version": manifest.lc_bench_version,
        "config": config,
    }


def flat_params(params: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested parameters as "a.b" names with text values (lists as JSON), cut to MAX_PARAM_CHARS."""
    flat: dict[str, str] = {}
    for name, value in params.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and value:
            flat.update(flat_params(value, key + "."))
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        flat[metric_name(key)] = text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 3] + "..."
    return flat


def metric_name(name: str) -> str:
    return _METRIC_NAME.sub("_", name)


def _row_prefix(level: str, family: str, task: str) -> str:
    return "overall" if level == "overall" else f"family/{family}" if level == "family" else f"task/{task}"


def _model_prefix(board: Leaderboard) -> dict[str, str]:
    """"" for a board of one model; the model's label (as a metric name) before each name otherwise."""
    models = board.models
    return {model: "" if len(models) == 1 else metric_name(str(model)) + "/" for model in models}


def summary_metrics(board: Leaderboard) -> dict[str, float]:
    """One number per name: `overall/4096`, `family/ruler/4096`, `task/vt/4096` for each length,
    and `.../avg`, `.../effective_length` per row (the model's label first when there are several)."""
    prefixes = _model_prefix(board)
    metrics: dict[str, float] = {}
    for cell in board.cells.to_dict("records"):
        name = f"{prefixes[cell['model']]}{_row_prefix(cell['level'], cell['family'], cell['task'])}"
        _put(metrics, f"{name}/{int(cell['target_length'])}", cell["score"])
    for row in board.rows.to_dict("records"):
        name = f"{prefixes[row['model']]}{_row_prefix(row['level'], row['family'], row['task'])}"
        _put(metrics, f"{name}/avg", row["avg"])
        _put(metrics, f"{name}/effective_length", row["effective_length"])
    return {metric_name(name): value for name, value in metrics.items()}


def length_curves(board: Leaderboard) -> dict[int, dict[str, float]]:
    """The scores by length, for trackers' charts over target_length: {length: {"score/overall": s,
    "score/task/vt": s, ...}}. Their own "score/" namespace: MLflow's file store keeps each name as
    a path, so no name may be another's folder ("overall" beside "overall/4096")."""
    prefixes = _model_prefix(board)
    curves: dict[int, dict[str, float]] = {}
    for cell in board.cells.to_dict("records"):
        row = _row_prefix(cell["level"], cell["family"], cell["task"])
        name = metric_name(f"score/{prefixes[cell['model']]}{row}")
        _put(curves.setdefault(int(cell["target_length"]), {}), name, cell["score"])
    return dict(sorted(curves.items()))


def _put(metrics: dict[str, float], name: str, value: Any) -> None:
    """A finite number only: a cell without a score (every sample errored) is left out."""
    if value is not None and not (isinstance(value, float) and math.isnan(value)):
        metrics[name] = float(value)


def scores_table(board: Leaderboard) -> pd.DataFrame:
    """The familiar view: a row per model x level x family x task, a column per length, avg and
    effective length (column names as text, as trackers' tables want them)."""
    table = board.tables()["scores"]
    return table.rename(columns={name: str(name) for name in table.columns})


# ---------------------------------------------------------------------------------------------
# targets


def log_to_wandb(
    board: Leaderboard, manifest: RunManifest, run_name: str, folder: Path, files: Sequence[Path], project: str
) -> str:
    """A W&B run named after the run folder: its settings as config, the scores / cells / rows as
    tables, each length's scores as charts over `target_length`, summary metrics, and the export
    files. Offline (WANDB_MODE=offline) it all stays in the local run folder for `wandb sync`."""
    import wandb

    run = wandb.init(project=project, name=run_name, config=run_params(manifest),
                     job_type="eval", tags=["lc_bench", manifest.protocol])
    try:
        run.define_metric("target_length")
        curves = length_curves(board)
        for name in sorted({name for values in curves.values() for name in values}):
            run.define_metric(name, step_metric="target_length")
        run.log({
            "scores": wandb.Table(dataframe=_text_lists(scores_table(board))),
            "cells": wandb.Table(dataframe=_text_lists(board.cells)),
            "rows": wandb.Table(dataframe=_text_lists(board.rows)),
        })
        for length, values in curves.items():
            run.log({"target_length": length, **values})
        run.summary.update(summary_metrics(board))
        for path in files:
            run.save(str(path), base_path=str(folder), policy="now")
        where = run.dir
    finally:
        run.finish()
    return str(where)


def log_to_mlflow(
    board: Leaderboard, manifest: RunManifest, run_name: str, folder: Path, files: Sequence[Path], experiment: str,
    tracking_uri: str | None,
) -> str:
    """An MLflow run named after the run folder, in `experiment`: its settings as parameters, the
    summary metrics, each length's scores as steps (step = target length), and the files just
    exported as artifacts under lc_bench/. `tracking_uri`: None is MLflow's own (MLFLOW_TRACKING_URI)."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    try:
        client = MlflowClient(tracking_uri)
        found = client.get_experiment_by_name(experiment)
    except Exception as exc:  # the store could not be opened
        if tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"):
            raise
        raise UsageError(
            f"--to mlflow: MLflow's default store failed ({_first_line(exc)}); name one with --tracking-uri or "
            "MLFLOW_TRACKING_URI (a server's http(s):// URL; sqlite:/// needs the full mlflow package)"
        ) from None
    experiment_id = found.experiment_id if found is not None else client.create_experiment(experiment)
    run = client.create_run(experiment_id, run_name=run_name,
                            tags={"lc_bench.protocol": manifest.protocol, "lc_bench.model": manifest.model})
    run_id = run.info.run_id
    status = "FAILED"
    try:
        now = int(time.time() * 1000)
        params = [Param(name, value) for name, value in flat_params(run_params(manifest)).items()]
        metrics = [Metric(name, value, now, 0) for name, value in summary_metrics(board).items()]
        metrics += [
            Metric(name, value, now, length)
            for length, values in length_curves(board).items() for name, value in values.items()
        ]
        for start in range(0, max(len(params), len(metrics)), 100):
            client.log_batch(run_id, metrics=metrics[start:start + 100], params=params[start:start + 100],
                             tags=[RunTag("lc_bench.run", run_name)] if start == 0 else [])
        for path in files:
            where = path.parent.relative_to(folder).as_posix()
            client.log_artifact(run_id, str(path), "lc_bench" if where == "." else f"lc_bench/{where}")
        status = "FINISHED"
    finally:
        client.set_terminated(run_id, status)
    where = getattr(client, "tracking_uri", tracking_uri)
    return f"{where} run {run_id}"


def upload_to_hub(
    run_name: str, folder: Path, files: Sequence[Path], repo_id: str, repo_type: str, private: bool,
    path_in_repo: str | None,
) -> str:
    """The files just exported (tables, leaderboard files) from the export folder into a Hub
    repository, created if needed; other files in the folder stay behind.
    The token is huggingface_hub's own (HF_TOKEN or `hf auth login`), never an option."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, repo_type=repo_type, private=private or None, exist_ok=True)
    commit = api.upload_folder(
        repo_id=repo_id, folder_path=str(folder), repo_type=repo_type, path_in_repo=path_in_repo,
        allow_patterns=[path.relative_to(folder).as_posix() for path in files],
        commit_message=f"lc_bench results: {run_name}",
    )
    return str(getattr(commit, "commit_url", commit))


def _sent(target: str, send: Callable[[], str]) -> str:
    """A target's failure (no login, no network, a refused upload) as one line naming it."""
    try:
        return send()
    except UsageError:
        raise
    except Exception as exc:  # any library's own error type
        raise UsageError(f"--to {target} failed: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# ---------------------------------------------------------------------------------------------


def export_run(
    run_dir: str | Path,
    *,
    fmt: str = "parquet",
    out: str | Path | None = None,
    to: Sequence[str] = (),
    repo_id: str | None = None,
    project: str = DEFAULT_PROJECT,
    tracking_uri: str | None = None,
    repo_type: str = "dataset",
    private: bool = False,
    path_in_repo: str | None = None,
) -> ExportResult:
    """Write a run's records, cells and rows as `fmt` files into `out` (default RUN/export), then
    send them to each of `to`: "wandb" and "mlflow" (`project` names the W&B project or MLflow
    experiment; `tracking_uri` the MLflow store), "hf-hub" (`repo_id`, `repo_type`; the folder
    then also holds the leaderboard's md/json/html/csv and plots, and a dataset card for a
    dataset repository). Bad input raises UsageError before anything is written."""
    from lc_bench.api import build
    from lc_bench.store import check_writable, read_manifest

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UsageError(f"run folder not found: {run_dir}")
    manifest = read_manifest(run_dir)
    fmt = check_format(fmt)
    targets = check_targets(to)
    check_target_packages(targets)
    check_repo(targets, repo_id, repo_type)
    if not project.strip():
        raise UsageError("--project is empty")
    folder = Path(out) if out is not None else run_dir / EXPORT_DIR
    check_writable(folder)
    board = build([run_dir])  # refuses a run without records
    records = records_frame(run_dir)

    result = ExportResult(folder=folder)
    tables = {"records": records, **leaderboard_frames(board)}
    for name, frame in tables.items():
        result.files.append(write_table(frame, folder / f"{name}.{fmt}", fmt))
    if "hf-hub" in targets:
        from lc_bench.metrics.export import write_text_atomic
        from lc_bench.metrics.leaderboard import leaderboard_markdown
        from lc_bench.metrics.outputs import write_outputs

        result.files += write_outputs(board, [run_dir], folder)
        if repo_type == "dataset" and not path_in_repo:
            card = hub_card(run_dir.name, fmt, list(tables), leaderboard_markdown(board))
            result.files.append(write_text_atomic(folder / "README.md", card))

    for target in targets:
        if target == "wandb":
            send = partial(log_to_wandb, board, manifest, run_dir.name, folder, result.files, project)
        elif target == "mlflow":
            send = partial(log_to_mlflow, board, manifest, run_dir.name, folder, result.files, project, tracking_uri)
        else:
            send = partial(upload_to_hub, run_dir.name, folder, result.files, str(repo_id), repo_type, private,
                           path_in_repo)
        result.sent[target] = _sent(target, send)
    return result
