"""Markdown leaderboards: rows model x task, columns lengths, plus sample and error counts."""

from __future__ import annotations

import math

import pandas as pd

from lc_bench.lengths import format_length


def _cell(value: float) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def length_table_markdown(table: pd.DataFrame) -> str:
    """The per-length table: one score column per length, then avg, n, errors, truncated."""
    lengths = sorted(table["target_length"].unique())
    header = ["model", "task", *[format_length(int(x)) for x in lengths], "avg", "n", "errors", "truncated"]
    rows = []
    for (model, task), group in table.groupby(["model", "task"], sort=True):
        scores = dict(zip(group["target_length"], group["score"], strict=True))
        cells = [_cell(scores.get(length, float("nan"))) for length in lengths]
        row_avg = group["score"].mean()
        rows.append(
            [
                str(model),
                str(task),
                *cells,
                _cell(row_avg),
                str(int(group["n"].sum())),
                str(int(group["errors"].sum())),
                str(int(group["truncated"].sum())),
            ]
        )
    return _markdown(header, rows)


def depth_table_markdown(depth_table: pd.DataFrame) -> str:
    """Per model x task: rows depth, columns length."""
    if depth_table.empty:
        return ""
    parts = []
    lengths = sorted(depth_table["target_length"].unique())
    for (model, task), group in depth_table.groupby(["model", "task"], sort=True):
        pivot = group.pivot(index="depth", columns="target_length", values="score")
        header = ["depth %", *[format_length(int(x)) for x in lengths]]
        rows = [
            [f"{depth:g}", *[_cell(pivot.loc[depth].get(length, float("nan"))) for length in lengths]]
            for depth in pivot.index
        ]
        parts.append(f"#### {model} · {task}\n\n" + _markdown(header, rows))
    return "\n\n".join(parts)


def leaderboard_markdown(table: pd.DataFrame, depth_table: pd.DataFrame) -> str:
    sections = [
        "# lc_bench leaderboard",
        "Scores are the task's primary metric (x100), mean over samples; lengths are model tokens "
        "(k = 1024) of prompt + output budget. Errored samples are counted, not scored.",
        "## Score by length",
        length_table_markdown(table),
    ]
    from lc_bench.metrics.plots import binned

    depth_md = depth_table_markdown(binned(depth_table)) if not depth_table.empty else ""
    if depth_md:
        sections += ["## Score by depth and length", depth_md]
    return "\n\n".join(sections) + "\n"
