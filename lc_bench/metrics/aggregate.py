"""Pandas views over records: per-length tables. Never re-runs a model.

A key's latest record wins (a retried error is superseded by its success). Errored samples are
counted in their own column and left out of the mean, so an API outage shows as errors rather
than as a silently lower score.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from lc_bench.errors import UsageError
from lc_bench.store import RECORDS, iter_records, latest_by_key, read_manifest

COLUMNS = [
    "model", "runner", "task", "target_length", "depth", "input_tokens", "truncated", "error", "score",
]


def load_records(run_dirs: Iterable[Path]) -> pd.DataFrame:
    """One row per sample (latest record per key) across runs, with the primary score."""
    rows = []
    for run_dir in run_dirs:
        read_manifest(run_dir)  # a clear error for a folder that is not a run
        for record in latest_by_key(iter_records(run_dir / RECORDS)).values():
            completion = record["completion"]
            rows.append(
                {
                    "model": record["model"],
                    "runner": record["runner"],
                    "task": record["task"],
                    "target_length": record["target_length"],
                    "depth": record.get("depth"),
                    "input_tokens": record["input_tokens"],
                    "truncated": bool(record.get("truncated")),
                    "error": completion.get("error") is not None,
                    "score": record["scores"].get(record["primary_metric"]),
                }
            )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    if frame.empty:
        raise UsageError("no records found in " + ", ".join(str(d) for d in run_dirs))
    return frame


def per_length_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows model x task, one row per length: mean score, n, errors, truncated, mean input tokens."""
    grouped = frame.groupby(["model", "task", "target_length"], sort=True)
    table = grouped.agg(
        score=("score", "mean"),
        n=("score", "size"),
        errors=("error", "sum"),
        truncated=("truncated", "sum"),
        input_tokens=("input_tokens", "mean"),
    )
    table["errors"] = table["errors"].astype(int)
    table["truncated"] = table["truncated"].astype(int)
    return table.reset_index()


def per_depth_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean score per model x task x depth x length, for tasks whose samples have a depth."""
    with_depth = frame.dropna(subset=["depth"])
    if with_depth.empty:
        return pd.DataFrame(columns=["model", "task", "depth", "target_length", "score"])
    return (
        with_depth.groupby(["model", "task", "depth", "target_length"])["score"].mean().reset_index()
    )
