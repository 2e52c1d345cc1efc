"""Display-ready views shared by the markdown, HTML and gate outputs, so they never disagree."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lc_bench.axes import ScoreColumn
from lc_bench.lengths import format_length
from lc_bench.metrics.aggregate import Leaderboard
from lc_bench.metrics.effective import BASIS_NONE, BASIS_SCORED

DASH = "–"
UNKNOWN = "?"  # an effective length with no scored length under it
PARTIAL = "*"  # an effective length over only the lengths that have a score
UNEVEN = "‡"  # an average that leaves out member scores, or covers other members or lengths than its table's others
PARTIAL_NOTE = (
    f"{PARTIAL} effective length over the lengths this row has a score at: a blank length (a task lacking "
    "that length, or only errors there) is left out, not counted as a miss."
)
UNKNOWN_NOTE = f"{UNKNOWN} effective length unknown: no length of this row has a score."


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_score(score: float | None) -> str:
    return DASH if is_missing(score) else f"{score:.1f}"


def format_bounds(low: float | None, high: float | None) -> str:
    """"(83.2–87.4)": an interval's bounds, one decimal, or "" when it has none. Bounds rather than
    "± half-width", since Wilson intervals at 0 or 100 are one-sided: 3 of 3 is (43.9–100.0), which
    "± 28.1" would misstate as reaching 128."""
    if is_missing(low) or is_missing(high):
        return ""
    return f"({low:.1f}–{high:.1f})"


def format_interval(score: float | None, low: float | None, high: float | None) -> str:
    """"85.3 (83.2–87.4)": the score and the bounds of its 95% interval."""
    if is_missing(score):
        return DASH
    bounds = format_bounds(low, high)
    return f"{score:.1f} {bounds}" if bounds else f"{score:.1f}"


def format_effective(length: float | None, shortest: int | None, basis: str | None = None) -> str:
    """A length, "<4k" when even the shortest scored length misses the threshold, "?" when no
    length has a score (basis "none"), with "*" when the figure stands on only the lengths that have
    a score (basis "scored", `effective.scored_effective_lengths`)."""
    if basis == BASIS_NONE:
        return UNKNOWN
    mark = PARTIAL if basis == BASIS_SCORED else ""
    if not is_missing(length):
        return format_length(int(length)) + mark
    return f"<{format_length(shortest)}{mark}" if shortest else DASH


@dataclass(frozen=True)
class ScoreCell:
    score: float
    low: float
    high: float
    n: int
    errors: int
    truncated: int
    input_tokens: float

    @property
    def text(self) -> str:
        return format_interval(self.score, self.low, self.high)


@dataclass(frozen=True)
class RowView:
    """One table row: a model's task, family average or overall average across lengths."""

    level: str
    model: str
    family: str
    task: str
    cells: dict[int, ScoreCell]
    summary: dict[str, object]
    shortest: int | None  # the shortest length where this row has a score

    @property
    def basis(self) -> str | None:
        return self.summary.get("effective_basis")  # type: ignore[return-value]

    @property
    def effective(self) -> str:
        return format_effective(self.summary["effective_length"], self.shortest, self.basis)

    @property
    def effective_strict(self) -> str:
        return format_effective(self.summary["effective_length_strict"], self.shortest, self.basis)

    @property
    def uneven(self) -> bool:
        """An average row that leaves out member scores or covers other sets than its table's others."""
        return bool(self.summary.get("uneven_coverage"))

    @property
    def mark(self) -> str:
        """" ‡" after an uneven average row's label, else ""."""
        return f" {UNEVEN}" if self.uneven else ""

    @property
    def avg(self) -> str:
        return format_interval(self.summary["avg"], self.summary["avg_ci_low"], self.summary["avg_ci_high"])


def row_views(board: Leaderboard, level: str | None = None, family: str | None = None) -> list[RowView]:
    """Rows in leaderboard order, filtered by level and family."""
    rows = board.rows
    if level is not None:
        rows = rows[rows["level"] == level]
    if family is not None:
        rows = rows[rows["family"] == family]
    # each row's cells, grouped in one pass (a `.loc` per row cost more than the rest of the table)
    cells_of: dict[tuple, list[dict]] = {}
    for cell in board.cells.to_dict("records"):
        cells_of.setdefault(_row_key(cell), []).append(cell)
    views = []
    for row in rows.to_dict("records"):
        by_length = {
            int(cell["target_length"]): ScoreCell(
                cell["score"], cell["ci_low"], cell["ci_high"], int(cell["n"]), int(cell["errors"]),
                int(cell["truncated"]), cell["input_tokens"],
            )
            for cell in cells_of.get(_row_key(row), [])
        }
        scored = [length for length, cell in by_length.items() if not is_missing(cell.score)]
        views.append(
            RowView(row["level"], row["model"], row["family"], row["task"], by_length, row, min(scored, default=None))
        )
    return views


def _row_key(entry: dict) -> tuple:
    """(level, model, family, task), a missing family or task (NaN or None) as None."""
    return tuple(None if is_missing(entry[name]) else entry[name] for name in ("level", "model", "family", "task"))


def _lengths_text(lengths: list[int]) -> str:
    return ", ".join(format_length(length) for length in lengths) if lengths else "no length"


def coverage_text(view: RowView) -> str:
    """What an average row averages: "m: 2 tasks (a, b) at 1k, 4k; no average at 2k (a member lacks a
    score there)"."""
    members = list(view.summary.get("members") or [])
    noun = ("task" if view.level == "family" else "family") if len(members) == 1 else (
        "tasks" if view.level == "family" else "families"
    )
    averaged = [int(x) for x in view.summary.get("avg_lengths") or []]
    text = f"{view.model}: {len(members)} {noun} ({', '.join(members)}) at {_lengths_text(averaged)}"
    left_out = sorted(set(view.cells) - set(averaged))
    if left_out:
        text += f"; no average at {_lengths_text(left_out)} (a member lacks a score there)"
    return text


def table_notes(views: list[RowView]) -> list[str]:
    """The notes a table needs for the marks its rows carry (`‡`, `*`, `?`), in that order."""
    notes = []
    uneven = [view for view in views if view.uneven]
    if uneven:
        notes.append(
            f"{UNEVEN} these averages cover different tasks, families or lengths (or leave out scores their "
            "members have), so compare them with care: " + "; ".join(coverage_text(view) for view in uneven) + "."
        )
    if any(view.basis == BASIS_SCORED for view in views):
        notes.append(PARTIAL_NOTE)
    if any(view.basis == BASIS_NONE for view in views):
        notes.append(UNKNOWN_NOTE)
    return notes


def merged_note(board: Leaderboard) -> str:
    """One line naming the rows that pool several runs, settings or invocations, or "" when none do."""
    if not board.merged:
        return ""
    rows = "; ".join(f"{label} pools {', '.join(parts)}" for label, parts in board.merged.items())
    return (
        "Merged rows (one row of the tables below pools several runs, settings or invocations of one model): "
        + rows + "."
    )


def families(board: Leaderboard) -> list[str]:
    return sorted(board.rows.loc[board.rows["level"] == "family", "family"].unique())


@dataclass(frozen=True)
class GenerationPivot:
    """The output-length axis as text: one row per model x task x input length, a cell per
    requested output length (in requested order)."""

    labels: list[str]
    rows: list[tuple[str, str, int, list[str]]]


def generation_pivot(generation: pd.DataFrame) -> GenerationPivot:
    labels = generation.drop_duplicates("label").sort_values("requested")["label"].tolist()
    rows = []
    for (model, task, length), group in generation.groupby(["model", "task", "target_length"], sort=True):
        by_label = dict(zip(group["label"], group["score"], strict=True))
        rows.append((str(model), str(task), int(length),
                     [format_score(by_label[label]) if label in by_label else DASH for label in labels]))
    return GenerationPivot(labels, rows)


def check_headers(columns: tuple[ScoreColumn, ...]) -> list[str]:
    return ["score", *[column.header for column in columns]]


def check_cells(row: dict[str, Any], columns: tuple[ScoreColumn, ...]) -> list[str]:
    """A table row's primary score and declared columns as text, in `check_headers` order."""

    def text(value: Any, column_format: str) -> str:
        if column_format == "count":
            return DASH if is_missing(value) else f"{value:.0f}"
        return format_score(value)

    return [format_score(row["score"]), *[text(row.get(column.source), column.format) for column in columns]]


def plain(text: str) -> str:
    """A declared note without markdown code quotes, for the HTML page."""
    return text.replace("`", "")
