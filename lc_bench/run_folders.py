"""Run folders named by a user (often a shell glob) and the leaderboard written beside them.

`lc-bench leaderboard results/*` also matches the leaderboard files an earlier call wrote into
results/; they are skipped here rather than refused, so the same command can be rerun.
"""

from __future__ import annotations

import os
from pathlib import Path

from lc_bench.api import build
from lc_bench.errors import UsageError
from lc_bench.metrics.aggregate import AggregateOptions, Leaderboard
from lc_bench.metrics.html import DEFAULT_SAMPLES_PER_CELL
from lc_bench.metrics.leaderboard import leaderboard_markdown
from lc_bench.metrics.outputs import OUTPUT_NAMES, PLOTS_DIR, write_outputs
from lc_bench.store import MANIFEST

# what a glob over a results folder picks up besides run folders: earlier outputs, baseline files
SKIPPED_SUFFIXES = (".tmp", ".png", ".json")


def resolve_run_dirs(paths: list[Path]) -> list[Path]:
    """The run folders among `paths` (those holding a manifest), leaderboard outputs skipped.

    Raises UsageError for a missing path, a folder that is not a run, or no run at all.
    """
    run_dirs = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"run folder not found: {path}")
        if path.is_dir() and (path / MANIFEST).exists():
            run_dirs.append(path)
        elif path.name in OUTPUT_NAMES or path.name == PLOTS_DIR or path.suffix in SKIPPED_SUFFIXES:
            continue
        else:
            raise UsageError(f"{path} is not a run folder (no {MANIFEST})")
    if not run_dirs:
        raise UsageError("no run folders among: " + ", ".join(str(p) for p in paths))
    return run_dirs


def default_output_dir(run_dirs: list[Path]) -> Path:
    """One run: its own folder. Several: their common parent (results/* -> results/).

    Runs with different parents have no natural place for a merged leaderboard: UsageError.
    """
    if len(run_dirs) == 1:
        return run_dirs[0]
    parents = {path.resolve().parent for path in run_dirs}
    if len(parents) == 1:
        return Path(os.path.relpath(parents.pop()))
    raise UsageError("the run folders have different parents; say where to write with --out")


def write_leaderboard(
    run_dirs: list[Path],
    target_dir: Path,
    options: AggregateOptions | None = None,
    samples_per_cell: int = DEFAULT_SAMPLES_PER_CELL,
    plots: bool = False,
) -> str:
    """Every leaderboard output (md, csv, json, html; PNG plots with `plots`, or where `target_dir`
    already has them) of `run_dirs` into `target_dir`.

    Returns the markdown followed by a line saying where the files went: what the command line
    prints (`lc_bench.leaderboard` is the same without the printing).
    """
    board = build(run_dirs, options)
    board.written = write_outputs(board, run_dirs, target_dir, samples_per_cell, plots)
    return leaderboard_text(board, target_dir)


def leaderboard_text(board: Leaderboard, target_dir: Path) -> str:
    """The markdown, then where the files went (and any lines skipped as unreadable)."""
    html = next(path for path in board.written if path.suffix == ".html")
    markdown = board.written_markdown if board.written_markdown is not None else leaderboard_markdown(board)
    return markdown + f"\nwrote {len(board.written)} files to {target_dir} (open {html})\n"
