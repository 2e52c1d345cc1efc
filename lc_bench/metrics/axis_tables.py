"""Tables the tasks declare (lc_bench.axes), built generically from the per-sample frame.

* label tables: mean score and n per model x task x length x label, one table per `LabelAxis`
  (a benchmark's own length classes, its difficulty split, a plugin's label);
* baselines: the mean random-guess score per model x task x length, where a task names the
  metadata field that holds it.
"""

from __future__ import annotations

import pandas as pd

from lc_bench.axes import LabelAxis
from lc_bench.metrics.catalog import Catalog
from lc_bench.metrics.records import label_column, number_column

LABEL_TABLE_COLUMNS = ["model", "task", "target_length", "scheme", "bucket", "score", "n"]
BASELINE_COLUMNS = ["model", "task", "target_length", "baseline"]


def _named(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(model=frame["model"].astype(str), task=frame["task"].astype(str))


def label_table(samples: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Rows model x task x length x (scheme, label): `scheme` is the axis title, `bucket` the label.

    One metadata field at a time (tasks may share a field under different axes, e.g. two
    benchmarks' length classes), each labelled sample under its own task's axis for that field.
    """
    parts = []
    for field in catalog.label_fields():
        title_of = {task: axis.title for axis, tasks in catalog.label_axes() if axis.field == field for task in tasks}
        column = label_column(field)
        chosen = samples[samples["task"].astype(str).isin(title_of) & (samples[column].astype(str) != "")]
        if chosen.empty:
            continue
        chosen = _named(chosen).assign(bucket=chosen[column].astype(str))
        table = chosen.groupby(["model", "task", "target_length", "bucket"], sort=True).agg(
            score=("score", "mean"), n=("score", "count")
        ).reset_index()
        table["scheme"] = table["task"].map(title_of)
        parts.append(table)
    if not parts:
        return pd.DataFrame(columns=LABEL_TABLE_COLUMNS)
    return pd.concat(parts, ignore_index=True)[LABEL_TABLE_COLUMNS]


def label_sections(table: pd.DataFrame, catalog: Catalog) -> list[tuple[LabelAxis, pd.DataFrame]]:
    """(axis, its rows) for every declared axis with rows, in declaration order."""
    if table.empty:
        return []
    sections = []
    for axis, tasks in catalog.label_axes():
        rows = table[(table["scheme"] == axis.title) & table["task"].isin(tasks)]
        if not rows.empty:
            sections.append((axis, rows))
    return sections


def label_names(axis: LabelAxis, rows: pd.DataFrame) -> list[str]:
    """The axis's labels in published order (all of them once any is present), then unknown ones sorted."""
    present = set(rows["bucket"].astype(str))
    names = list(axis.order) if present & set(axis.order) else []
    return names + sorted(present - set(names))


def labels_note(axes: list[LabelAxis]) -> str:
    """The label section's note: where the labels come from, per declaring axis."""
    notes = "; ".join(axis.note for axis in axes if axis.note)
    where = f"from each record ({notes})" if notes else "from each record"
    return (f"Buckets are the benchmark's own sample classes, {where}; the length column is the token budget "
            "the prompt was fitted to.")


def baseline_table(samples: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Mean random-guess score per model x task x length, for tasks that declare where it is."""
    parts = []
    for task, field in catalog.baseline_fields().items():
        column = number_column(field)
        chosen = samples[(samples["task"].astype(str) == task) & samples[column].notna()]
        if not chosen.empty:
            parts.append(_named(chosen).assign(baseline=chosen[column]))
    if not parts:
        return pd.DataFrame(columns=BASELINE_COLUMNS)
    known = pd.concat(parts, ignore_index=True)
    table = known.groupby(["model", "task", "target_length"], sort=True)["baseline"].mean()
    return table.reset_index()[BASELINE_COLUMNS]
