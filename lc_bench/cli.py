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

from lc_bench.cli_common import Version
from lc_bench.cli_export import export_command
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
    """typer (0.2x) also builds that pydantic adapter for an option left unset (None), only to return
    None: `lc-bench tasks` would pay it for its unused --family and --search. An optional, single
    value option without a callback that was not given stays None without it; nothing else changes."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - typer's signature
        super().__init__(*args, **kwargs)
        for param in self.params:
            if not (param.required or param.multiple or param.nargs != 1 or param.callback is not None):
                param.process_value = _none_stays_none(param.process_value)


def _none_stays_none(process_value):  # noqa: ANN001, ANN202 - click's bound method
    def process(ctx: typer.Context, value: object) -> object:
        return None if value is None else process_value(ctx, value)

    return process


app = typer.Typer(
    cls=_Group,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help: rich's help formatter costs more to import than typer itself (benchmarks/cli_startup.py)
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Long-context evaluation: exact-length tasks, per-length leaderboards.",
)




@app.callback(invoke_without_command=True)
def _options(context: typer.Context, version: Version = False) -> None:
    """Options before the command; no command at all prints the help."""
    if context.invoked_subcommand is None:
        typer.echo(context.get_help())


@app.command("tasks", cls=_Command)
def tasks_command(
    family: Annotated[
        str | None, typer.Option(metavar="NAME", help="only this family's tasks (e.g. ruler, longbench)")
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="only tasks whose name, family, description or parameters contain TEXT"),
    ] = None,
    version: Version = False,
) -> None:
    """List the registered tasks with their parameters, defaults and what each parameter does."""
    from lc_bench import task_listing
    from lc_bench.models import cache_dir

    if family is None and search is None:
        typer.echo(task_listing.cached_listing_text(cache_dir()), nl=False)
        return
    typer.echo(task_listing.filtered_listing_text(cache_dir(), family=family, search=search), nl=False)


@app.command("runners", cls=_Command)
def runners_command(version: Version = False) -> None:
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
def suites_command(version: Version = False) -> None:
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
        str | None,
        typer.Option(metavar="NAME|FILE.yaml", help="a shipped suite (list them with: lc-bench suites; *-paper: a "
                     "published protocol) or your own FILE.yaml; options below override it"),
    ] = None,
    tasks: Annotated[
        str | None, typer.Option(metavar="TASKS", help="comma-separated task names (default: niah; list them with: "
                                 "lc-bench tasks)")
    ] = None,
    lengths: Annotated[str | None, typer.Option(metavar="LENGTHS", help="e.g. 1k,2k,4k or 4k:128k (k = 1024)")] = None,
    depths: Annotated[
        str | None, typer.Option(metavar="DEPTHS", help="0,50,100 | 0:100:11 | sigmoid:11 | random")
    ] = None,
    samples: Annotated[int | None, typer.Option(metavar="N", help="samples per length x depth cell")] = None,
    seed: Annotated[
        int | None, typer.Option(metavar="N", help="sample seed (default 0, or a paper preset's own)")
    ] = None,
    runner: Annotated[
        str | None, typer.Option(metavar="NAME", help="hf, vllm, openai, ray, echo, constant (default: hf; list "
                                 "them with: lc-bench runners)")
    ] = None,
    runner_opt: Annotated[
        list[str], typer.Option(metavar="NAME=VALUE", help="runner option (repeatable; see lc-bench runners)")
    ] = [],  # noqa: B006
    endpoints: Annotated[
        str | None, typer.Option(metavar="URL,URL", help="openai runner: replica URLs (spread, with failover)")
    ] = None,
    task_opt: Annotated[
        list[str], typer.Option(metavar="TASK.NAME=VALUE", help="task parameter (repeatable; see lc-bench tasks)")
    ] = [],  # noqa: B006
    haystack: Annotated[
        str | None, typer.Option(metavar="CORPUS", help="essay corpus for essay-haystack tasks: folder of .txt, "
                                 "FILE.jsonl:FIELD, hf:ID")
    ] = None,
    model: Annotated[
        str | None, typer.Option(metavar="MODEL", help="HF folder, .gguf file, hub id, or an API model's name "
                                 "(with --tokenizer); default: SmolLM2")
    ] = None,
    tokenizer: Annotated[
        str | None, typer.Option(metavar="TOKENIZER", help="length tokenizer for API models: tiktoken | "
                                 "tiktoken:ENCODING | HF folder/hub id")
    ] = None,
    max_new_tokens: Annotated[
        int | None, typer.Option(metavar="N", help="override every task's output budget")
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(metavar="T", help="sampling temperature (default: 0, greedy; a paper preset's own)")
    ] = None,
    top_p: Annotated[
        float | None, typer.Option(metavar="P", help="nucleus sampling (default: 1; a paper preset's own)")
    ] = None,
    allow_fixtures: Annotated[
        bool | None,
        typer.Option(help="let a *-paper suite use the shipped fixtures when its data is missing (a try-out)"),
    ] = None,
    out: Annotated[Path | None, typer.Option(metavar="DIR", help="results root (default: results)")] = None,
    config: Annotated[
        Path | None,
        typer.Option(metavar="FILE.yaml", help="run file holding any of these options (flags given here win)"),
    ] = None,
    name: Annotated[str | None, typer.Option(metavar="NAME", help="run folder name (default MODEL__RUNNER)")] = None,
    plots: Annotated[
        bool,
        typer.Option("--plots", help="also write PNG plots (plots/; kept up to date once made). The HTML page has "
                     "its own; `lc-bench leaderboard RUN_DIR` writes them any time"),
    ] = False,
    version: Version = False,
) -> None:
    """Evaluate a model; rerunning the same command resumes where it stopped."""
    from lc_bench import api
    from lc_bench.progress import RichRunProgress
    from lc_bench.run_config import resolve_run_config
    from lc_bench.run_folders import leaderboard_text

    resolved = resolve_run_config(
        suite=suite, tasks=tasks, lengths=lengths, depths=depths, samples=samples, seed=seed, runner=runner,
        runner_opt=[*runner_opt, *([f"endpoints={endpoints}"] if endpoints else [])], task_opt=task_opt,
        haystack=haystack, model=model, tokenizer=tokenizer,
        max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, allow_fixtures=allow_fixtures,
        out=out, name=name, config_file=config,
    )
    result = api.run(resolved, progress=RichRunProgress(), plots=plots)
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
        Path | None,
        typer.Option(metavar="DIR", help="output folder (default: the run folder, or the runs' common parent)"),
    ] = None,
    threshold: Annotated[float, typer.Option(metavar="SCORE", help="effective-length threshold (RULER: 85.6)")] = 85.6,
    bootstrap: Annotated[int, typer.Option(metavar="N", help="bootstrap replicates for the 95% intervals")] = 1000,
    seed: Annotated[int, typer.Option(metavar="N", help="bootstrap seed")] = 0,
    samples_per_cell: Annotated[
        int, typer.Option(metavar="N", help="samples shown per cell in the HTML drill-down")
    ] = 5,
    plots: Annotated[
        bool,
        typer.Option("--plots", help="also write PNG plots for papers (plots/; kept up to date once made). The HTML "
                     "page draws its own"),
    ] = False,
    version: Version = False,
) -> None:
    """Per-length leaderboard of one or more runs: md, csv, json, html (and PNG plots with --plots)."""
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
    typer.echo(write_leaderboard(runs, target, options, samples_per_cell, plots), nl=False)


@app.command("show", cls=_Command)
def show_command(
    run_dir: Annotated[Path, typer.Argument(help="the run folder")],
    sample_id: Annotated[str, typer.Argument(help="a recorded sample id, e.g. niah_single_2/32k/d50/0")],
    key: Annotated[
        str | None, typer.Option(metavar="KEY", help="the record's key, when the sample ran in several settings")
    ] = None,
    around: Annotated[
        int | None, typer.Option(metavar="CHARS", help="print only this many characters either side of the needle")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="prompt, reply, references and check as JSON")] = False,
    version: Version = False,
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


GATE_FORMATS = ("text", "json", "junit", "md")  # lc_bench.metrics.gate.FORMATS, without importing it


@app.command("gate", cls=_Command)
def gate_command(
    run_dir: Annotated[Path, typer.Argument(help="the run to check")],
    baseline: Annotated[Path, typer.Option(metavar="FILE", help="baseline JSON (write one with --write-baseline)")],
    tolerance: Annotated[
        float, typer.Option(metavar="POINTS", help="score points a cell may drop before it can fail")
    ] = 2.0,
    per_length: Annotated[bool, typer.Option(help="compare task x length cells, not task averages")] = False,
    write_baseline: Annotated[bool, typer.Option(help="record this run as the baseline and exit")] = False,
    model: Annotated[str | None, typer.Option(metavar="NAME", help="which model, when the run has several")] = None,
    allow_missing: Annotated[bool, typer.Option(help="pass even when baseline cells are missing")] = False,
    max_error_rate: Annotated[
        float, typer.Option(metavar="SHARE", help="fail when more than this share (0-1) of the run's samples "
                            "errored; 0: any error fails")
    ] = 0.0,
    strict_config: Annotated[
        bool, typer.Option(help="fail (not just warn) when the run's runner, config (tasks, lengths, depths, "
                           "samples, seed, sampling, protocol) or lc_bench version differ from the baseline's")
    ] = False,
    output_format: Annotated[
        str, typer.Option("--format", metavar="FORMAT", help="text | json | junit (JUnit XML) | md")
    ] = "text",
    output: Annotated[
        Path | None, typer.Option(metavar="FILE", help="write the --format report to FILE (the text report "
                                  "still goes to stdout)")
    ] = None,
    seed: Annotated[int, typer.Option(metavar="N", help="bootstrap seed")] = 0,
    version: Version = False,
) -> None:
    """Exit 1 when a cell dropped by more than --tolerance and the drop is significant (95% bootstrap), when
    baseline cells are missing, or when samples errored (--max-error-rate). With GITHUB_STEP_SUMMARY set, a
    markdown verdict is appended to that file."""
    if tolerance < 0:
        raise UsageError(f"--tolerance must be 0 or more (got {tolerance:g})")
    if not 0 <= max_error_rate <= 1:
        raise UsageError(f"--max-error-rate is a share of the samples, from 0 to 1 (got {max_error_rate:g})")
    if output_format not in GATE_FORMATS:
        from lc_bench.registry import did_you_mean

        raise UsageError(f"unknown --format {output_format!r}{did_you_mean(output_format, GATE_FORMATS, '; ')} "
                         f"(formats: {', '.join(GATE_FORMATS)})")
    from lc_bench.api import build
    from lc_bench.metrics import gate as gating
    from lc_bench.run_folders import resolve_run_dirs

    runs = resolve_run_dirs([run_dir])
    board = build(runs)
    if write_baseline:
        chosen = gating.pick_model(board, model)
        document = gating.write_baseline(board, chosen, baseline, runs)
        typer.echo(f"baseline for {chosen}: {len(document['cells'])} cells, runner {document['runner']}, "
                   f"config {document['config_hash'] or 'not recorded'} -> {baseline}")
        if document["errored_samples"]:
            typer.echo(f"lc-bench: warning: {document['errored_samples']} samples of the run errored; the baseline "
                       "holds only the scored ones (rerun the run to resume them, then record it again)", err=True)
        return
    options = gating.GateOptions(
        tolerance=tolerance, per_length=per_length, allow_missing=allow_missing, seed=seed,
        max_error_rate=max_error_rate, strict_config=strict_config,
    )
    result = gating.gate(board, baseline, model, options, runs)
    if output is not None:
        from lc_bench.metrics.export import write_text_atomic

        write_text_atomic(output, gating.render(result, output_format) + "\n")
        typer.echo(gating.report(result))
    else:
        typer.echo(gating.render(result, output_format))
        if output_format != "text":  # stdout is the machine-readable report: the setup warnings go to stderr
            for label, line in result.setup_lines():
                typer.echo(f"lc-bench: {label}: {line}", err=True)
    _append_step_summary(gating.markdown(result))
    if result.failed:
        raise typer.Exit(1)


def _append_step_summary(text: str) -> None:
    """GitHub Actions shows the markdown appended to the file GITHUB_STEP_SUMMARY names; a file that
    cannot be written is a warning (the gate's verdict stands)."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        typer.echo(f"lc-bench: warning: cannot append the gate summary to GITHUB_STEP_SUMMARY={target}: "
                   f"{exc.strerror or exc}", err=True)


@app.command("judge", cls=_Command)
def judge_command(
    run_dir: Annotated[Path, typer.Argument(help="run folder whose outputs to grade")],
    runner: Annotated[
        str, typer.Option(metavar="NAME", help="judge runner: openai (API model), hf, vllm, constant (tests)")
    ],
    model: Annotated[
        str | None, typer.Option(metavar="MODEL", help="judge model (as for run: folder, hub id, served name)")
    ] = None,
    tokenizer: Annotated[
        str | None, typer.Option(metavar="TOKENIZER", help="judge tokenizer for API models: tiktoken[:ENC] or HF")
    ] = None,
    runner_opt: Annotated[
        list[str], typer.Option(metavar="NAME=VALUE", help="runner option (repeatable)")
    ] = [],  # noqa: B006
    tasks: Annotated[
        str | None,
        typer.Option(metavar="TASKS", help="comma-separated tasks to grade (default: the run's tasks that declare a "
                     "judge)"),
    ] = None,
    setting: Annotated[
        str, typer.Option(metavar="SETTING", help="judge sampling: paper (as published), lc_bench (greedy, one try), "
                          "auto (paper for records of a paper protocol)")
    ] = "auto",
    version: Version = False,
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


app.command("export", cls=_Command)(export_command)


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
        code = app(standalone_mode=False, prog_name="lc-bench")  # usage lines say lc-bench, however started
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
