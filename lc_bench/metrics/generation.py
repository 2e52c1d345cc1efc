"""Tables of per-sample scores beyond the primary one, read from the full records.

* The output-length axis (`OutputLengthAxis`): samples grouped by model x task x input length x
  requested output length, with the primary score and the declared columns.
* Secondary scores (`ReportAxes.secondary`): the declared scores' means per model x task x length.

Declared columns are score names from each record's `scores`, or two completion facts every record
has (`output_tokens`, and `cut`: the share stopped by the output budget). Only the records of the
declaring tasks are read in full, so large runs of other tasks cost nothing here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lc_bench.axes import ScoreColumn
from lc_bench.metrics.catalog import Catalog
from lc_bench.metrics.records import number_column, read_lines

OUTPUT_KEYS = ["model", "task", "target_length", "requested", "label"]
SECONDARY_KEYS = ["model", "task", "target_length"]


def column_value(source: str, record: dict[str, Any]) -> float | None:
    """One declared column's value in a full record (None when the record lacks it)."""
    completion = record.get("completion") or {}
    if source == "output_tokens":
        return completion.get("completion_tokens")
    if source == "cut":
        return None if completion.get("error") else 100.0 * (completion.get("finish_reason") == "length")
    return (record.get("scores") or {}).get(source)


def _full_records(chosen: pd.DataFrame, run_dirs: list[Path]) -> dict[tuple[int, int], dict[str, Any]]:
    found = {}
    for run, group in chosen.groupby("run", sort=True):
        for line, record in read_lines(run_dirs[int(run)], set(int(x) for x in group["line"])).items():
            found[(int(run), line)] = record
    return found


def _summarise(rows: list[dict[str, Any]], keys: list[str], sources: list[str]) -> pd.DataFrame:
    columns = [*keys, "n", "score", *sources]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    for name in ("score", *sources):
        frame[name] = pd.to_numeric(frame.get(name), errors="coerce").astype(np.float64)
    table = frame.groupby(keys, sort=True).agg(
        n=("score", "count"), score=("score", "mean"), **{name: (name, "mean") for name in sources}
    )
    return table.reset_index()[columns]


def _sources(columns: list[tuple[ScoreColumn, ...]]) -> list[str]:
    return list(dict.fromkeys(column.source for group in columns for column in group))


def output_length_table(samples: pd.DataFrame, run_dirs: list[Path], catalog: Catalog) -> pd.DataFrame:
    """One row per model x task x input length x requested output length (see the module doc)."""
    axes = catalog.output_axes()
    sources = _sources([axis.columns for axis, _ in axes])
    rows = []
    for axis, tasks in axes:
        requested = samples[number_column(axis.field)]
        chosen = samples[samples["task"].astype(str).isin(tasks) & requested.notna()]
        records = _full_records(chosen, run_dirs)
        for sample in chosen.to_dict("records"):
            record = records.get((int(sample["run"]), int(sample["line"])))
            if record is None:
                continue
            value = float(sample[number_column(axis.field)])
            label = (record.get("metadata") or {}).get(axis.label_field, f"{value:g}")
            rows.append({
                "model": str(sample["model"]), "task": str(sample["task"]),
                "target_length": int(sample["target_length"]), "requested": value, "label": str(label),
                "score": sample["score"],
                **{column.source: column_value(column.source, record) for column in axis.columns},
            })
    return _summarise(rows, OUTPUT_KEYS, sources)


def secondary_table(samples: pd.DataFrame, run_dirs: list[Path], catalog: Catalog) -> pd.DataFrame:
    """The declared secondary scores' means per model x task x length."""
    declared = catalog.secondary()
    sources = _sources(list(declared.values()))
    chosen = samples[samples["task"].astype(str).isin(declared)]
    records = _full_records(chosen, run_dirs)
    rows = []
    for sample in chosen.to_dict("records"):
        record = records.get((int(sample["run"]), int(sample["line"])))
        if record is None:
            continue
        rows.append({
            "model": str(sample["model"]), "task": str(sample["task"]), "target_length": int(sample["target_length"]),
            "score": sample["score"],
            **{column.source: column_value(column.source, record) for column in declared[str(sample["task"])]},
        })
    return _summarise(rows, SECONDARY_KEYS, sources)
