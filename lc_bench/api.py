"""The Python API: one call runs an evaluation, one call builds a leaderboard; pandas comes back.

    import lc_bench
    result = lc_bench.evaluate(tasks="niah_single_1", lengths="1k,2k", runner="echo", model="./tiny")
    result.tables["overall"]          # a DataFrame per table (see `Leaderboard.tables`)
    result.records                    # one row per sample, with its scores
    board = lc_bench.leaderboard(["results/a", "results/b"], out="results/")

The CLI is a thin layer over these functions: what `lc-bench run` and `lc-bench leaderboard`
do, a notebook can do with the same options (`resolve_run_config` names them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lc_bench.axes import TaskReport
from lc_bench.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from lc_bench.config import RunConfig
    from lc_bench.judge import JudgeSummary
    from lc_bench.metrics.aggregate import AggregateOptions, Leaderboard
    from lc_bench.runloop import Progress, RunSummary


def declared_report(task: str) -> TaskReport | None:
    """A registered task's family and report axes, for runs whose manifest predates declarations."""
    from lc_bench.registry import TASKS

    try:
        task_class = TASKS.get(task)
    except UsageError:
        return None
    return TaskReport(family=task_class.family, axes=task_class.report)


def build(run_dirs: Sequence[str | Path], options: AggregateOptions | None = None) -> Leaderboard:
    """Every leaderboard table of the given run folders (no output written)."""
    from lc_bench.metrics.aggregate import build_leaderboard

    return build_leaderboard([Path(path) for path in run_dirs], options, fallback=declared_report)


def leaderboard(
    run_dirs: Sequence[str | Path] | str | Path,
    *,
    out: str | Path | None = None,
    threshold: float = 85.6,
    bootstrap: int = 1000,
    seed: int = 0,
    samples_per_cell: int = 5,
    plots: bool = False,
) -> Leaderboard:
    """The leaderboard of one or more run folders; with `out`, also every output file there
    (leaderboard.md, .csv, .json, .html and, with `plots` or where plots/ already exists, PNGs
    under plots/). `threshold` is the effective-length score (85.6 by default),
    `bootstrap` the replicates of the 95% intervals."""
    from lc_bench.metrics.aggregate import AggregateOptions
    from lc_bench.metrics.outputs import write_outputs

    if bootstrap < 1:
        raise UsageError("bootstrap must be at least 1")
    if samples_per_cell < 0:
        raise UsageError("samples_per_cell must be 0 or more")
    paths = [Path(run_dirs)] if isinstance(run_dirs, str | Path) else [Path(path) for path in run_dirs]
    board = build(paths, AggregateOptions(threshold=threshold, replicates=bootstrap, seed=seed))
    if out is not None:
        from lc_bench.store import check_writable

        check_writable(Path(out))
        board.written = write_outputs(board, paths, Path(out), samples_per_cell, plots)
    return board


@dataclass(frozen=True)
class EvalResult:
    """What `evaluate` returns: where the run lives, what it did, and its tables."""

    run_dir: Path
    summary: RunSummary
    written_board: Leaderboard | None = field(default=None, repr=False)  # the board its output files hold

    @cached_property
    def leaderboard(self) -> Leaderboard:
        """The run's tables: those its output files were written from, else built on first use
        (a rerun of a finished run with `write_outputs=False` then costs its keys and nothing more)."""
        return self.written_board if self.written_board is not None else leaderboard([self.run_dir])

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every leaderboard table by name (overall, rows, cells, depths, buckets, ...)."""
        return self.leaderboard.tables()

    @cached_property
    def records(self) -> pd.DataFrame:
        """One row per sample (its latest record): ids, lengths, depth, output, every score."""
        return read_records(self.run_dir)


def read_records(run_dir: str | Path) -> pd.DataFrame:
    """A run's latest record per sample as a flat DataFrame (scores as `score.NAME` columns)."""
    import pandas as pd

    from lc_bench.store import RECORDS, iter_records, latest_by_key, read_manifest

    read_manifest(Path(run_dir))  # a clear error for a folder that is not a run
    rows = []
    for record in latest_by_key(iter_records(Path(run_dir) / RECORDS)).values():
        completion = record.get("completion") or {}
        error = completion.get("error")
        rows.append({
            **{name: record.get(name) for name in ("key", "task", "family", "sample_id", "model", "runner",
                                                   "target_length", "input_tokens", "max_new_tokens", "depth",
                                                   "truncated", "score")},
            "output": completion.get("text", ""),
            "finish_reason": completion.get("finish_reason"),
            "latency_s": completion.get("latency_s"),
            "queue_s": completion.get("queue_s"),
            "error": f"{error.get('type')}: {error.get('message')}" if error else None,
            **{f"score.{name}": value for name, value in (record.get("scores") or {}).items()},
        })
    return pd.DataFrame(rows)


def evaluate(
    model: str | None = None,
    tasks: str | Sequence[str] | None = None,
    lengths: str | Sequence[int] | None = None,
    *,
    depths: str | Sequence[float] | None = None,
    samples: int | None = None,
    suite: str | None = None,
    runner: str | None = None,
    runner_options: Mapping[str, Any] | None = None,
    task_options: Mapping[str, Mapping[str, Any]] | None = None,
    tokenizer: str | None = None,
    max_new_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    allow_fixtures: bool | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    name: str | None = None,
    progress: Progress | None = None,
    write_outputs: bool = True,
    plots: bool = False,
    config: str | Path | None = None,
) -> EvalResult:
    """Run (or resume) an evaluation and return its leaderboard; the same options as `lc-bench run`.

    `model`: an HF folder, a .gguf file or a hub id (default: the embedded SmolLM2). `tasks`:
    names (or a comma-separated string); `lengths`: "1k,2k,4k", "4k:128k" or token counts;
    `depths`: "0,50,100", "0:100:11", "sigmoid:11", "random" or numbers. `runner`: hf (default),
    vllm, openai, ray, echo, constant; `runner_options` and `task_options` ({task: {param: value}})
    are validated like their command-line forms. `temperature` / `top_p`: None keeps the suite's
    (a paper preset samples as its paper did) or greedy decoding. A paper preset refuses to fall
    back to shipped fixtures when its data is missing unless `allow_fixtures` (its protocol is then
    labelled NAME+fixtures). `out`: the results root ("results" unless the run file names one).
    `config`: a run file (YAML, as `lc-bench run --config`, see lc_bench/run_file.py) whose values
    fill every argument left as None; the arguments given here win over it, and it wins over the
    suite. Bad input raises `lc_bench.errors.UsageError`
    before anything is written. With `write_outputs`, the leaderboard files land in the run folder
    as `lc-bench run` writes them: the PNG plots only with `plots` (or where an earlier call made
    them; `leaderboard(run_dir, out=run_dir, plots=True)` writes them any time).
    """
    from lc_bench.run_config import resolve_run_config

    resolved = resolve_run_config(
        suite=suite, tasks=tasks, lengths=lengths, depths=depths, samples=samples, seed=seed, runner=runner,
        model=model, tokenizer=tokenizer, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
        allow_fixtures=allow_fixtures, out=out, name=name, runner_options=runner_options, task_params=task_options,
        config_file=config,
    )
    return run(resolved, progress, write_outputs, plots)


def run(
    config: RunConfig, progress: Progress | None = None, write_outputs: bool = True, plots: bool = False
) -> EvalResult:
    """`evaluate` for a config already resolved (`run_config.resolve_run_config`): what the CLI calls.
    PNG plots are written with `plots`, or rewritten where the run folder already has them: the
    tables and the HTML page (which draws its own plots) are what a run needs, and matplotlib
    costs about a second of every short run."""
    from lc_bench.runloop import run_evaluation

    summary = run_evaluation(config, progress=progress)
    if not write_outputs:
        return EvalResult(run_dir=summary.run_dir, summary=summary)
    board = leaderboard([summary.run_dir], out=summary.run_dir, plots=plots)
    return EvalResult(run_dir=summary.run_dir, summary=summary, written_board=board)


def judge(
    run_dir: str | Path,
    runner: str,
    *,
    model: str | None = None,
    tokenizer: str | None = None,
    runner_options: Mapping[str, Any] | None = None,
    tasks: Sequence[str] | None = None,
    setting: str = "auto",
) -> JudgeSummary:
    """Grade a run's outputs with a judge model (`lc-bench judge`): every task of the run that
    declares a judge plan, or `tasks`. The judge is any runner; its model resolves as for `evaluate`
    (`tokenizer` for API models). Judged records are appended (the latest wins); rerunning resumes.
    `setting`: "paper" samples the judge as each benchmark's paper did (e.g. LongWriter: temperature
    0.5, up to 5 tries), "lc_bench" greedily with one try, "auto" the paper's for records made under
    a paper protocol."""
    from lc_bench.judge import judge_run
    from lc_bench.models import resolve_model, resolve_served_model
    from lc_bench.registry import RUNNERS
    from lc_bench.runners.base import RunnerContext, parse_options
    from lc_bench.store import read_manifest
    from lc_bench.tokenizers import resolve_tokenizer

    read_manifest(Path(run_dir))  # a clear error for a folder that is not a run
    runner_class = RUNNERS.get(runner)
    options = parse_options(runner_class, dict(runner_options or {}))
    ref = resolve_model(model) if tokenizer is None else resolve_served_model(model)
    judge_runner = runner_class(RunnerContext(model=ref, tokenizer=resolve_tokenizer(tokenizer, ref)), options)
    try:
        return judge_run(Path(run_dir), judge_runner, ref.name, None if tasks is None else tuple(tasks), setting)
    finally:
        judge_runner.close()
