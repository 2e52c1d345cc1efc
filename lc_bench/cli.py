"""The `lc-bench` command: thin wrappers that parse options, call the library and print.

Exit codes: 0 ok, 1 run finished with errors recorded, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

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
            default = field.get_default(call_default_factory=True)
            hint = f"  # {field.description}" if field.description else ""
            typer.echo(f"    {option} = {default!r}{hint}")


@app.command("run")
def run_command(
    suite: Annotated[str | None, typer.Option(help="shipped suite name (ruler, quick, niah-grid) or FILE.yaml")] = None,
    tasks: Annotated[str | None, typer.Option(help="comma-separated task names (default: niah)")] = None,
    lengths: Annotated[str | None, typer.Option(help="e.g. 1k,2k,4k or 4k:128k (k = 1024)")] = None,
    depths: Annotated[str | None, typer.Option(help="0,50,100 | 0:100:11 | sigmoid:11 | random")] = None,
    samples: Annotated[int | None, typer.Option(help="samples per length x depth cell")] = None,
    seed: int = 0,
    runner: Annotated[str | None, typer.Option(help="hf, vllm, openai, ray, echo, constant (default: hf)")] = None,
    runner_opt: Annotated[list[str], typer.Option(help="runner option NAME=VALUE (repeatable)")] = [],  # noqa: B006
    endpoints: Annotated[
        str | None, typer.Option(help="openai runner: replica URLs URL1,URL2 (spread, with failover)")
    ] = None,
    task_opt: Annotated[list[str], typer.Option(help="task parameter TASK.NAME=VALUE (repeatable)")] = [],  # noqa: B006
    haystack: Annotated[
        str | None, typer.Option(help="essay corpus for essay-haystack tasks: folder of .txt, FILE.jsonl:FIELD, hf:ID")
    ] = None,
    model: Annotated[str | None, typer.Option(help="HF folder, .gguf file or hub id; default: SmolLM2")] = None,
    tokenizer: Annotated[
        str | None, typer.Option(help="length tokenizer: tiktoken | tiktoken:ENCODING | HF folder/hub id (API models)")
    ] = None,
    max_new_tokens: Annotated[int | None, typer.Option(help="override every task's output budget")] = None,
    temperature: float = 0.0,
    out: Annotated[Path, typer.Option(help="results root")] = Path("results"),
    name: Annotated[str | None, typer.Option(help="run folder name (default MODEL__RUNNER)")] = None,
) -> None:
    """Evaluate a model; rerunning the same command resumes where it stopped."""
    from lc_bench.progress import RichRunProgress
    from lc_bench.runloop import run_evaluation

    config = resolve_run_config(
        suite=suite, tasks=tasks, lengths=lengths, depths=depths, samples=samples, seed=seed, runner=runner,
        runner_opt=[*runner_opt, *([f"endpoints={endpoints}"] if endpoints else [])], task_opt=task_opt,
        haystack=haystack, model=model, tokenizer=tokenizer,
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
    runner_options = dict(suite.runner_options) if not options["runner"] or options["runner"] == suite.runner else {}
    runner_options.update(parse_key_values(options["runner_opt"], "--runner-opt"))
    return RunConfig(
        tasks=task_names,
        task_params=task_params,
        lengths=tuple(parse_lengths(options["lengths"] or suite.lengths or "1k,2k,4k")),
        depths=() if depth_text.strip() == "random" else tuple(parse_depths(depth_text)),
        samples_per_cell=samples,
        seed=options["seed"],
        runner=options["runner"] or suite.runner or "hf",
        runner_options=runner_options,
        model=options["model"],
        tokenizer=options.get("tokenizer"),
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


def resolve_run_dirs(paths: list[Path]) -> list[Path]:
    """Run folders among the arguments; leaderboard outputs that a shell glob picks up are skipped."""
    from lc_bench.metrics.outputs import OUTPUT_NAMES, PLOTS_DIR
    from lc_bench.store import MANIFEST

    run_dirs = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"run folder not found: {path}")
        if path.is_dir() and (path / MANIFEST).exists():
            run_dirs.append(path)
        elif path.name in OUTPUT_NAMES or path.name == PLOTS_DIR or path.suffix in (".tmp", ".png", ".json"):
            continue  # an earlier leaderboard's own output, or a baseline file
        else:
            raise UsageError(f"{path} is not a run folder (no {MANIFEST})")
    if not run_dirs:
        raise UsageError("no run folders among: " + ", ".join(str(p) for p in paths))
    return run_dirs


def default_output_dir(run_dirs: list[Path]) -> Path:
    """One run: its own folder. Several: their common parent (results/* -> results/)."""
    import os

    if len(run_dirs) == 1:
        return run_dirs[0]
    parents = {path.resolve().parent for path in run_dirs}
    if len(parents) == 1:
        return Path(os.path.relpath(parents.pop()))
    raise UsageError("the run folders have different parents; say where to write with --out")


def write_leaderboard(run_dirs: list[Path], target_dir: Path, options: Any = None, per_cell: int | None = None) -> str:
    """All leaderboard outputs into target_dir; returns the markdown and the list of files."""
    from lc_bench.metrics.aggregate import build_leaderboard
    from lc_bench.metrics.html import DEFAULT_SAMPLES_PER_CELL
    from lc_bench.metrics.leaderboard import leaderboard_markdown
    from lc_bench.metrics.outputs import write_outputs

    board = build_leaderboard(run_dirs, options)
    written = write_outputs(board, run_dirs, target_dir, DEFAULT_SAMPLES_PER_CELL if per_cell is None else per_cell)
    html = next(path for path in written if path.suffix == ".html")
    return leaderboard_markdown(board) + f"\nwrote {len(written)} files to {target_dir} (open {html})\n"


@app.command("leaderboard")
def leaderboard_command(
    run_dirs: Annotated[list[Path], typer.Argument(help="run folders (results/* works: outputs are skipped)")],
    out: Annotated[
        Path | None, typer.Option(help="output folder (default: the run folder, or the runs' common parent)")
    ] = None,
    threshold: Annotated[float, typer.Option(help="effective-length threshold (RULER: 85.6)")] = 85.6,
    bootstrap: Annotated[int, typer.Option(help="bootstrap replicates for the 95% intervals")] = 1000,
    seed: Annotated[int, typer.Option(help="bootstrap seed")] = 0,
    samples_per_cell: Annotated[int, typer.Option(help="samples shown per cell in the HTML drill-down")] = 5,
) -> None:
    """Per-length leaderboard of one or more runs: md, csv, json, html and PNG plots."""
    from lc_bench.metrics.aggregate import AggregateOptions
    from lc_bench.store import check_writable

    if bootstrap < 1:
        raise UsageError("--bootstrap must be at least 1")
    if samples_per_cell < 0:
        raise UsageError("--samples-per-cell must be 0 or more")
    runs = resolve_run_dirs(run_dirs)
    target = out if out is not None else default_output_dir(runs)
    check_writable(target)
    options = AggregateOptions(threshold=threshold, replicates=bootstrap, seed=seed)
    typer.echo(write_leaderboard(runs, target, options, samples_per_cell), nl=False)


@app.command("gate")
def gate_command(
    run_dir: Annotated[Path, typer.Argument(help="the run to check")],
    baseline: Annotated[Path, typer.Option(help="baseline JSON (write one with --write-baseline)")],
    tolerance: Annotated[float, typer.Option(help="score points a cell may drop before it can fail")] = 2.0,
    per_length: Annotated[bool, typer.Option(help="compare task x length cells, not task averages")] = False,
    write_baseline: Annotated[bool, typer.Option(help="record this run as the baseline and exit")] = False,
    model: Annotated[str | None, typer.Option(help="which model, when the run folder has several")] = None,
    allow_missing: Annotated[bool, typer.Option(help="pass even when baseline cells are missing")] = False,
    seed: Annotated[int, typer.Option(help="bootstrap seed")] = 0,
) -> None:
    """Exit 1 when a cell dropped by more than --tolerance and the drop is significant (95% bootstrap)."""
    from lc_bench.metrics import gate as gating
    from lc_bench.metrics.aggregate import build_leaderboard

    if tolerance < 0:
        raise UsageError("--tolerance must be 0 or more")
    runs = resolve_run_dirs([run_dir])
    board = build_leaderboard(runs)
    if write_baseline:
        chosen = gating.pick_model(board, model)
        document = gating.write_baseline(board, chosen, baseline)
        typer.echo(f"baseline for {chosen}: {len(document['cells'])} cells -> {baseline}")
        return
    options = gating.GateOptions(tolerance=tolerance, per_length=per_length, allow_missing=allow_missing, seed=seed)
    result = gating.gate(board, baseline, model, options)
    typer.echo(gating.report(result))
    if result.failed:
        raise typer.Exit(1)


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


def _click_exceptions(name: str) -> tuple[type[BaseException], ...]:
    """The exception class from click and from the copy of click that newer typer vendors."""
    import importlib

    found = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


@app.command("judge")
def judge_command(
    run_dir: Annotated[Path, typer.Argument(help="run folder whose long outputs to grade")],
    runner: Annotated[str, typer.Option(help="judge runner: openai (API model), hf, vllm, constant (tests)")],
    model: Annotated[str | None, typer.Option(help="judge model (as for run: folder, hub id, served name)")] = None,
    tokenizer: Annotated[str | None, typer.Option(help="judge tokenizer for API models: tiktoken[:ENC] or HF")] = None,
    runner_opt: Annotated[list[str], typer.Option(help="runner option NAME=VALUE (repeatable)")] = [],  # noqa: B006
    tasks: Annotated[str, typer.Option(help="comma-separated tasks to grade")] = "longwrite,longgen",
) -> None:
    """Grade long outputs with a judge model: LongBench-Write quality (longwrite), LongGenBench checks (longgen)."""
    from lc_bench.judge import judge_run
    from lc_bench.models import resolve_model, resolve_served_model
    from lc_bench.registry import RUNNERS
    from lc_bench.runners.base import RunnerContext, parse_options
    from lc_bench.store import MANIFEST
    from lc_bench.tokenizers import resolve_tokenizer

    if not (run_dir / MANIFEST).exists():
        raise UsageError(f"{run_dir} is not a run folder (no {MANIFEST})")
    runner_class = RUNNERS.get(runner)
    options = parse_options(runner_class, parse_key_values(runner_opt, "--runner-opt"))
    ref = resolve_model(model) if tokenizer is None else resolve_served_model(model)
    judge = runner_class(RunnerContext(model=ref, tokenizer=resolve_tokenizer(tokenizer, ref)), options)
    try:
        summary = judge_run(run_dir, judge, ref.name, tuple(t.strip() for t in tasks.split(",") if t.strip()))
    finally:
        judge.close()
    typer.echo(f"judged {summary.judged} samples, {summary.failures} verdicts did not parse, "
               f"{summary.skipped} already judged -> {run_dir}")
    typer.echo(write_leaderboard([run_dir], run_dir))


def main() -> None:
    """Console entry point: maps UsageError to one line and exit code 2."""
    quiet_libraries()
    usage_errors = _click_exceptions("UsageError")
    click_errors = _click_exceptions("ClickException")
    aborts = _click_exceptions("Abort")
    try:
        code = app(standalone_mode=False)
    except UsageError as exc:
        typer.echo(f"lc-bench: error: {exc}", err=True)
        sys.exit(2)
    except usage_errors as exc:
        typer.echo(f"lc-bench: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except click_errors as exc:
        typer.echo(f"lc-bench: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except (*aborts, KeyboardInterrupt):
        typer.echo("lc-bench: interrupted; rerun the same command to resume", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
