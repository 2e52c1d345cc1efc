"""Display-ready views shared by the markdown, HTML and gate outputs, so they never disagree."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lc_bench.axes import ScoreColumn
from lc_bench.lengths import format_length
from lc_bench.metrics.aggregate import Leaderboard

DASH = "–"


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_score(score: float | None) -> str:
    return DASH if is_missing(score) else f"{score:.1f}"


def format_interval(score: float | None, low: float | None, high: float | None) -> str:
    """"85.3 ± 2.1": the score and the half-width of its 95% bootstrap interval."""
    if is_missing(score):
        return DASH
    if is_missing(low) or is_missing(high):
        return f"{score:.1f}"
    return f"{score:.1f} ± {(high - low) / 2:.1f}"


def format_effective(length: float | None, shortest: int | None) -> str:
    """A length, or "<4k" when even the shortest tested length misses the threshold."""
    if not is_missing(length):
        return format_length(int(length))
    return f"<{format_length(shortest)}" if shortest else DASH


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
    shortest: int | None

    @property
    def effective(self) -> str:
        return format_effective(self.summary["effective_length"], self.shortest)

    @property
    def effective_strict(self) -> str:
        return format_effective(self.summary["effective_length_strict"], self.shortest)

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
    cells = board.cells.set_index(["level", "model", "family", "task"]).sort_index()
    shortest = board.cells.groupby("model")["target_length"].min()
    views = []
    for row in rows.to_dict("records"):
        key = (row["level"], row["model"], row["family"], row["task"])
        group = cells.loc[[key]] if key in cells.index else pd.DataFrame()
        by_length = {
            int(cell["target_length"]): ScoreCell(
                cell["score"], cell["ci_low"], cell["ci_high"], int(cell["n"]), int(cell["errors"]),
                int(cell["truncated"]), cell["input_tokens"],
            )
            for cell in group.to_dict("records")
        }
        views.append(
            RowView(row["level"], row["model"], row["family"], row["task"], by_length, row, int(shortest[row["model"]]))
        )
    return views


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
