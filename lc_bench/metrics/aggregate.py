"""Per-sample records to leaderboard tables: cells, rows, depths. Never re-runs a model.

Levels, from the bottom up:
- task cell (model x task x length): mean of the scored samples, n, errors, truncations, mean
  input tokens, and a 95% interval: Wilson's when every score is 0 or 100 (binary), else the
  percentile bootstrap (bootstrap.py says why). Errored samples are counted, never scored as 0,
  so an API outage shows as errors rather than as a silently lower score.
- family cell (model x family x length): the unweighted mean of the family's task scores, as
  a benchmark averages its tasks. Defined only when every task the model ran in that family has a
  score at that length, so a missing task cannot flatter a length.
- overall cell (model x length): the unweighted mean of the family scores, by the same rule.

Each average's interval comes from the same replicates all the way up: a family replicate is the
mean of its tasks' replicates (tasks resampled independently), and an average of bootstrap cells
alone takes the percentile interval of those. Where a member's interval is not its replicates' (a
Wilson cell, whose bootstrap collapses at 0 or 100, or an average of one), the average takes its
members' intervals combined instead (`bootstrap.combined`): an average of 3-of-3 tasks is not
"100 ± 0", and a family of one task shows that task's interval.

Every row (one model's task, family or overall scores over lengths) gets its average over the
lengths it has a score at, the effective length (plain and strict) and wAvg(inc/dec).

Effective length counts only the lengths where the row has a score (`scored_effective_lengths`):
a length the row was never tested at, or where its average is blank because one task lacks that
length, or where every sample errored, is left out rather than counted as a failure. Otherwise one
task missing 2k would make a family that scores 100 at 1k and 4k read "1k" in the strict form.
`effective_basis` says what the figure stands on: "all" (every length the row was tested at has a
score), "scored" (some were left out: outputs mark it), "none" (no length has a score, e.g. every
sample errored: the effective length is unknown, never "<1k").

Average rows also state what they average (`members`, `avg_lengths`), and `uneven_coverage` marks
the ones a reader should not compare as they stand: rows of one table that average different
tasks (families) or lengths, or an average that leaves out scores its members have.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lc_bench.config import DEFAULT_PROTOCOL
from lc_bench.metrics.axis_tables import (
    BASELINE_COLUMNS,
    LABEL_TABLE_COLUMNS,
    baseline_table,
    label_table,
    passing_table,
)
from lc_bench.metrics.bootstrap import (
    DEFAULT_REPLICATES,
    DEFAULT_SEED,
    Interval,
    bootstrap_means,
    cell_rng,
    combined,
    is_binary,
    percentile_interval,
    wilson_interval,
)
from lc_bench.metrics.catalog import Catalog, Fallback, read_catalog
from lc_bench.metrics.effective import (
    DEFAULT_THRESHOLD,
    scored_effective_lengths,
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
    "n", "errors", "truncated", "input_tokens", "interval",
]
ROW_COLUMNS = [
    "level", "model", "family", "task", "avg", "avg_ci_low", "avg_ci_high", "effective_length",
    "effective_length_strict", "wavg_inc", "wavg_dec", "n", "errors", "truncated",
    "effective_basis", "members", "avg_lengths", "uneven_coverage",
]
# how a cell's interval was made (the `interval` column; None where the cell has no score):
# Wilson's, the percentile bootstrap of its (for averages: averaged) replicates, or its members'
# intervals combined (`bootstrap.combined`)
WILSON, BOOTSTRAP, COMBINED = "wilson", "bootstrap", "combined"
# intervals that are not their replicates' percentile interval: averages over them are combined
NOT_FROM_REPLICATES = (WILSON, COMBINED)
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
    # the markdown those outputs hold, for the caller to print without rendering it again
    written_markdown: str | None = None
    # run folder -> record lines skipped as unreadable (corrupt JSON, foreign or type-corrupt lines)
    unreadable_lines: dict[str, int] = field(default_factory=dict)
    # per row label: the model, run folders, settings ids and invocations it pools
    pooled: dict[str, dict] = field(default_factory=dict)
    # the row labels that pool more than one run folder, settings or invocation, with what they pool
    # ("5 run folders: a, b, ..."): outputs say so, since one row then stands for several runs
    merged: dict[str, list[str]] = field(default_factory=dict)
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
            "largest_passing": passing_table(self.buckets, self.catalog),
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
    "model [run folder]". The original model name stays in `model_name`.

    Labels are decided once per distinct (model, run, runner, settings), a handful, and then given
    to every sample: a million samples never go through a string operation each."""
    keys = ["model", "run", "runner", "settings"]
    combo = samples.groupby(keys, observed=True, sort=False, dropna=False).ngroup().to_numpy()
    _, first = np.unique(combo, return_index=True)  # combinations are numbered as first met
    combos = samples.iloc[first][keys].reset_index(drop=True)  # row i: combination i
    names = combos["model"].astype(str)
    labels = names.copy()
    if facts is not None and facts.model_ids:
        runs = combos["run"].astype(int)
        ids = runs.map(lambda i: facts.model_ids[i])
        paths = runs.map(lambda i: facts.model_paths[i] or facts.model_ids[i])
        several = ids.groupby(labels).nunique()
        for label in several[several > 1].index:
            chosen = labels == label
            shown = paths[chosen] if paths[chosen].nunique() == ids[chosen].nunique() else ids[chosen]
            labels[chosen] = label + " (" + shown + ")"
    labels = _distinguish(labels, combos["runner"].astype(str))
    if facts is not None:
        settings = combos["settings"].astype(str)
        several = settings.groupby(labels).nunique()
        for label in several[several > 1].index:
            chosen = labels == label
            names_of = settings_labels(sorted(set(settings[chosen])), facts)
            labels[chosen] = label + " (" + settings[chosen].map(names_of) + ")"
    if run_names is not None:
        cells = pd.DataFrame({"combo": combo, "task_name": samples["task"].to_numpy(),
                              "target_length": samples["target_length"].to_numpy()}).drop_duplicates()
        cells["label"] = labels.to_numpy()[cells["combo"].to_numpy()]
        cells["run"] = combos["run"].to_numpy()[cells["combo"].to_numpy()]
        runs_per_cell = cells.groupby(["label", "task_name", "target_length"], observed=True)["run"].nunique()
        overlapping = set(runs_per_cell[runs_per_cell > 1].index.get_level_values("label"))
        for label in overlapping:
            chosen = labels == label
            labels[chosen] = label + " [" + combos.loc[chosen, "run"].map(lambda i: run_names[i]) + "]"
    samples["model_name"] = names.to_numpy(dtype=object)[combo]
    samples["model"] = labels.to_numpy(dtype=object)[combo]
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
        # distinct values first (a million samples hold a handful): never a Python loop per sample
        settings = sorted({str(value) for value in group["settings"].unique()} - {""})
        pooled[label] = {
            "model": str(group["model_name"].iloc[0]),
            "runs": [run_names[int(i)] for i in sorted(group["run"].unique())],
            "settings": settings,
            "protocols": sorted({protocol_of(s, facts) for s in settings} or {DEFAULT_PROTOCOL}),
            "invocations": [entry for s in settings for entry in (facts.invocations.get(s, []) if facts else [])],
        }
    return pooled


def merged_rows(pooled: dict[str, dict]) -> dict[str, list[str]]:
    """The rows that pool more than one run folder, settings id or invocation, each with what it
    pools, one phrase per kind ("2 run folders: a, b"). A row of one run made by one invocation is
    not listed."""
    merged = {}
    for label, facts in sorted(pooled.items()):
        parts = [
            f"{len(items)} {noun}: {', '.join(items)}"
            for noun, items in (
                ("run folders", facts["runs"]), ("settings", facts["settings"]), ("invocations", facts["invocations"])
            )
            if len(items) > 1
        ]
        if parts:
            merged[label] = parts
    return merged


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
    lows, highs, methods = [], [], []
    empty = (np.empty(0), np.empty(0, dtype=np.int64))
    for cell in cells.index:
        values, value_counts = value_tables.get(cell, empty)
        cell_id: CellId = ("task", cell[0], cell[1], cell[2], int(cell[3]))
        # binary cells too keep their replicates (averages need them when their other members do)
        draws = bootstrap_means(values, value_counts, cell_rng(options.seed, cell_id), options.replicates)
        replicates[cell_id] = draws
        if is_binary(values):
            interval = wilson_interval(int(value_counts[values == 100.0].sum()), int(value_counts.sum()))
            methods.append(WILSON)
        else:
            interval = percentile_interval(draws)
            methods.append(BOOTSTRAP if len(values) else None)
        lows.append(interval.low)
        highs.append(interval.high)
    cells["ci_low"] = lows
    cells["ci_high"] = highs
    cells["interval"] = methods
    cells = cells.reset_index()
    cells.insert(0, "level", "task")
    return cells, replicates


def _averaged_cells(
    lower: pd.DataFrame, replicates: dict[CellId, np.ndarray], level: str, group_keys: list[str]
) -> pd.DataFrame:
    """Cells of `level` as unweighted means of the `lower` cells in each group, where complete,
    with the interval `_average_interval` gives."""
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
            score = float(at_length["score"].mean()) if complete else float("nan")
            interval, method = (
                _average_interval(score, draws, at_length) if complete else (Interval(float("nan"), float("nan")), None)
            )
            rows.append(
                {
                    "level": level, "model": model, "family": family, "task": name,
                    "target_length": int(length),
                    "score": score,
                    "ci_low": interval.low, "ci_high": interval.high,
                    "n": int(at_length["n"].sum()), "errors": int(at_length["errors"].sum()),
                    "truncated": int(at_length["truncated"].sum()),
                    "input_tokens": float(at_length["input_tokens"].mean()),
                    "interval": method,
                }
            )
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def _average_interval(mean: float, draws: np.ndarray, members: pd.DataFrame) -> tuple[Interval, str]:
    """The interval of an average of `members` (cells) whose averaged replicates are `draws`, and
    its `interval` label: the percentile interval of the draws ("bootstrap"), as before Wilson
    intervals, when every member's interval is its replicates' too; else the members' intervals
    combined (`bootstrap.combined`, "combined"), since the replicates of a binary cell collapse at 0
    and 100 where its Wilson interval does not. Not the hull of the two: a family of one 9-of-10
    task must show that task's interval, not one reaching the bootstrap's 100."""
    scored = members[members["score"].notna()]
    if not scored["interval"].isin(NOT_FROM_REPLICATES).any():
        return percentile_interval(draws), BOOTSTRAP
    return combined(mean, list(zip(
        scored["score"].astype(float), scored["ci_low"].astype(float), scored["ci_high"].astype(float), strict=True
    ))), COMBINED


def _cell_id(row: object) -> CellId:
    return (row.level, row.model, row.family, row.task, int(row.target_length))  # type: ignore[attr-defined]


def _averaged_members(cells: pd.DataFrame) -> dict[tuple[str, str, str], list[str]]:
    """(level, model, family) -> the tasks a family row averages, or the families an overall row does."""
    tasks = cells[cells["level"] == "task"].groupby(["model", "family"])["task"].unique()
    families = cells[cells["level"] == "family"].groupby("model")["family"].unique()
    members = {("family", model, family): sorted(names) for (model, family), names in tasks.items()}
    members.update({("overall", model, OVERALL): sorted(names) for model, names in families.items()})
    return members


def _uneven_coverage(rows: pd.DataFrame, cells: pd.DataFrame) -> list[bool]:
    """Per row: an average row (family, overall) that a reader should not compare as it stands.

    - it leaves out member scores: some length where a member has a score has no average (another
      member lacks it), so its avg and effective length stand on fewer lengths than its members';
    - or another row of its table (the overall table; a family's average rows) averages a different
      set of members (tasks, families) or of lengths.
    Task rows are never flagged (their blanks are visible where they stand)."""
    averages = rows["level"] != "task"
    flags = []
    for row in rows.itertuples(index=False):
        if row.level == "task":
            flags.append(False)
            continue
        member_lengths = _member_lengths(cells, row)
        table = rows[averages & (rows["level"] == row.level) & (rows["family"] == row.family)]
        coverage = {(tuple(other.members or ()), tuple(other.avg_lengths)) for other in table.itertuples(index=False)}
        flags.append(bool(member_lengths - set(row.avg_lengths)) or len(coverage) > 1)
    return flags


def _member_lengths(cells: pd.DataFrame, row: object) -> set[int]:
    """Lengths where at least one member of an average row has a score."""
    level = "task" if row.level == "family" else "family"  # type: ignore[attr-defined]
    chosen = (cells["level"] == level) & (cells["model"] == row.model) & cells["score"].notna()  # type: ignore[attr-defined]
    if row.level == "family":  # type: ignore[attr-defined]
        chosen &= cells["family"] == row.family  # type: ignore[attr-defined]
    return {int(x) for x in cells.loc[chosen, "target_length"]}


def _rows(cells: pd.DataFrame, replicates: dict[CellId, np.ndarray], options: AggregateOptions) -> pd.DataFrame:
    model_lengths = cells.groupby("model")["target_length"].apply(lambda s: sorted(set(int(x) for x in s)))
    members = _averaged_members(cells)
    rows = []
    for (level, model, family, task), group in cells.groupby(["level", "model", "family", "task"], sort=False):
        by_length = dict(zip(group["target_length"].astype(int), group["score"], strict=True))
        lengths = model_lengths[model]
        scores = [float(by_length.get(length, float("nan"))) for length in lengths]
        present = [row for row in group.itertuples(index=False) if not np.isnan(row.score)]
        if present:
            draws = np.mean([replicates[_cell_id(row)] for row in present], axis=0)
            avg = float(np.mean([row.score for row in present]))
            interval, _ = _average_interval(avg, draws, group)
        else:
            interval, avg = percentile_interval(np.full(1, np.nan)), float("nan")
        tested = sorted(by_length)
        effective, strict, basis = scored_effective_lengths(
            tested, [float(by_length[length]) for length in tested], options.threshold
        )
        rows.append(
            {
                "level": level, "model": model, "family": family, "task": task, "avg": avg,
                "avg_ci_low": interval.low, "avg_ci_high": interval.high,
                "effective_length": effective,
                "effective_length_strict": strict,
                "wavg_inc": weighted_average_increasing(lengths, scores),
                "wavg_dec": weighted_average_decreasing(lengths, scores),
                "n": int(group["n"].sum()) if level == "task" else None,
                "errors": int(group["errors"].sum()) if level == "task" else None,
                "truncated": int(group["truncated"].sum()) if level == "task" else None,
                "effective_basis": basis,
                "members": members.get((level, model, family)),
                "avg_lengths": [int(row.target_length) for row in present],
                "uneven_coverage": False,
            }
        )
    frame = pd.DataFrame(rows, columns=ROW_COLUMNS)
    frame["uneven_coverage"] = _uneven_coverage(frame, cells)
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
    pooled = pooled_runs(samples, run_names or [str(i) for i in range(int(samples["run"].max()) + 1)], facts)
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
        pooled=pooled,
        merged=merged_rows(pooled),
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
