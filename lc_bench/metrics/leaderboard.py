"""The markdown leaderboard: an overall table per model, a table per task family, depth tables."""

from __future__ import annotations

import pandas as pd

from lc_bench.lengths import format_length
from lc_bench.metrics.aggregate import Leaderboard, bucket_columns, bucket_schemes
from lc_bench.metrics.plots import binned
from lc_bench.metrics.views import (
    GENERATION_CHECK_HEADER,
    RowView,
    families,
    format_score,
    generation_checks,
    generation_pivot,
    row_views,
)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _length_cells(view: RowView, lengths: list[int]) -> list[str]:
    return [view.cells[length].text if length in view.cells else "–" for length in lengths]


def _summary_cells(view: RowView) -> list[str]:
    return [
        view.avg,
        view.effective,
        view.effective_strict,
        format_score(view.summary["wavg_inc"]),
        format_score(view.summary["wavg_dec"]),
    ]


SUMMARY_HEADER = ["avg", "eff. length", "eff. (strict)", "wAvg inc", "wAvg dec"]


def overall_markdown(board: Leaderboard) -> str:
    lengths = [format_length(x) for x in board.lengths]
    rows = [[v.model, *_length_cells(v, board.lengths), *_summary_cells(v)] for v in row_views(board, "overall")]
    return markdown_table(["model", *lengths, *SUMMARY_HEADER], rows)


def family_markdown(board: Leaderboard, family: str) -> str:
    lengths = [format_length(x) for x in board.lengths]
    rows = []
    for view in row_views(board, family=family):
        if view.level == "overall":
            continue
        task = f"**{family} avg**" if view.level == "family" else view.task
        counts = [str(int(view.summary[k])) if view.level == "task" else "" for k in ("n", "errors", "truncated")]
        rows.append([view.model, task, *_length_cells(view, board.lengths), *_summary_cells(view), *counts])
        if view.level == "task":
            baseline = baseline_cells(board, view.model, view.task)
            if baseline:
                rows.append([view.model, f"{view.task} (random)", *baseline, *[""] * (len(SUMMARY_HEADER) + 3)])
    return markdown_table(["model", "task", *lengths, *SUMMARY_HEADER, "n", "errors", "truncated"], rows)


def baseline_cells(board: Leaderboard, model: str, task: str | None) -> list[str]:
    """The random-guess score at each length, or [] when the task states none."""
    table = board.baselines
    rows = table[(table["model"] == model) & (table["task"] == task)] if not table.empty else table
    if rows.empty:
        return []
    by_length = dict(zip(rows["target_length"].astype(int), rows["baseline"], strict=True))
    return [format_score(by_length[length]) if length in by_length else "–" for length in board.lengths]


def depth_markdown(depths: pd.DataFrame) -> str:
    """Per model x task: rows depth, columns length."""
    if depths.empty:
        return ""
    depths = binned(depths)
    lengths = sorted(depths["target_length"].unique())
    parts = []
    for (model, task), group in depths.groupby(["model", "task"], sort=True):
        pivot = group.pivot(index="depth", columns="target_length", values="score")
        rows = [
            [f"{depth:g}", *[format_score(pivot.loc[depth].get(length, float("nan"))) for length in lengths]]
            for depth in pivot.index
        ]
        header = ["depth %", *[format_length(int(x)) for x in lengths]]
        parts.append(f"#### {model} · {task}\n\n" + markdown_table(header, rows))
    return "\n\n".join(parts)


def bucket_markdown(buckets: pd.DataFrame) -> str:
    """Rows model x task x length, columns one scheme's buckets (e.g. LongBench-E's 0-4k/4-8k/8k+)."""
    if buckets.empty:
        return ""
    columns = bucket_columns(buckets)
    rows = []
    for (model, task, length), group in buckets.groupby(["model", "task", "target_length"], sort=True):
        by_bucket = dict(zip(group["bucket"], zip(group["score"], group["n"], strict=True), strict=True))
        cells = [
            f"{format_score(by_bucket[b][0])} (n={by_bucket[b][1]})" if b in by_bucket else "–" for b in columns
        ]
        rows.append([str(model), str(task), format_length(int(length)), *cells])
    return markdown_table(["model", "task", "length", *columns], rows)


def leaderboard_markdown(board: Leaderboard) -> str:
    options = board.options
    sections = [
        "# lc_bench leaderboard",
        "Scores are each task's primary metric (x100), mean over samples, ± the half-width of a 95% "
        f"bootstrap interval ({options.replicates} replicates, seed {options.seed}). Lengths are model "
        "tokens (k = 1024) of prompt + output budget. A family score is the mean of its tasks; overall "
        "is the mean of the families. Errored samples are counted, not scored. Effective length: the "
        f"largest length scoring at least {options.threshold:g} (strict: and every shorter length too).",
        "## Overall",
        overall_markdown(board),
    ]
    for family in families(board):
        sections += [f"## {family}", family_markdown(board, family)]
    schemes = bucket_schemes(board.buckets)
    if schemes:
        sections += [
            "## Score by length bucket",
            "Buckets are the benchmark's own sample classes, from each record (LongBench-E: the record's "
            "`length` in words, or characters for Chinese; LongBench v2: its short/medium/long and "
            "easy/hard labels); the length column is the token budget the prompt was fitted to.",
        ]
        for scheme, rows in schemes:
            sections += [f"### {scheme}", bucket_markdown(rows)]
    depth_md = depth_markdown(board.depths)
    if depth_md:
        sections += ["## Score by depth and length", depth_md]
    if not board.generation.empty:
        sections += [
            "## Score by requested output length",
            "Long-generation tasks: the primary score by the output length asked for (words; k = 1000), next "
            "to the input length. words: LongWriter's count (English words + CJK characters); cut: share of "
            "outputs stopped by the output budget; rep-4: share of repeated 4-grams; dist-2: distinct bigrams; "
            "quality: the LongBench-Write judge score, after `lc-bench judge`.",
            generation_pivot_markdown(board.generation),
            generation_markdown(board.generation),
        ]
    if not board.skipped.empty:
        sections += [
            "## Samples left out",
            "These samples could not fit their length (e.g. LongBench with truncation=none) and are in "
            "no score above.",
            skipped_markdown(board.skipped),
        ]
    return "\n\n".join(sections) + "\n"


def generation_pivot_markdown(generation: pd.DataFrame) -> str:
    """Rows model x task x input length, columns the requested output lengths."""
    pivot = generation_pivot(generation)
    rows = [[model, task, format_length(length), *cells] for model, task, length, cells in pivot.rows]
    return markdown_table(["model", "task", "length", *pivot.labels], rows)


def generation_markdown(generation: pd.DataFrame) -> str:
    rows = [
        [str(row.model), str(row.task), format_length(int(row.target_length)), str(row.label), str(int(row.n)),
         *generation_checks(row)]
        for row in generation.itertuples(index=False)
    ]
    return markdown_table(["model", "task", "length", "requested", "n", *GENERATION_CHECK_HEADER], rows)


def skipped_markdown(skipped: pd.DataFrame) -> str:
    rows = [
        [str(row.model), str(row.task), format_length(int(row.target_length)), str(int(row.skipped))]
        for row in skipped.itertuples(index=False)
    ]
    return markdown_table(["model", "task", "length", "skipped"], rows)
