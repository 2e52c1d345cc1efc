"""The `lc-bench` command: thin wrappers that parse options, call the library and print.

Exit codes: 0 ok, 1 run finished with errors recorded, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer

from lc_bench.errors import UsageError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Long-context evaluation: exact-length tasks, per-length leaderboards.",
)


def _parse_value(text: str) -> Any:
    """Strings stay strings (pydantic converts "4" or "true" where a field wants a number or a
    bool); JSON lists and objects are parsed."""
    if text.strip().startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise UsageError(f"malformed JSON value {text!r}") from None
    return text


def parse_key_values(items: list[str], what: str) -> dict[str, Any]:
    """["a=1", "b=x"] -> {"a": "1", "b": "x"}."""
    parsed: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"malformed {what} {item!r}: use NAME=VALUE")
        parsed[name.strip()] = _parse_value(value)
    return parsed


def parse_task_options(items: list[str]) -> dict[str, dict[str, Any]]:
    """["niah_single.haystack=noise"] -> {"niah": {"haystack": "noise"}}."""
    nested: dict[str, dict[str, Any]] = {}
    for name, value in parse_key_values(items, "--task-opt").items():
        task, dot, param = name.partition(".")
        if not dot or not task or not param:
            raise UsageError(f"malformed --task-opt {name!r}: use TASK.PARAM=VALUE")
        nested.setdefault(task, {})[param] = value
    return nested


@app.command("tasks")
def tasks_command() -> None:
    """List the registered tasks with their parameters and defaults."""
    from lc_bench.registry import TASKS
    from lc_bench.tasks.base import describe_params

    for name in TASKS.names():
        task_class = TASKS.get(name)
        typer.echo(
            f"{name}: {task_class.description} "
            f"(metric {task_class.primary_metric}, max_new_tokens {task_class.default_max_new_tokens})"
        )
        for param, kind, default in describe_params(task_class):
            typer.echo(f"    {param}: {kind} = {default}")


@app.command("runners")
def runners_command() -> None:
    """List the registered runners with their options."""
    from lc_bench.registry import RUNNERS

    for name in RUNNERS.names():
        runner_class = RUNNERS.get(name)
        typer.echo(f"{name}: {(runner_class.__doc__ or '').strip().splitlines()[0]}")
        for option, field in runner_class.options_model.model_fields.items():
            typer.echo(f"    {option} = {field.default!r}")


@app.command("run")
def run_command(
    suite: Annotated[str | None, typer.Option(help="shipped suite name (ruler, quick, niah-grid) or FILE.yaml")] = None,
    tasks: Annotated[str | None, typer.Option(help="comma-separated task names (default: niah)")] = None,
    lengths: Annotated[str | None, typer.Option(help="e.g. 1k,2k,4k or 4k:128k (k = 1024)")] = None,
    depths: Annotated[str | None, typer.Option(help="0,50,100 | 0:100:11 | sigmoid:11 | random")] = None,
    samples: Annotated[int | None, typer.Option(help="samples per length x depth cell")] = None,
    seed: int = 0,
    runner: Annotated[str, typer.Option(help="hf, echo, constant, ...")] = "hf",
    runner_opt: Annotated[list[str], typer.Option(help="runner option NAME=VALUE (repeatable)")] = [],  # noqa: B006
    task_opt: Annotated[list[str], typer.Option(help="task parameter TASK.NAME=VALUE (repeatable)")] = [],  # noqa: B006
    haystack: Annotated[
        str | None, typer.Option(help="essay corpus for essay-haystack tasks: folder of .txt, FILE.jsonl:FIELD, hf:ID")
    ] = None,
    model: Annotated[str | None, typer.Option(help="HF folder, .gguf file or hub id; default: SmolLM2")] = None,
    max_new_tokens: Annotated[int | None, typer.Option(help="override every task's output budget")] = None,
    temperature: float = 0.0,
    out: Annotated[Path, typer.Option(help="results root")] = Path("results"),
    name: Annotated[str | None, typer.Option(help="run folder name (default MODEL__RUNNER)")] = None,
) -> None:
    """Evaluate a model; rerunning the same command resumes where it stopped."""
    from lc_bench.evaluate import run_evaluation
    from lc_bench.progress import RichRunProgress

    config = resolve_run_config(
        suite=suite, tasks=tasks, lengths=lengths, depths=depths, samples=samples, seed=seed, runner=runner,
        runner_opt=runner_opt, task_opt=task_opt, haystack=haystack, model=model,
        max_new_tokens=max_new_tokens, temperature=temperature, out=out, name=name,
    )
    summary = run_evaluation(config, progress=RichRunProgress())
    markdown = write_leaderboard([summary.run_dir], summary.run_dir)
    typer.echo(markdown)
    typer.echo(
        f"{summary.total} samples: {summary.skipped} already recorded, {summary.generated} generated, "
        f"{summary.errors} errors, {summary.wall_s:.1f} s -> {summary.run_dir}"
    )
    if summary.errors:
        raise typer.Exit(1)


def resolve_run_config(**options: Any):  # noqa: ANN201 - returns RunConfig (imported lazily)
    """CLI options over the suite's values over the built-in defaults, as one RunConfig."""
    from lc_bench.config import RunConfig
    from lc_bench.grids import parse_depths
    from lc_bench.lengths import parse_lengths
    from lc_bench.registry import TASKS
    from lc_bench.suites.loader import Suite, load_suite

    suite = load_suite(options["suite"]) if options["suite"] else Suite(tasks=["niah"])
    task_text = options["tasks"] or ",".join(suite.tasks)
    task_names = tuple(t.strip() for t in task_text.split(",") if t.strip())
    if not task_names:
        raise UsageError("--tasks is empty")
    samples = options["samples"] if options["samples"] is not None else (suite.samples or 1)
    if samples < 1:
        raise UsageError("--samples must be at least 1")
    depth_text = options["depths"] or suite.depths or "0,50,100"
    task_params = {task: dict(params) for task, params in suite.task_params.items()}
    for task, params in parse_task_options(options["task_opt"]).items():
        task_params.setdefault(task, {}).update(params)
    if options["haystack"]:
        for task in task_names:
            fields = TASKS.get(task).params_model.model_fields
            if "haystack" in fields and fields["haystack"].default == "essay":
                task_params.setdefault(task, {}).setdefault("haystack", options["haystack"])
    return RunConfig(
        tasks=task_names,
        task_params=task_params,
        lengths=tuple(parse_lengths(options["lengths"] or suite.lengths or "1k,2k,4k")),
        depths=() if depth_text.strip() == "random" else tuple(parse_depths(depth_text)),
        samples_per_cell=samples,
        seed=options["seed"],
        runner=options["runner"],
        runner_options=parse_key_values(options["runner_opt"], "--runner-opt"),
        model=options["model"],
        max_new_tokens=options["max_new_tokens"],
        temperature=options["temperature"],
        out_dir=options["out"],
        run_name=options["name"],
    )


@app.command("suites")
def suites_command() -> None:
    """List the shipped suites."""
    from lc_bench.suites.loader import load_suite, shipped_suites

    for suite_name in shipped_suites():
        suite = load_suite(suite_name)
        typer.echo(f"{suite_name}: {suite.description}")
        typer.echo(f"    tasks: {', '.join(suite.tasks)}")
        typer.echo(f"    lengths {suite.lengths}, depths {suite.depths}, samples {suite.samples}")


def write_leaderboard(run_dirs: list[Path], target_dir: Path | None) -> str:
    """The markdown leaderboard; with a target folder, also leaderboard.md and the heatmap PNGs."""
    from lc_bench.metrics.aggregate import load_records, per_depth_table, per_length_table
    from lc_bench.metrics.leaderboard import leaderboard_markdown

    frame = load_records(run_dirs)
    depth_table = per_depth_table(frame)
    markdown = leaderboard_markdown(per_length_table(frame), depth_table)
    if target_dir is not None:
        from lc_bench.metrics.plots import write_heatmaps

        target_dir.mkdir(parents=True, exist_ok=True)
        (target_dir / "leaderboard.md").write_text(markdown, encoding="utf-8")
        for path in write_heatmaps(depth_table, target_dir):
            markdown += f"\nheatmap: {path}"
        markdown += "\n"
    return markdown


@app.command("leaderboard")
def leaderboard_command(
    run_dirs: Annotated[list[Path], typer.Argument(help="one or more run folders")],
    out: Annotated[Path | None, typer.Option(help="also write leaderboard.md and heatmaps into this folder")] = None,
) -> None:
    """Per-length leaderboard of one or more runs, computed from their records."""
    for run_dir in run_dirs:
        if not run_dir.is_dir():
            raise UsageError(f"run folder not found: {run_dir}")
    if out is not None:
        from lc_bench.store import check_writable

        check_writable(out)
    typer.echo(write_leaderboard(run_dirs, out), nl=False)


def quiet_libraries() -> None:
    """Library progress bars and warnings would bury the run's own progress bar."""
    import os

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def main() -> None:
    """Console entry point: maps UsageError to one line and exit code 2."""
    quiet_libraries()
    try:
        code = app(standalone_mode=False)
    except UsageError as exc:
        typer.echo(f"lc-bench: error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.UsageError as exc:
        typer.echo(f"lc-bench: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except click.exceptions.ClickException as exc:
        typer.echo(f"lc-bench: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        typer.echo("lc-bench: interrupted; rerun the same command to resume", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("lc-bench: interrupted; rerun the same command to resume", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
