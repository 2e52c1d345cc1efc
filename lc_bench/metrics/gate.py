"""The CI gate: compare a run's cells with a stored baseline; fail only on real drops.

A cell fails when its score dropped by more than the tolerance (score points) AND the drop is
significant: the 95% bootstrap interval of (current - baseline) lies entirely below zero. Both
sides are resampled from their per-sample scores, so a 5-sample cell losing one sample is noise,
not a red build. The baseline stores each cell's distinct scores with their counts, which is all a
bootstrap needs and keeps the file small.

Cells are tasks (the mean over the lengths both sides have) or, with per_length, task x length.
Baseline cells missing from the run are reported and fail the gate unless allowed: a gate that
passes because a task vanished is not a gate. Errored samples are not scored, so a run that lost
half its samples to errors could compare well on the rest: the gate fails when the share of
errored samples exceeds `max_error_rate` (0 by default).

The baseline also records what produced its scores besides the model (`RunSetup`: the runner,
lc_bench's version and the run config that decides outputs, read from the run's manifest), so a
run made another way (another runner, other lengths or samples, another protocol) is named as
such: a warning, or a failure with `strict_config`. Baselines written before these fields
(schema lc_bench.baseline/1) still load, with a note that they cannot be checked.

The verdict renders as text, JSON, JUnit XML or markdown (`render`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from lc_bench import __version__
from lc_bench.errors import UsageError
from lc_bench.lengths import format_length
from lc_bench.metrics.aggregate import Leaderboard
from lc_bench.metrics.bootstrap import bootstrap_means, cell_rng, percentile_interval, value_counts
from lc_bench.metrics.export import write_text_atomic

BASELINE_SCHEMA = "lc_bench.baseline/2"
# earlier baselines: cells only, no runner or run config (read with a note)
OLD_BASELINE_SCHEMAS = ("lc_bench.baseline/1",)
GATE_SCHEMA = "lc_bench.gate/1"  # the JSON verdict
DEFAULT_TOLERANCE = 2.0
FORMATS = ("text", "json", "junit", "md")
# the parts of a run's resolved config that decide its outputs (manifest.json `config` / invocations)
CONFIG_KEYS = (
    "tasks", "task_params", "lengths", "depths", "samples_per_cell", "seed", "temperature", "top_p",
    "max_new_tokens", "protocol",
)
UNION_KEYS = ("tasks", "lengths", "depths")  # a run resumed with more of these holds them all
SHOWN_CHARS = 80  # a differing value is quoted at most this long
VERDICT_ORDER = {"regression": 0, "missing": 1, "noise": 2, "improvement": 3, "new": 4, "ok": 5}


@dataclass(frozen=True)
class GateOptions:
    tolerance: float = DEFAULT_TOLERANCE
    per_length: bool = False
    allow_missing: bool = False
    replicates: int = 2000
    seed: int = 0
    max_error_rate: float = 0.0  # the share of errored samples the run may have
    strict_config: bool = False  # fail (not warn) when the run was made another way than the baseline


@dataclass(frozen=True)
class RunSetup:
    """What produced a run's scores besides the model; None where it is not recorded."""

    runner: str | None = None
    protocol: str | None = None
    lc_bench_version: str | None = None
    config: dict[str, Any] | None = None  # CONFIG_KEYS -> value

    @property
    def config_hash(self) -> str | None:
        return None if self.config is None else config_hash(self.config)

    def flat(self) -> dict[str, Any]:
        """Everything comparable, one level deep (the config's protocol is the top-level one)."""
        top = {"runner": self.runner, "protocol": self.protocol, "lc_bench_version": self.lc_bench_version}
        shown = {key: value for key, value in top.items() if value is not None}
        for key, value in (self.config or {}).items():
            if key != "protocol" or self.protocol is None:
                shown[key] = value
        return shown

    def as_json(self) -> dict[str, Any]:
        return {
            "runner": self.runner, "protocol": self.protocol, "lc_bench_version": self.lc_bench_version,
            "config_hash": self.config_hash, "config": self.config,
        }


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
    errors: int = 0  # errored samples of the run in this cell (not scored)
    n: int | None = None  # scored samples of the run in this cell

    @property
    def name(self) -> str:
        return self.task if self.length is None else f"{self.task} @ {format_length(self.length)}"

    @property
    def diff(self) -> float | None:
        return None if self.baseline is None or self.current is None else self.current - self.baseline


@dataclass(frozen=True)
class Baseline:
    """A baseline file: its cells ((task, length) -> (distinct values, counts)) and setup."""

    cells: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]
    setup: RunSetup
    stored_hash: str | None = None  # the config hash as written (checked against `setup.config`)
    old_schema: str | None = None  # written before baselines recorded their setup


@dataclass(frozen=True)
class GateResult:
    model: str
    comparisons: list[Comparison]
    errors: int  # errored samples of the model in the run
    options: GateOptions
    samples: int = 0  # every sample of the model in the run, errored ones included
    baseline_setup: RunSetup = RunSetup()
    run_setup: RunSetup = RunSetup()
    differences: list[str] = field(default_factory=list)  # "what: baseline X, run Y"
    unchecked: list[str] = field(default_factory=list)  # what could not be compared, and why

    def of(self, verdict: str) -> list[Comparison]:
        return [c for c in self.comparisons if c.verdict == verdict]

    @property
    def error_rate(self) -> float:
        return self.errors / self.samples if self.samples else 0.0

    @property
    def errors_failed(self) -> bool:
        return self.errors > 0 and self.error_rate > self.options.max_error_rate

    @property
    def config_failed(self) -> bool:
        return self.options.strict_config and bool(self.differences or self.unchecked)

    @property
    def reasons(self) -> list[str]:
        """Why the gate fails, one phrase each (empty: it passes)."""
        reasons = []
        if self.of("regression"):
            reasons.append(f"{len(self.of('regression'))} significant drops beyond the tolerance")
        if self.of("missing") and not self.options.allow_missing:
            reasons.append(f"{len(self.of('missing'))} baseline cells missing from the run")
        if self.errors_failed:
            reasons.append(self.error_summary())
        if self.config_failed:
            what = "differs from" if self.differences else "cannot be checked against"
            reasons.append(f"the run's setup {what} the baseline's (--strict-config)")
        return reasons

    @property
    def failed(self) -> bool:
        return bool(self.reasons)

    def error_summary(self) -> str:
        relation = "more than" if self.errors_failed else "within"
        return (
            f"{self.errors} of {self.samples} samples errored ({self.error_rate:.1%}), "
            f"{relation} --max-error-rate {self.options.max_error_rate:g}"
        )

    def setup_lines(self) -> list[tuple[str, str]]:
        """(label, line) for the setup check: a mismatch is a warning (a failure with --strict-config),
        what could not be checked a note."""
        strict = self.options.strict_config
        lines = []
        if self.differences:
            lines.append(("config mismatch (--strict-config)" if strict else "warning",
                          "the run was made differently from the baseline: " + "; ".join(self.differences)))
        lines += [("config unchecked (--strict-config)" if strict else "note", line) for line in self.unchecked]
        return lines


def pick_model(board: Leaderboard, model: str | None) -> str:
    models = board.models
    if model is not None:
        if model not in models:
            raise UsageError(f"model {model!r} is not in the run (it has: {', '.join(models)})")
        return model
    if len(models) != 1:
        raise UsageError(f"the run has several models ({', '.join(models)}); pick one with --model")
    return models[0]


def _model_samples(board: Leaderboard, model: str):  # noqa: ANN202 - a pandas frame
    return board.samples[board.samples["model"].astype(str) == model]


def _task_samples(board: Leaderboard, model: str):  # noqa: ANN202 - a pandas groupby
    scored = _model_samples(board, model).dropna(subset=["score"])
    return scored.assign(task=scored["task"].astype(str)).groupby(["task", "target_length"], sort=True)


# --- what produced a run ------------------------------------------------------------------------


def config_hash(config: dict[str, Any]) -> str:
    """A short digest of a run config, stable across key order and Python versions."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def merge_configs(configs: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """One config for the records of several invocations: tasks, lengths and depths are the union
    (a resumed run holds them all), samples the most asked, anything else its one value or, when
    invocations differ, the sorted list of their values. None when no invocation recorded any."""
    merged: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        values = [config[key] for config in configs if key in config]
        if not values:
            continue
        if key in UNION_KEYS and all(isinstance(value, list) for value in values):
            items = list({_canonical(item): item for value in values for item in value}.values())
            numeric = all(isinstance(item, int | float) and not isinstance(item, bool) for item in items)
            merged[key] = sorted(items) if numeric else sorted(items, key=_canonical)
        elif key == "samples_per_cell" and all(isinstance(value, int) for value in values):
            merged[key] = max(values)
        else:
            distinct = {_canonical(value): value for value in values}
            merged[key] = next(iter(distinct.values())) if len(distinct) == 1 else [
                distinct[text] for text in sorted(distinct)
            ]
    return merged or None


def _joined(values: set[str]) -> str | None:
    return ", ".join(sorted(values)) if values else None


def run_setup(board: Leaderboard, model: str, run_dirs: Sequence[Path] | None) -> RunSetup:
    """The runner, protocol, lc_bench version and output-deciding config of the runs (their
    manifests) that hold `model`'s samples; unknown parts stay None."""
    from lc_bench.store import read_manifest

    samples = _model_samples(board, model)
    runners = {str(runner) for runner in samples["runner"].astype(str).unique() if str(runner)}
    if not run_dirs:
        return RunSetup(runner=_joined(runners))
    indices = sorted({int(index) for index in samples["run"].unique()})
    versions, protocols, configs = set(), set(), []
    for index in indices:
        manifest = read_manifest(Path(run_dirs[index]))
        runners.add(manifest.runner)
        versions.add(manifest.lc_bench_version)
        protocols.add(manifest.protocol)
        invoked = [inv["config"] for inv in manifest.invocations if isinstance(inv.get("config"), dict)]
        configs += invoked or ([manifest.config] if manifest.config else [])
    config = merge_configs(configs)
    if config is not None and "protocol" in config:
        value = config["protocol"]
        protocols = set(value) if isinstance(value, list) else {str(value)}
    return RunSetup(runner=_joined(runners), protocol=_joined(protocols), lc_bench_version=_joined(versions),
                    config=config)


def _shown(key: str, value: Any) -> str:
    """A config value as a mismatch line quotes it: lengths as 4k, 8k; anything else compact JSON."""
    if key == "lengths" and isinstance(value, list) and all(isinstance(item, int) for item in value):
        text = ", ".join(format_length(item) for item in value)
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."


def compare_setups(baseline: Baseline, current: RunSetup) -> tuple[list[str], list[str]]:
    """(differences, what could not be checked): one phrase each."""
    base = baseline.setup
    differences, unchecked = [], []
    base_flat, run_flat = base.flat(), current.flat()
    for key in dict.fromkeys([*base_flat, *run_flat]):
        if key in base_flat and key in run_flat and _canonical(base_flat[key]) != _canonical(run_flat[key]):
            differences.append(f"{key}: baseline {_shown(key, base_flat[key])}, run {_shown(key, run_flat[key])}")
    if base.config is None and baseline.stored_hash is not None and current.config is not None:
        if baseline.stored_hash != current.config_hash:
            differences.append(f"config hash: baseline {baseline.stored_hash}, run {current.config_hash}")
    elif baseline.old_schema is not None:
        unchecked.append(f"the baseline was written by an older lc_bench ({baseline.old_schema}): it records no "
                         "runner or run config, so neither is checked; record it again with --write-baseline")
    elif base.config is None and baseline.stored_hash is None:
        unchecked.append("the baseline records no run config, so lengths, depths, samples and the other "
                         "settings are not checked")
    if current.config is None:
        unchecked.append("the run's manifest records no run config, so it is not checked against the baseline's")
    return differences, unchecked


# --- the baseline file --------------------------------------------------------------------------


def baseline_document(board: Leaderboard, model: str, run_dirs: Sequence[Path] | None = None) -> dict[str, Any]:
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
    setup = run_setup(board, model, run_dirs)
    config = setup.config or {}
    return {
        "schema": BASELINE_SCHEMA, "model": model,
        "created": datetime.now(UTC).isoformat(timespec="seconds"), "written_by": __version__,
        "runner": setup.runner, "protocol": setup.protocol, "lc_bench_version": setup.lc_bench_version,
        "config_hash": setup.config_hash, "config": setup.config,
        "lengths": config.get("lengths"), "depths": config.get("depths"), "samples": config.get("samples_per_cell"),
        "errored_samples": int(_model_samples(board, model)["error"].astype(bool).sum()),
        "cells": cells,
    }


def write_baseline(
    board: Leaderboard, model: str, path: Path, run_dirs: Sequence[Path] | None = None
) -> dict[str, Any]:
    document = baseline_document(board, model, run_dirs)
    if not document["cells"]:
        raise UsageError(f"the run has no scored samples for {model}; nothing to record as a baseline")
    write_text_atomic(path, json.dumps(document, indent=1) + "\n")
    return document


def read_baseline(path: Path) -> dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]:
    """(task, length) -> (distinct values, counts); one-line errors for anything unreadable."""
    return read_baseline_document(path).cells


def read_baseline_document(path: Path) -> Baseline:
    """The baseline's cells and setup; one-line errors for anything unreadable, a note for an old one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"baseline not found: {path} (record one with --write-baseline)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"baseline {path} is not readable JSON: {exc}") from None
    schemas = (BASELINE_SCHEMA, *OLD_BASELINE_SCHEMAS)
    if not isinstance(document, dict) or document.get("schema") not in schemas:
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
    if document["schema"] in OLD_BASELINE_SCHEMAS:
        return Baseline(cells, RunSetup(), None, old_schema=document["schema"])
    setup, stored_hash = _checked_setup(path, document)
    return Baseline(cells, setup, stored_hash)


def _checked_setup(path: Path, document: dict[str, Any]) -> tuple[RunSetup, str | None]:
    """The setup fields of a current baseline, refused when of the wrong type (a hand edit)."""
    texts = {}
    for key in ("runner", "protocol", "lc_bench_version", "config_hash"):
        value = document.get(key)
        if value is not None and not isinstance(value, str):
            raise UsageError(f"baseline {path}: {key} must be a string or null (got {_shown(key, value)})")
        texts[key] = value
    config = document.get("config")
    if config is not None and not isinstance(config, dict):
        raise UsageError(f"baseline {path}: config must be an object or null (got {_shown('config', config)})")
    setup = RunSetup(texts["runner"], texts["protocol"], texts["lc_bench_version"], config)
    if config is not None and texts["config_hash"] is not None and texts["config_hash"] != setup.config_hash:
        raise UsageError(f"baseline {path}: config_hash {texts['config_hash']} does not match its config "
                         f"({setup.config_hash}); was it edited by hand?")
    return setup, texts["config_hash"]


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


# --- the comparison -----------------------------------------------------------------------------


def _draws(values: np.ndarray, counts: np.ndarray, options: GateOptions, identity: tuple) -> np.ndarray:
    return bootstrap_means(values, counts, cell_rng(options.seed, identity), options.replicates)


def _mean(values: np.ndarray, counts: np.ndarray) -> float:
    return float(np.dot(values, counts) / counts.sum())


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


def gate(
    board: Leaderboard, baseline_path: Path, model: str | None, options: GateOptions,
    run_dirs: Sequence[Path] | None = None,
) -> GateResult:
    """Compare `model`'s cells with the baseline; `run_dirs` (the board's runs, in order) let the gate
    read what produced the run from its manifests."""
    model = pick_model(board, model)
    baseline = read_baseline_document(baseline_path)
    current = {
        (task, int(length)): value_counts(group["score"].to_numpy())
        for (task, length), group in _task_samples(board, model)
    }
    common = sorted(set(baseline.cells) & set(current))
    if not common:
        raise UsageError(
            f"no cells in common between the run and {baseline_path}: the baseline has tasks "
            f"{sorted({t for t, _ in baseline.cells})}, the run {sorted({t for t, _ in current})}"
        )
    samples = _model_samples(board, model)
    errored = samples[samples["error"].astype(bool)]
    cell_errors = {
        (str(task), int(length)): int(count)
        for (task, length), count in errored.groupby([errored["task"].astype(str), "target_length"]).size().items()
    }
    comparisons = [
        Comparison(t, n, "missing", baseline=_mean(*baseline.cells[(t, n)]), errors=cell_errors.get((t, n), 0), n=0)
        for t, n in sorted(set(baseline.cells) - set(current))
    ]
    comparisons += [
        Comparison(t, n, "new", current=_mean(*current[(t, n)]), errors=cell_errors.get((t, n), 0),
                   n=int(current[(t, n)][1].sum()))
        for t, n in sorted(set(current) - set(baseline.cells))
    ]
    units: dict[tuple[str, int | None], list[int]] = {}
    for task, length in common:
        units.setdefault((task, length if options.per_length else None), []).append(length)
    for (task, length), lengths in units.items():
        base_draws, cur_draws, base_scores, cur_scores = [], [], [], []
        for each in lengths:
            for side, table, draws, scores in (
                ("baseline", baseline.cells, base_draws, base_scores),
                ("current", current, cur_draws, cur_scores),
            ):
                values, counts = table[(task, each)]
                draws.append(_draws(values, counts, options, (side, task, each)))
                scores.append(_mean(values, counts))
        judged = _judge(
            task, length, np.mean(base_draws, axis=0), np.mean(cur_draws, axis=0),
            (float(np.mean(base_scores)), float(np.mean(cur_scores))), options,
        )
        errors = sum(count for (t, n), count in cell_errors.items() if t == task and (length is None or n == length))
        scored = sum(int(current[(task, each)][1].sum()) for each in lengths)
        comparisons.append(replace(judged, errors=errors, n=scored))
    setup = run_setup(board, model, run_dirs)
    differences, unchecked = compare_setups(baseline, setup)
    return GateResult(
        model, comparisons, len(errored), options, samples=len(samples), baseline_setup=baseline.setup,
        run_setup=setup, differences=differences, unchecked=unchecked,
    )


# --- rendering ----------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _interval(c: Comparison) -> str:
    return "" if c.low is None or c.high is None else f"[{c.low:+.1f}, {c.high:+.1f}]"


def _ordered(comparisons: list[Comparison]) -> list[Comparison]:
    return sorted(comparisons, key=lambda c: (VERDICT_ORDER[c.verdict], c.name))


def _summary(result: GateResult) -> str:
    compared = [c for c in result.comparisons if c.verdict not in ("missing", "new")]
    options = result.options
    status = "FAIL" if result.failed else "PASS"
    errors = f", {result.errors} of {result.samples} samples errored" if result.errors else ""
    return (
        f"gate {status}: {result.model}: {len(compared)} cells compared"
        f"{' per length' if options.per_length else ''}, {len(result.of('regression'))} regressions, "
        f"{len(result.of('improvement'))} improvements, {len(result.of('noise'))} drops within noise, "
        f"{len(result.of('missing'))} missing{errors} (tolerance {options.tolerance:g} points, 95% bootstrap)"
    )


def report(result: GateResult) -> str:
    """A compact table of what matters (regressions, missing, noise, improvements, new, cells with
    errored samples), then errors, setup warnings, notes and the verdict (last line)."""
    shown = [c for c in result.comparisons if c.verdict != "ok" or c.errors]
    with_errors = result.errors > 0
    lines = []
    if shown:
        errors_head = f" {'errors':>6}" if with_errors else ""
        lines.append(f"{'cell':<34} {'baseline':>9} {'current':>9} {'diff':>7}  {'95% CI of diff':<17}"
                     f"{errors_head} verdict")
        for c in _ordered(shown):
            diff = "" if c.diff is None else f"{c.diff:+.1f}"
            errors = f" {c.errors:>6}" if with_errors else ""
            lines.append(
                f"{c.name:<34} {_fmt(c.baseline):>9} {_fmt(c.current):>9} {diff:>7}  {_interval(c):<17}"
                f"{errors} {c.verdict}"
            )
    if result.errors:
        lines.append(f"errors: {result.error_summary()} (errored samples are not scored; a rerun resumes them)")
    lines += [f"{label}: {line}" for label, line in result.setup_lines()]
    if result.failed:
        lines.append("fails: " + "; ".join(result.reasons))
    lines.append(_summary(result))
    return "\n".join(lines)


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 6)


def verdict_json(result: GateResult) -> dict[str, Any]:
    """The machine-readable verdict: every compared cell, the errors, the setup check."""
    options = result.options
    return {
        "schema": GATE_SCHEMA,
        "verdict": "fail" if result.failed else "pass",
        "passed": not result.failed,
        "reasons": result.reasons,
        "model": result.model,
        "options": {
            "tolerance": options.tolerance, "per_length": options.per_length, "allow_missing": options.allow_missing,
            "max_error_rate": options.max_error_rate, "strict_config": options.strict_config,
            "replicates": options.replicates, "seed": options.seed,
        },
        "errors": {
            "errored": result.errors, "samples": result.samples, "rate": round(result.error_rate, 6),
            "max_rate": options.max_error_rate, "failed": result.errors_failed,
        },
        "config": {
            "baseline": result.baseline_setup.as_json(), "run": result.run_setup.as_json(),
            "differences": result.differences, "unchecked": result.unchecked, "strict": options.strict_config,
            "failed": result.config_failed,
        },
        "counts": {verdict: len(result.of(verdict)) for verdict in VERDICT_ORDER},
        "cells": [
            {
                "name": c.name, "task": c.task, "length": c.length, "verdict": c.verdict,
                "baseline": _finite(c.baseline), "current": _finite(c.current), "delta": _finite(c.diff),
                "interval": None if c.low is None else [_finite(c.low), _finite(c.high)],
                "errors": c.errors, "n": c.n,
            }
            for c in _ordered(result.comparisons)
        ],
    }


_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold (control characters dropped; ElementTree escapes the rest)."""
    return _XML_UNSAFE.sub("", text)


def _cell_failure(result: GateResult, c: Comparison) -> tuple[str, str] | None:
    """(type, message) of a cell's JUnit failure, or None when it passes."""
    if c.verdict == "regression":
        return "regression", (f"dropped {_fmt(c.baseline)} -> {_fmt(c.current)} ({c.diff:+.1f} points, 95% CI of "
                              f"the difference {_interval(c)}, tolerance {result.options.tolerance:g})")
    if c.verdict == "missing" and not result.options.allow_missing:
        return "missing", (f"in the baseline ({_fmt(c.baseline)}) but missing from the run"
                           + (f": all {c.errors} of its samples errored" if c.errors else ""))
    if c.errors and result.errors_failed:
        return "errors", (f"{c.errors} of this cell's samples errored (the run: {result.errors} of {result.samples}, "
                          f"{result.error_rate:.1%}, more than --max-error-rate {result.options.max_error_rate:g})")
    return None


def junit_xml(result: GateResult) -> str:
    """JUnit XML: one testcase per compared cell (failures for drops, missing cells and errors),
    plus one for the error rate and one for the run's setup."""
    import xml.etree.ElementTree as ET

    suite_name = f"lc-bench gate: {result.model}"
    classname = "lc_bench.gate"
    cases = []
    for c in _ordered(result.comparisons):
        case = ET.Element("testcase", classname=classname, name=_xml_text(c.name), time="0")
        failure = _cell_failure(result, c)
        detail = (f"verdict {c.verdict}; baseline {_fmt(c.baseline)}, run {_fmt(c.current)}"
                  + ("" if c.diff is None else f", diff {c.diff:+.1f}")
                  + (f", 95% CI of diff {_interval(c)}" if c.low is not None else "")
                  + f"; {c.errors} errored samples")
        if failure is not None:
            ET.SubElement(case, "failure", type=failure[0], message=_xml_text(failure[1])).text = _xml_text(detail)
        elif c.verdict == "missing":
            ET.SubElement(case, "skipped", message="missing from the run (--allow-missing)")
        else:
            ET.SubElement(case, "system-out").text = _xml_text(detail)
        cases.append(case)
    errors_case = ET.Element("testcase", classname=classname, name="errored samples", time="0")
    if result.errors_failed:
        ET.SubElement(errors_case, "failure", type="errors", message=result.error_summary())
    else:
        ET.SubElement(errors_case, "system-out").text = result.error_summary()
    cases.append(errors_case)
    setup_case = ET.Element("testcase", classname=classname, name="run setup matches the baseline", time="0")
    setup_lines = [f"{label}: {line}" for label, line in result.setup_lines()]
    warnings = "\n".join(setup_lines) or "the runner, protocol, version and config match"
    if result.config_failed:
        ET.SubElement(setup_case, "failure", type="config", message=_xml_text(setup_lines[0])).text = (
            _xml_text(warnings))
    else:
        ET.SubElement(setup_case, "system-out").text = _xml_text(warnings)
    cases.append(setup_case)
    failures = sum(case.find("failure") is not None for case in cases)
    skipped = sum(case.find("skipped") is not None for case in cases)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": "0", "skipped": str(skipped)}
    root = ET.Element("testsuites", name="lc-bench gate", **counts)
    suite = ET.SubElement(root, "testsuite", name=_xml_text(suite_name), **counts)
    properties = ET.SubElement(suite, "properties")
    for name, value in (("model", result.model), ("verdict", "fail" if result.failed else "pass"),
                        ("tolerance", f"{result.options.tolerance:g}"),
                        ("max_error_rate", f"{result.options.max_error_rate:g}"),
                        ("baseline_config_hash", result.baseline_setup.config_hash or ""),
                        ("run_config_hash", result.run_setup.config_hash or "")):
        ET.SubElement(properties, "property", name=name, value=_xml_text(value))
    suite.extend(cases)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown(result: GateResult) -> str:
    """A markdown verdict (GitHub's job summary): the verdict, every compared cell, warnings."""
    status = "FAIL" if result.failed else "PASS"
    lines = [f"### lc-bench gate: {status} ({_md_cell(result.model)})", ""]
    if result.failed:
        lines += ["**Fails:** " + _md_cell("; ".join(result.reasons)), ""]
    lines += [
        "| cell | baseline | current | diff | 95% CI of diff | errors | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in _ordered(result.comparisons):
        diff = "" if c.diff is None else f"{c.diff:+.1f}"
        failure = _cell_failure(result, c)
        verdict = c.verdict if failure is None else f"**{c.verdict if failure[0] != 'errors' else 'errors'}**"
        lines.append(f"| {_md_cell(c.name)} | {_fmt(c.baseline)} | {_fmt(c.current)} | {diff} | {_interval(c)} | "
                     f"{c.errors} | {verdict} |")
    lines.append("")
    extra = ([f"errors: {result.error_summary()}"] if result.errors else []) + [
        f"{label}: {line}" for label, line in result.setup_lines()
    ]
    if extra:
        lines += [*(f"- {_md_cell(line)}" for line in extra), ""]
    lines += [_md_cell(_summary(result)), ""]
    return "\n".join(lines)


def render(result: GateResult, fmt: str) -> str:
    """The verdict in one of FORMATS (text ends without a newline, as `report` does)."""
    if fmt == "json":
        return json.dumps(verdict_json(result), indent=1, ensure_ascii=False)
    if fmt == "junit":
        return junit_xml(result).rstrip("\n")
    if fmt == "md":
        return markdown(result).rstrip("\n")
    return report(result)
