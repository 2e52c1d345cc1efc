"""Tables the tasks declare (lc_bench.axes), built generically from the per-sample frame.

* label tables: mean score and n per model x task x length x label, one table per `LabelAxis`
  (a benchmark's own length classes, its difficulty split, a plugin's label);
* largest passing: per row of a label table whose axis declares `largest_passing`, the largest
  numeric label that passes the threshold by the axis's rule (e.g. the most needles a model handles);
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
PASSING_COLUMNS = ["model", "task", "target_length", "scheme", "threshold", "rule", "largest_passing", "label",
                   "labels"]


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
    rest = present - set(names)
    numbers = {name: _number(name) for name in rest}
    if rest and all(value is not None for value in numbers.values()):  # numeric labels in numeric order
        return names + sorted(rest, key=lambda name: (numbers[name], name))
    return names + sorted(rest)


def _number(label: str) -> float | None:
    try:
        value = float(label)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def largest_passing(scores: dict[str, float], threshold: float, rule: str) -> str | None:
    """The passing label a rule picks among numeric labels (label -> mean score; others are ignored).

    Labels are taken in numeric order; one passes when its score is >= threshold (a missing score fails).
    all_below: the largest label with every smaller one passing; any: the largest passing label;
    before_last_failure: the label just before the last run of failing labels (the largest label when
    none fails). None where no label qualifies (or none is numeric).
    """
    ordered = sorted((value, label) for label in scores if (value := _number(label)) is not None)
    passed = [(label, scores[label] == scores[label] and scores[label] >= threshold) for _, label in ordered]
    if not passed:
        return None
    if rule == "any":
        return next((label for label, ok in reversed(passed) if ok), None)
    if rule == "all_below":
        best = None
        for label, ok in passed:
            if not ok:
                break
            best = label
        return best
    if rule == "before_last_failure":
        best, previous, failing = passed[-1][0], None, False
        for label, ok in passed:
            if not ok and not failing:
                best = previous
            failing = not ok
            previous = label
        return best
    raise ValueError(f"unknown passing rule {rule!r}")


def passing_table(buckets: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Per model x task x length of each axis declaring `largest_passing`: the label its rule picks
    (`label`; None: none), that label as a number (`largest_passing`) and the labels it looked at."""
    rows = []
    for axis, table in label_sections(buckets, catalog):
        if axis.largest_passing is None:
            continue
        for (model, task, length), group in table.groupby(["model", "task", "target_length"], sort=True):
            text = group_passing(axis, group)
            label = None if text == "none" else text
            numeric = [name for name in label_names(axis, group) if _number(name) is not None]
            rows.append([model, task, int(length), axis.title, axis.largest_passing, axis.passing_rule,
                         _number(label) if label is not None else None, label, ",".join(numeric)])
    return pd.DataFrame(rows, columns=PASSING_COLUMNS)


def group_passing(axis: LabelAxis, group: pd.DataFrame) -> str:
    """The summary's text for one row (model x task x length) of an axis's table: the label its rule
    picks, "none" where no label qualifies, "" where the axis declares no summary."""
    if axis.largest_passing is None:
        return ""
    scores = dict(zip(group["bucket"].astype(str), group["score"].astype(float), strict=True))
    label = largest_passing(scores, axis.largest_passing, axis.passing_rule)
    return "none" if label is None else label


def passing_header(axis: LabelAxis) -> str:
    return f"largest passing (>= {axis.largest_passing:g})"


def passing_note(axes: list[LabelAxis]) -> str:
    """What the largest-passing column means, for the axes that declare it ('' when none does)."""
    rules = {
        "all_below": "the largest label scoring at least the threshold, every smaller label doing so too",
        "any": "the largest label scoring at least the threshold",
        "before_last_failure": "the label just before the last run of labels scoring under the threshold begins "
                               "(the largest label when none does)",
    }
    parts = [f"{axis.title}: {rules[axis.passing_rule]} (threshold {axis.largest_passing:g})"
             for axis in axes if axis.largest_passing is not None]
    if not parts:
        return ""
    return ("Largest passing: among the numeric labels of a row, by each axis's rule on the label's mean score; "
            "none where no label qualifies. " + "; ".join(parts) + ".")


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
