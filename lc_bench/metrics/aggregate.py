"""Per-sample records to leaderboard tables: cells, rows, depths. Never re-runs a model.

Levels, from the bottom up:
- task cell (model x task x length): mean of the scored samples, n, errors, truncations, mean
  input tokens, and a bootstrap interval. Errored samples are counted, never scored as 0, so an
  API outage shows as errors rather than as a silently lower score.
- family cell (model x family x length): the unweighted mean of the family's task scores, as
  a benchmark averages its tasks. Defined only when every task the model ran in that family has a
  score at that length, so a missing task cannot flatter a length.
- overall cell (model x length): the unweighted mean of the family scores, by the same rule.

Each interval comes from the same replicates all the way up: a family replicate is the mean of
its tasks' replicates (tasks resampled independently), so averages get honest intervals too.

Every row (one model's task, family or overall scores over lengths) gets its average over
lengths, the effective length (plain and strict) and wAvg(inc/dec).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lc_bench.config import DEFAULT_PROTOCOL
from lc_bench.metrics.axis_tables import BASELINE_COLUMNS, LABEL_TABLE_COLUMNS, baseline_table, label_table
from lc_bench.metrics.bootstrap import (
    DEFAULT_REPLICATES,
    DEFAULT_SEED,
    bootstrap_means,
    cell_rng,
    percentile_interval,
)
from lc_bench.metrics.catalog import Catalog, Fallback, read_catalog
from lc_bench.metrics.effective import (
    DEFAULT_THRESHOLD,
    effective_length,
    strict_effective_length,
    weighted_average_decreasing,
    weighted_average_increasing,
)
from lc_bench.metrics.generation import OUTPUT_KEYS, SECONDARY_KEYS, output_length_table, secondary_table
from lc_bench.metrics.records import load_samples, load_skipped
from lc_bench.metrics.run_facts import RunFacts, read_run_facts, settings_labels

SKIPPED_COLUMNS = ["model", "task", "target_length", "skipped"]

LEVELS = ("task", "family", "overall")
OVERALL = "overall"
CELL_COLUMNS = [
    "level", "model", "family", "task", "target_length", "score", "ci_low", "ci_high",
    "n", "errors", "truncated", "input_tokens",
]
ROW_COLUMNS = [
    "level", "model", "family", "task", "avg", "avg_ci_low", "avg_ci_high", "effective_length",
    "effective_length_strict", "wavg_inc", "wavg_dec", "n", "errors", "truncated",
]
CellId = tuple[str, str, str, str, int]  # level, model, family, task, length


@dataclass(frozen=True)
class AggregateOptions:
    """How scores are summarised; part of the leaderboard's output so readers know."""

    threshold: float = DEFAULT_THRESHOLD
    replicates: int = DEFAULT_REPLICATES
    seed: int = DEFAULT_SEED


@dataclass
class Leaderboard:
    """Every table the outputs render, plus the per-sample frame for drill-downs."""

    samples: pd.DataFrame
    cells: pd.DataFrame
    rows: pd.DataFrame
    depths: pd.DataFrame
    options: AggregateOptions
    # the tasks' declarations (family, report axes) the tables below were built from
    catalog: Catalog = field(default_factory=Catalog)
    # scores by each declared label axis (model, task, target_length, scheme = axis title, bucket = label)
    buckets: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LABEL_TABLE_COLUMNS))
    # expected score of random guessing, for tasks that state one (model, task, target_length, baseline)
    baselines: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BASELINE_COLUMNS))
    # scores by requested output length, with the declared columns (metrics/generation.py)
    generation: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[*OUTPUT_KEYS, "n", "score"]))
    # the output files last written for this board (outputs.write_outputs), for the caller to name
    written: list[Path] = field(default_factory=list)
    # run folder -> record lines skipped as unreadable (corrupt JSON, foreign or type-corrupt lines)
    unreadable_lines: dict[str, int] = field(default_factory=dict)
    # per row label: the model, run folders, settings ids and invocations it pools
    pooled: dict[str, dict] = field(default_factory=dict)
    # declared secondary scores per model x task x length
    secondary: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[*SECONDARY_KEYS, "n", "score"]))
    # samples a task left out because they could not fit (model, task, target_length, skipped)
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SKIPPED_COLUMNS))
    replicates: dict[CellId, np.ndarray] = field(repr=False, default_factory=dict)

    @property
    def lengths(self) -> list[int]:
        return sorted(int(x) for x in self.cells["target_length"].unique())

    @property
    def models(self) -> list[str]:
        return sorted(self.cells["model"].unique())

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, for notebooks: `scores` is the familiar view (a row per model x
        level x family x task, a column per length); the others are the tidy frames the outputs
        render (see the fields above)."""
        keys = ["model", "level", "family", "task"]
        by_length = self.cells.pivot(index=keys, columns="target_length", values="score")
        summary = self.rows.set_index(keys)[["avg", "effective_length"]]
        scores = summary.join(by_length)[[*by_length.columns, "avg", "effective_length"]]
        return {
            "scores": scores.reset_index(),
            "cells": self.cells, "rows": self.rows, "depths": self.depths, "buckets": self.buckets,
            "baselines": self.baselines, "generation": self.generation, "secondary": self.secondary,
            "skipped": self.skipped,
        }


def _distinguish(labels: pd.Series, parts: pd.Series) -> pd.Series:
    """`label (part)` for the labels whose samples have more than one distinct part."""
    several = parts.groupby(labels).nunique()
    labels = labels.copy()
    for label in several[several > 1].index:
        chosen = labels == label
        labels[chosen] = label + " (" + parts[chosen] + ")"
    return labels


def label_models(
    samples: pd.DataFrame, run_names: list[str] | None = None, facts: RunFacts | None = None
) -> pd.DataFrame:
    """Row labels. Runs of one model merge into one row (a retrieval run and a QA run of the
    same model belong together), except when something that decides outputs differs:
    - two models of the same name (other checkpoints, by the runs' fingerprints): "name (path)";
    - another runner: "model (runner)";
    - other settings (seed, temperature, output budget, runner options): "model (seed=5)";
    and, when two runs still hold the same task at the same length, each run its own row,
    "model [run folder]". The original model name stays in `model_name`."""
    samples["model_name"] = samples["model"].astype(str)
    labels = samples["model_name"].copy()
    if facts is not None and facts.model_ids:
        runs = samples["run"].astype(int)
        ids = runs.map(lambda i: facts.model_ids[i])
        paths = runs.map(lambda i: facts.model_paths[i] or facts.model_ids[i])
        several = ids.groupby(labels).nunique()
        for label in several[several > 1].index:
            chosen = labels == label
            shown = paths[chosen] if paths[chosen].nunique() == ids[chosen].nunique() else ids[chosen]
            labels[chosen] = label + " (" + shown + ")"
    labels = _distinguish(labels, samples["runner"].astype(str))
    if facts is not None:
        settings = samples["settings"].astype(str)
        several = settings.groupby(labels).nunique()
        for label in several[several > 1].index:
            chosen = labels == label
            names = settings_labels(sorted(set(settings[chosen])), facts)
            labels[chosen] = label + " (" + settings[chosen].map(names) + ")"
    if run_names is not None:
        cells = samples.assign(label=labels, task_name=samples["task"].astype(str))
        runs_per_cell = cells.groupby(["label", "task_name", "target_length"], observed=True)["run"].nunique()
        overlapping = set(runs_per_cell[runs_per_cell > 1].index.get_level_values("label"))
        for label in overlapping:
            chosen = labels == label
            labels[chosen] = label + " [" + samples.loc[chosen, "run"].map(lambda i: run_names[i]) + "]"
    samples["model"] = labels
    return samples


def protocol_of(settings_id: str, facts: RunFacts | None) -> str:
    """The protocol a settings id ran under (its settings name it when it is not the default)."""
    detail = facts.settings.get(settings_id, {}) if facts else {}
    return str(detail.get("protocol", DEFAULT_PROTOCOL))


def pooled_runs(samples: pd.DataFrame, run_names: list[str], facts: RunFacts | None) -> dict[str, dict]:
    """What each row pools: its run folders, settings ids, the protocols they ran under and the
    invocations that wrote them."""
    pooled = {}
    for label, group in samples.groupby(samples["model"].astype(str), sort=True):
        settings = sorted(set(group["settings"].astype(str)) - {""})
        pooled[label] = {
            "model": str(group["model_name"].iloc[0]),
            "runs": [run_names[int(i)] for i in sorted(set(group["run"]))],
            "settings": settings,
            "protocols": sorted({protocol_of(s, facts) for s in settings} or {DEFAULT_PROTOCOL}),
            "invocations": [entry for s in settings for entry in (facts.invocations.get(s, []) if facts else [])],
        }
    return pooled


def _task_cells(samples: pd.DataFrame, options: AggregateOptions) -> tuple[pd.DataFrame, dict]:
    keys = ["model", "family", "task", "target_length"]
    frame = samples.assign(
        model=samples["model"].astype(str), family=samples["family"].astype(str), task=samples["task"].astype(str)
    )
    cells = frame.groupby(keys, sort=True).agg(
        score=("score", "mean"),
        n=("score", "count"),
        errors=("error", "sum"),
        truncated=("truncated", "sum"),
        input_tokens=("input_tokens", "mean"),
    )
    scored = frame.dropna(subset=["score"])
    counts = scored.groupby([*keys, "score"], sort=True).size()
    value_tables: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    if not counts.empty:
        for cell, group in counts.groupby(level=keys, sort=False):
            value_tables[cell] = (group.index.get_level_values("score").to_numpy(float), group.to_numpy())
    replicates: dict[CellId, np.ndarray] = {}
    lows, highs = [], []
    empty = (np.empty(0), np.empty(0, dtype=np.int64))
    for cell in cells.index:
        values, value_counts = value_tables.get(cell, empty)
        cell_id: CellId = ("task", cell[0], cell[1], cell[2], int(cell[3]))
        draws = bootstrap_means(values, value_counts, cell_rng(options.seed, cell_id), options.replicates)
        replicates[cell_id] = draws
        interval = percentile_interval(draws)
        lows.append(interval.low)
        highs.append(interval.high)
    cells["ci_low"] = lows
    cells["ci_high"] = highs
    cells = cells.reset_index()
    cells.insert(0, "level", "task")
    return cells, replicates


def _averaged_cells(
    lower: pd.DataFrame, replicates: dict[CellId, np.ndarray], level: str, group_keys: list[str]
) -> pd.DataFrame:
    """Cells of `level` as unweighted means of the `lower` cells in each group, where complete."""
    rows = []
    member_column = "task" if level == "family" else "family"
    for group, members in lower.groupby(group_keys, sort=True):
        group = group if isinstance(group, tuple) else (group,)
        names = members[member_column].unique()
        for length, at_length in members.groupby("target_length", sort=True):
            model = group[0]
            family = group[1] if level == "family" else OVERALL
            name = family if level == "family" else OVERALL
            complete = set(at_length[member_column]) == set(names) and at_length["score"].notna().all()
            member_draws = [replicates[_cell_id(row)] for row in at_length.itertuples(index=False)]
            draws = np.mean(member_draws, axis=0) if complete else np.full(len(member_draws[0]), np.nan)
            cell_id: CellId = (level, model, family, name, int(length))
            replicates[cell_id] = draws
            interval = percentile_interval(draws)
            rows.append(
                {
                    "level": level, "model": model, "family": family, "task": name,
                    "target_length": int(length),
                    "score": float(at_length["score"].mean()) if complete else float("nan"),
                    "ci_low": interval.low, "ci_high": interval.high,
                    "n": int(at_length["n"].sum()), "errors": int(at_length["errors"].sum()),
                    "truncated": int(at_length["truncated"].sum()),
                    "input_tokens": float(at_length["input_tokens"].mean()),
                }
            )
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def _cell_id(row: object) -> CellId:
    return (row.level, row.model, row.family, row.task, int(row.target_length))  # type: ignore[attr-defined]


def _rows(cells: pd.DataFrame, replicates: dict[CellId, np.ndarray], options: AggregateOptions) -> pd.DataFrame:
    model_lengths = cells.groupby("model")["target_length"].apply(lambda s: sorted(set(int(x) for x in s)))
    rows = []
    for (level, model, family, task), group in cells.groupby(["level", "model", "family", "task"], sort=False):
        by_length = dict(zip(group["target_length"].astype(int), group["score"], strict=True))
        lengths = model_lengths[model]
        scores = [float(by_length.get(length, float("nan"))) for length in lengths]
        present = [row for row in group.itertuples(index=False) if not np.isnan(row.score)]
        if present:
            draws = np.mean([replicates[_cell_id(row)] for row in present], axis=0)
            interval = percentile_interval(draws)
            avg = float(np.mean([row.score for row in present]))
        else:
            interval, avg = percentile_interval(np.full(1, np.nan)), float("nan")
        rows.append(
            {
                "level": level, "model": model, "family": family, "task": task, "avg": avg,
                "avg_ci_low": interval.low, "avg_ci_high": interval.high,
                "effective_length": effective_length(lengths, scores, options.threshold),
                "effective_length_strict": strict_effective_length(lengths, scores, options.threshold),
                "wavg_inc": weighted_average_increasing(lengths, scores),
                "wavg_dec": weighted_average_decreasing(lengths, scores),
                "n": int(group["n"].sum()) if level == "task" else None,
                "errors": int(group["errors"].sum()) if level == "task" else None,
                "truncated": int(group["truncated"].sum()) if level == "task" else None,
            }
        )
    frame = pd.DataFrame(rows, columns=ROW_COLUMNS)
    order = {level: rank for rank, level in enumerate(LEVELS)}
    frame["_level"] = frame["level"].map(order)
    return frame.sort_values(["model", "_level", "family", "task"]).drop(columns="_level").reset_index(drop=True)


def depth_table(samples: pd.DataFrame) -> pd.DataFrame:
    """Mean score and count per model x task x depth x length, for samples that have a depth."""
    with_depth = samples.dropna(subset=["depth"])
    columns = ["model", "task", "depth", "target_length", "score", "n"]
    if with_depth.empty:
        return pd.DataFrame(columns=columns)
    with_depth = with_depth.assign(model=with_depth["model"].astype(str), task=with_depth["task"].astype(str))
    table = with_depth.groupby(["model", "task", "depth", "target_length"], sort=True).agg(
        score=("score", "mean"), n=("score", "count")
    )
    return table.reset_index()[columns]


def skipped_table(samples: pd.DataFrame, skipped: pd.DataFrame | None) -> pd.DataFrame:
    """Skipped counts per run (`load_skipped`) under the row label each run's samples carry."""
    if skipped is None or skipped.empty:
        return pd.DataFrame(columns=SKIPPED_COLUMNS)
    label_of_run = samples.drop_duplicates("run").set_index("run")["model"].astype(str)
    table = skipped.assign(model=skipped["run"].map(label_of_run)).dropna(subset=["model"])
    table = table.groupby(["model", "task", "target_length"], sort=True)["skipped"].sum().reset_index()
    return table[SKIPPED_COLUMNS]


def aggregate(
    samples: pd.DataFrame,
    options: AggregateOptions | None = None,
    run_names: list[str] | None = None,
    skipped: pd.DataFrame | None = None,
    catalog: Catalog | None = None,
    facts: RunFacts | None = None,
) -> Leaderboard:
    """All tables from a per-sample frame (as `load_samples` returns it); `run_names[i]` names run i,
    `skipped` holds the runs' left-out sample counts (`load_skipped`), `catalog` the tasks'
    declared report axes. Tables that need full records (output length, secondary scores) are
    added by `build_leaderboard`."""
    options = options or AggregateOptions()
    catalog = catalog or Catalog()
    samples = label_models(samples, run_names, facts)
    task_cells, replicates = _task_cells(samples, options)
    family_cells = _averaged_cells(task_cells, replicates, "family", ["model", "family"])
    overall_cells = _averaged_cells(family_cells, replicates, "overall", ["model"])
    cells = pd.concat(
        [frame for frame in (task_cells[CELL_COLUMNS], family_cells, overall_cells) if not frame.empty],
        ignore_index=True,
    )
    return Leaderboard(
        samples=samples,
        cells=cells,
        rows=_rows(cells, replicates, options),
        depths=depth_table(samples),
        options=options,
        catalog=catalog,
        buckets=label_table(samples, catalog),
        skipped=skipped_table(samples, skipped),
        baselines=baseline_table(samples, catalog),
        pooled=pooled_runs(samples, run_names or [str(i) for i in range(int(samples["run"].max()) + 1)], facts),
        replicates=replicates,
    )


def build_leaderboard(
    run_dirs: Iterable[Path], options: AggregateOptions | None = None, fallback: Fallback | None = None
) -> Leaderboard:
    """Every table of the runs, from their records and manifests. `fallback` declares the tasks of
    manifests that predate task declarations (the Python API passes the task registry's)."""
    run_dirs = list(run_dirs)
    catalog = read_catalog(run_dirs, fallback)
    facts = read_run_facts(run_dirs)
    samples = load_samples(run_dirs, catalog, facts.model_ids)
    names = [path.name for path in run_dirs]
    unreadable = {names[run]: count for run, count in samples.attrs.get("unreadable_lines", {}).items()}
    board = aggregate(samples, options, names, load_skipped(run_dirs), catalog, facts)
    board.unreadable_lines = unreadable
    board.generation = output_length_table(board.samples, run_dirs, catalog)
    board.secondary = secondary_table(board.samples, run_dirs, catalog)
    return board
