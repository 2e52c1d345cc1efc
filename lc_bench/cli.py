"""The `lc-bench` command: thin wrappers that parse options, call the library and print.

Exit codes: 0 ok, 1 run finished with errors recorded, 2 bad input (one line on stderr).

Startup time matters here (`lc-bench --help` should answer at once), so this module imports only
typer at the top: every command imports the library it calls inside its body, and nothing here
imports torch, transformers, pandas or the like.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from lc_bench import __version__
from lc_bench.errors import UsageError


class _FalseHelpDefault:
    """typer (0.2x) coerces every option value that is not already a bool through pydantic, and its
    help option's value is None unless given: every command paid the import of pydantic's adapters
    (~0.15 s, half of `lc-bench gate --help`) to learn that help was not asked for. A help option
    that defaults to False skips that work; nothing else changes."""

    def get_help_option(self, ctx: typer.Context):  # noqa: ANN201 - typer's option type
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None and option.default is None:
            option.default = False
        return option


class _Group(_FalseHelpDefault, typer.core.TyperGroup):
    pass


class _Command(_FalseHelpDefault, typer.core.TyperCommand):
    pass


app = typer.Typer(
    cls=_Group,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help: rich's help formatter costs more to import than typer itself (benchmarks/cli_startup.py)
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Long-context evaluation: exact-length tasks, per-length leaderboards.",
)


def _print_version(requested: bool) -> None:
    if requested:
        typer.echo(f"lc-bench {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _options(
    context: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", help="print the version and exit", callback=_print_version, is_eager=True)
    ] = False,
) -> None:
    """Options before the command; no command at all prints the help."""
    if context.invoked_subcommand is None:
        typer.echo(context.get_help())


@app.command("tasks", cls=_Command)
def tasks_command() -> None:
    """List the registered tasks with their parameters and defaults."""
    from lc_bench.models import cache_dir
    from lc_bench.task_listing import cached_listing_text

    typer.echo(cached_listing_text(cache_dir()), nl=False)


@app.command("runners", cls=_Command)
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


@app.command("suites", cls=_Command)
def suites_command() -> None:
    """List the shipped suites."""
    from lc_bench.suites.loader import load_suite, shipped_suites

    for suite_name in shipped_suites():
        suite = load_suite(suite_name)
        typer.echo(f"{suite_name}: {suite.description}")
        if suite.protocol:
            typer.echo(f"    protocol {suite.protocol}: {suite.changes}")
        typer.echo(f"    tasks: {', '.join(suite.tasks)}")
        typer.echo(f"    lengths {suite.lengths}, depths {suite.depths}, samples {suite.samples}")


@app.command("run", cls=_Command)
def run_command(
    suite: Annotated[
        str | None, typer.Option(help="shipped suite (see lc-bench suites; *-paper: a published protocol) or FILE.yaml")
    ] = None,
    tasks: Annotated[str | None, typer.Option(help="comma-separated task names (default: niah)")] = None,
    lengths: Annotated[str | None, typer.Option(help="e.g. 1k,2k,4k or 4k:128k (k = 1024)")] = None,
    depths: Annotated[str | None, typer.Option(help="0,50,100 | 0:100:11 | sigmoid:11 | random")] = None,
    samples: Annotated[int | None, typer.Option(help="samples per length x depth cell")] = None,
    seed: Annotated[int | None, typer.Option(help="sample seed (default 0, or a paper preset's own)")] = None,
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
    temperature: Annotated[
        float | None, typer.Option(help="sampling temperature (default: 0, greedy; a paper preset's own)")
    ] = None,
    top_p: Annotated[float | None, typer.Option(help="nucleus sampling (default: 1; a paper preset's own)")] = None,
    allow_fixtures: Annotated[
        bool, typer.Option(help="let a *-paper suite use the shipped fixtures when its data is missing (a try-out)")
    ] = False,
    out: Annotated[Path, typer.Option(help="results root")] = Path("results"),
    name: Annotated[str | None, typer.Option(help="run folder name (default MODEL__RUNNER)")] = None,
) -> None:
    """Evaluate a model; rerunning the same command resumes where it stopped."""
    from lc_bench import api
    from lc_bench.progress import RichRunProgress
    from lc_bench.run_config import resolve_run_config
    from lc_bench.run_folders import leaderboard_text

    config = resolve_run_config(
        suite=suite, tasks=tasks, lengths=lengths, depths=depths, samples=samples, seed=seed, runner=runner,
        runner_opt=[*runner_opt, *([f"endpoints={endpoints}"] if endpoints else [])], task_opt=task_opt,
        haystack=haystack, model=model, tokenizer=tokenizer,
        max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, allow_fixtures=allow_fixtures,
        out=out, name=name,
    )
    result = api.run(config, progress=RichRunProgress())
    summary = result.summary
    if summary.foreign_lines:
        typer.echo(f"lc-bench: warning: {summary.foreign_lines} lines of {summary.run_dir}/records.jsonl or "
                   "stages.jsonl are not records; they were skipped and their samples generated again", err=True)
    typer.echo(leaderboard_text(result.leaderboard, summary.run_dir))
    typer.echo(
        f"{summary.total} samples: {summary.skipped} already recorded, {summary.generated} generated, "
        f"{summary.errors} errors, {summary.wall_s:.1f} s -> {summary.run_dir}"
    )
    if summary.errors:
        raise typer.Exit(1)


@app.command("leaderboard", cls=_Command)
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
    if bootstrap < 1:
        raise UsageError("--bootstrap must be at least 1")
    if samples_per_cell < 0:
        raise UsageError("--samples-per-cell must be 0 or more")
    from lc_bench.metrics.aggregate import AggregateOptions
    from lc_bench.run_folders import default_output_dir, resolve_run_dirs, write_leaderboard
    from lc_bench.store import check_writable

    runs = resolve_run_dirs(run_dirs)
    target = out if out is not None else default_output_dir(runs)
    check_writable(target)
    options = AggregateOptions(threshold=threshold, replicates=bootstrap, seed=seed)
    typer.echo(write_leaderboard(runs, target, options, samples_per_cell), nl=False)


@app.command("show", cls=_Command)
def show_command(
    run_dir: Annotated[Path, typer.Argument(help="the run folder")],
    sample_id: Annotated[str, typer.Argument(help="a recorded sample id, e.g. niah_single_2/32k/d50/0")],
    key: Annotated[str | None, typer.Option(help="the record's key, when the sample ran in several settings")] = None,
    around: Annotated[
        int | None, typer.Option(help="print only this many characters either side of the needle")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="prompt, reply, references and check as JSON")] = False,
) -> None:
    """Rebuild and print the full prompt of a recorded sample, checked against its stored sha256."""
    import json

    from lc_bench.show import excerpt, show_prompt

    shown = show_prompt(run_dir, sample_id, key)
    text = shown.prompt if around is None else excerpt(shown, around)
    check = (
        f"the rebuilt prompt matches the recorded sha256 ({shown.input_tokens} tokens)"
        if shown.matches
        else "the rebuilt prompt does NOT match the recorded sha256: the data, the tokenizer or lc_bench "
        "changed since the run"
    )
    if as_json:
        record = shown.record
        typer.echo(json.dumps({
            "sample_id": record["sample_id"], "key": record["key"], "matches": shown.matches,
            "prompt_sha256": record["prompt_sha256"], "prompt": text, "reply": record["completion"]["text"],
            "references": record["references"], "score": record.get("score"),
        }, ensure_ascii=False, indent=1))
    else:
        typer.echo(text)
        typer.echo(f"lc-bench show: {check}", err=True)
    if not shown.matches:
        raise typer.Exit(1)


@app.command("gate", cls=_Command)
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
    if tolerance < 0:
        raise UsageError("--tolerance must be 0 or more")
    from lc_bench.api import build
    from lc_bench.metrics import gate as gating
    from lc_bench.run_folders import resolve_run_dirs

    board = build(resolve_run_dirs([run_dir]))
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


@app.command("judge", cls=_Command)
def judge_command(
    run_dir: Annotated[Path, typer.Argument(help="run folder whose outputs to grade")],
    runner: Annotated[str, typer.Option(help="judge runner: openai (API model), hf, vllm, constant (tests)")],
    model: Annotated[str | None, typer.Option(help="judge model (as for run: folder, hub id, served name)")] = None,
    tokenizer: Annotated[str | None, typer.Option(help="judge tokenizer for API models: tiktoken[:ENC] or HF")] = None,
    runner_opt: Annotated[list[str], typer.Option(help="runner option NAME=VALUE (repeatable)")] = [],  # noqa: B006
    tasks: Annotated[
        str | None, typer.Option(help="comma-separated tasks to grade (default: the run's tasks that declare a judge)")
    ] = None,
    setting: Annotated[
        str, typer.Option(help="judge sampling: paper (as published), lc_bench (greedy, one try), auto (paper for "
                          "records of a paper protocol)")
    ] = "auto",
) -> None:
    """Grade a run's outputs with a judge model (tasks that declare one: longwrite quality, longgen checks)."""
    from lc_bench import api
    from lc_bench.run_config import parse_key_values
    from lc_bench.run_folders import write_leaderboard

    chosen = None if tasks is None else tuple(t.strip() for t in tasks.split(",") if t.strip())
    summary = api.judge(run_dir, runner, model=model, tokenizer=tokenizer,
                        runner_options=parse_key_values(runner_opt, "--runner-opt"), tasks=chosen, setting=setting)
    typer.echo(f"judged {summary.judged} samples, {summary.failures} verdicts did not parse, "
               f"{summary.retried} tries asked again, {summary.skipped} already judged -> {run_dir}")
    typer.echo(write_leaderboard([run_dir], run_dir))


def quiet_libraries() -> None:
    """Library progress bars and warnings would bury the run's own progress bar. Environment
    variables only: importing transformers to silence it would cost every command seconds (the
    runners that load it silence it themselves)."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _click_exceptions() -> tuple[type[BaseException], type[BaseException]]:
    """UsageError and ClickException of the click that typer uses: its own vendored copy in newer
    releases, click itself in older ones (imported only then: it is not free)."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions.UsageError, exceptions.ClickException


INTERRUPTED = 130  # the shell's code for SIGINT


def main() -> None:
    """Console entry point: maps UsageError to one line and exit code 2."""
    quiet_libraries()
    click_usage_error, click_error = _click_exceptions()
    try:
        code = app(standalone_mode=False)
    except UsageError as exc:
        typer.echo(f"lc-bench: error: {exc}", err=True)
        sys.exit(2)
    except click_usage_error as exc:
        typer.echo(f"lc-bench: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except click_error as exc:
        typer.echo(f"lc-bench: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        code = INTERRUPTED
    if code == INTERRUPTED:  # typer turns Ctrl-C into this exit code before it reaches us
        typer.echo("lc-bench: interrupted; rerun the same command to resume", err=True)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
