"""`lc-bench export RUN`: the command's options; the work is lc_bench/exports.py.

Registered in lc_bench/cli.py as `app.command("export", cls=_Command)(export_command)`. Like the
other commands it imports nothing heavy at the top (pandas, pyarrow and the trackers load when it
runs), so `lc-bench --help` stays instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lc_bench.cli_common import Version


def export_command(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN", help="the run folder")],
    repo_id: Annotated[
        str | None,
        typer.Argument(metavar="REPO_ID", help="with --to hf-hub: the Hub repository, e.g. USER/lc-results"),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet, csv or jsonl")] = "parquet",
    out: Annotated[Path | None, typer.Option(help="output folder (default: RUN/export)")] = None,
    to: Annotated[
        list[str], typer.Option(help="also send to: wandb, mlflow, hf-hub (repeatable; optional extras)")
    ] = [],  # noqa: B006 - typer reads the default
    project: Annotated[str, typer.Option(help="W&B project / MLflow experiment")] = "lc_bench",
    tracking_uri: Annotated[
        str | None, typer.Option(help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
    ] = None,
    repo_type: Annotated[str, typer.Option(help="Hub repository type: dataset, model or space")] = "dataset",
    path_in_repo: Annotated[str | None, typer.Option(help="Hub folder to upload into (default: the root)")] = None,
    private: Annotated[bool, typer.Option(help="create the Hub repository private")] = False,
    version: Version = False,
) -> None:
    """Export a run's records and scores (Parquet, CSV, JSONL; W&B, MLflow, the Hub)."""
    from lc_bench.exports import export_run

    result = export_run(
        run_dir, fmt=fmt, out=out, to=to, repo_id=repo_id, project=project, tracking_uri=tracking_uri,
        repo_type=repo_type, private=private, path_in_repo=path_in_repo,
    )
    typer.echo(f"wrote {len(result.files)} files to {result.folder}")
    for target, where in result.sent.items():
        typer.echo(f"{target}: {where}")
