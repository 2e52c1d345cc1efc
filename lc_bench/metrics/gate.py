"""The CI gate: compare a run's cells with a stored baseline; fail only on real drops.

A cell fails when its score dropped by more than the tolerance (score points) AND the drop is
significant: the 95% bootstrap interval of (current - baseline) lies entirely below zero. Both
sides are resampled from their per-sample scores, so a 5-sample cell losing one sample is noise,
not a red build. The baseline stores each cell's distinct scores with their counts, which is all a
bootstrap needs and keeps the file small.

Cells are tasks (the mean over the lengths both sides have) or, with per_length, task x length.
Baseline cells missing from the run are reported and fail the gate unless allowed: a gate that
passes because a task vanished is not a gate.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from lc_bench.errors import UsageError
from lc_bench.lengths import format_length
from lc_bench.metrics.aggregate import Leaderboard
from lc_bench.metrics.bootstrap import bootstrap_means, cell_rng, percentile_interval, value_counts
from lc_bench.metrics.export import write_text_atomic

BASELINE_SCHEMA = "lc_bench.baseline/1"
DEFAULT_TOLERANCE = 2.0


@dataclass(frozen=True)
class GateOptions:
    tolerance: float = DEFAULT_TOLERANCE
    per_length: bool = False
    allow_missing: bool = False
    replicates: int = 2000
    seed: int = 0


@dataclass(frozen=True)
class Comparison:
    """One compared cell and what the gate concluded about it."""

    task: str
    length: int | None
    verdict: str  # regression | improvement | noise | ok | missing | new
    baseline: float | None = None
    current: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def name(self) -> str:
        return self.task if self.length is None else f"{self.task} @ {format_length(self.length)}"

    @property
    def diff(self) -> float | None:
        return None if self.baseline is None or self.current is None else self.current - self.baseline


@dataclass(frozen=True)
class GateResult:
    model: str
    comparisons: list[Comparison]
    errors: int
    options: GateOptions

    def of(self, verdict: str) -> list[Comparison]:
        return [c for c in self.comparisons if c.verdict == verdict]

    @property
    def failed(self) -> bool:
        return bool(self.of("regression")) or (bool(self.of("missing")) and not self.options.allow_missing)


def pick_model(board: Leaderboard, model: str | None) -> str:
    models = board.models
    if model is not None:
        if model not in models:
            raise UsageError(f"model {model!r} is not in the run (it has: {', '.join(models)})")
        return model
    if len(models) != 1:
        raise UsageError(f"the run has several models ({', '.join(models)}); pick one with --model")
    return models[0]


def _task_samples(board: Leaderboard, model: str):  # noqa: ANN202 - a pandas groupby
    samples = board.samples[(board.samples["model"].astype(str) == model)]
    scored = samples.dropna(subset=["score"])
    return scored.assign(task=scored["task"].astype(str)).groupby(["task", "target_length"], sort=True)


def baseline_document(board: Leaderboard, model: str) -> dict[str, Any]:
    cells = []
    for (task, length), group in _task_samples(board, model):
        values, counts = value_counts(group["score"].to_numpy())
        cells.append(
            {
                "task": task, "target_length": int(length), "n": int(counts.sum()),
                "score": float(np.dot(values, counts) / counts.sum()),
                "values": [[float(v), int(c)] for v, c in zip(values, counts, strict=True)],
            }
        )
    return {
        "schema": BASELINE_SCHEMA, "model": model,
        "created": datetime.now(UTC).isoformat(timespec="seconds"), "cells": cells,
    }


def write_baseline(board: Leaderboard, model: str, path: Path) -> dict[str, Any]:
    document = baseline_document(board, model)
    if not document["cells"]:
        raise UsageError(f"the run has no scored samples for {model}; nothing to record as a baseline")
    write_text_atomic(path, json.dumps(document, indent=1) + "\n")
    return document


def read_baseline(path: Path) -> dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]:
    """(task, length) -> (distinct values, counts); one-line errors for anything unreadable."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"baseline not found: {path} (record one with --write-baseline)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"baseline {path} is not readable JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("schema") != BASELINE_SCHEMA:
        raise UsageError(f"baseline {path} is not an lc_bench baseline (expected schema {BASELINE_SCHEMA})")
    cells = {}
    try:
        if not isinstance(document["cells"], list) or not document["cells"]:
            raise ValueError("no cells")
        for cell in document["cells"]:
            key = (str(cell["task"]), int(cell["target_length"]))
            if key in cells:
                raise ValueError(f"{key[0]} @ {key[1]} appears twice")
            cells[key] = _checked_cell(cell)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"baseline {path} has a malformed cell: {exc}") from None
    return cells


def _checked_cell(cell: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """A cell's (values, counts), refused unless every score is finite, every count a positive whole
    number, and the stored n and score agree with them: a corrupt baseline must never pass a gate."""
    name = f"{cell['task']} @ {cell['target_length']}"
    pairs = np.asarray(cell["values"], dtype=np.float64)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) == 0:
        raise ValueError(f"{name}: values must be a non-empty list of [score, count] pairs")
    values, counts = pairs[:, 0], pairs[:, 1]
    if not np.isfinite(values).all():
        raise ValueError(f"{name}: a score is not a finite number")
    if not (np.isfinite(counts).all() and (counts >= 1).all() and (counts == np.round(counts)).all()):
        raise ValueError(f"{name}: a count is not a positive whole number")
    counts = counts.astype(np.int64)
    if "n" in cell and int(cell["n"]) != int(counts.sum()):
        raise ValueError(f"{name}: n={cell['n']} but the counts sum to {int(counts.sum())}")
    mean = float(np.dot(values, counts) / counts.sum())
    if "score" in cell and not (math.isfinite(float(cell["score"])) and abs(float(cell["score"]) - mean) < 1e-6):
        raise ValueError(f"{name}: score {cell['score']} is not the mean of its values ({mean:g})")
    return values, counts


def _draws(values: np.ndarray, counts: np.ndarray, options: GateOptions, identity: tuple) -> np.ndarray:
    return bootstrap_means(values, counts, cell_rng(options.seed, identity), options.replicates)


def _judge(task: str, length: int | None, base: np.ndarray, cur: np.ndarray, scores: tuple, options: GateOptions):
    """Verdict for one cell from its point scores and bootstrap replicates (current - baseline)."""
    baseline, current = scores
    if not (math.isfinite(baseline) and math.isfinite(current)):  # never "ok" by accident
        raise UsageError(f"{task}: a score to compare is not a finite number (baseline {baseline}, run {current})")
    interval = percentile_interval(cur - base)
    diff = current - baseline
    if diff < -options.tolerance:
        verdict = "regression" if interval.high < 0 else "noise"
    elif diff > options.tolerance and interval.low > 0:
        verdict = "improvement"
    else:
        verdict = "ok"
    return Comparison(task, length, verdict, baseline, current, interval.low, interval.high)


def gate(board: Leaderboard, baseline_path: Path, model: str | None, options: GateOptions) -> GateResult:
    model = pick_model(board, model)
    baseline = read_baseline(baseline_path)
    current = {
        (task, int(length)): value_counts(group["score"].to_numpy())
        for (task, length), group in _task_samples(board, model)
    }
    common = sorted(set(baseline) & set(current))
    if not common:
        raise UsageError(
            f"no cells in common between the run and {baseline_path}: the baseline has tasks "
            f"{sorted({t for t, _ in baseline})}, the run {sorted({t for t, _ in current})}"
        )
    comparisons = [Comparison(t, n, "missing") for t, n in sorted(set(baseline) - set(current))]
    comparisons += [Comparison(t, n, "new") for t, n in sorted(set(current) - set(baseline))]
    units: dict[tuple[str, int | None], list[int]] = {}
    for task, length in common:
        units.setdefault((task, length if options.per_length else None), []).append(length)
    for (task, length), lengths in units.items():
        base_draws, cur_draws, base_scores, cur_scores = [], [], [], []
        for each in lengths:
            for side, table, draws, scores in (
                ("baseline", baseline, base_draws, base_scores),
                ("current", current, cur_draws, cur_scores),
            ):
                values, counts = table[(task, each)]
                draws.append(_draws(values, counts, options, (side, task, each)))
                scores.append(float(np.dot(values, counts) / counts.sum()))
        comparisons.append(
            _judge(
                task, length, np.mean(base_draws, axis=0), np.mean(cur_draws, axis=0),
                (float(np.mean(base_scores)), float(np.mean(cur_scores))), options,
            )
        )
    samples = board.samples[board.samples["model"].astype(str) == model]
    return GateResult(model, comparisons, int(samples["error"].sum()), options)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def report(result: GateResult) -> str:
    """A compact table of what matters (regressions, improvements, noise, missing, new) and a verdict."""
    shown = [c for c in result.comparisons if c.verdict != "ok"]
    order = {"regression": 0, "missing": 1, "noise": 2, "improvement": 3, "new": 4}
    lines = []
    if shown:
        lines.append(f"{'cell':<34} {'baseline':>9} {'current':>9} {'diff':>7}  {'95% CI of diff':<17} verdict")
        for c in sorted(shown, key=lambda c: (order[c.verdict], c.name)):
            interval = "" if c.low is None else f"[{c.low:+.1f}, {c.high:+.1f}]"
            diff = "" if c.diff is None else f"{c.diff:+.1f}"
            lines.append(
                f"{c.name:<34} {_fmt(c.baseline):>9} {_fmt(c.current):>9} {diff:>7}  {interval:<17} {c.verdict}"
            )
    compared = [c for c in result.comparisons if c.verdict not in ("missing", "new")]
    options = result.options
    status = "FAIL" if result.failed else "PASS"
    lines.append(
        f"gate {status}: {result.model}: {len(compared)} cells compared"
        f"{' per length' if options.per_length else ''}, {len(result.of('regression'))} regressions, "
        f"{len(result.of('improvement'))} improvements, {len(result.of('noise'))} drops within noise, "
        f"{len(result.of('missing'))} missing (tolerance {options.tolerance:g} points, 95% bootstrap)"
    )
    if result.errors:
        lines.append(f"warning: {result.errors} errored samples are not scored; a rerun resumes them")
    return "\n".join(lines)
