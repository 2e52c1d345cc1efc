"""The markdown leaderboard: an overall table per model, a table per task family, depth tables."""

from __future__ import annotations

import pandas as pd

from lc_bench.axes import LabelAxis, ScoreColumn
from lc_bench.config import DEFAULT_PROTOCOL
from lc_bench.lengths import format_length
from lc_bench.metrics.aggregate import Leaderboard
from lc_bench.metrics.axis_tables import (
    group_passing,
    label_names,
    label_sections,
    labels_note,
    passing_header,
    passing_note,
)
from lc_bench.metrics.plots import binned
from lc_bench.metrics.views import (
    RowView,
    check_cells,
    check_headers,
    families,
    format_score,
    generation_pivot,
    merged_note,
    row_views,
    table_notes,
)

SKIPPED_NOTE = "These samples could not fit their length (e.g. a task run with truncation=none) and are in no score"


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


def with_notes(table: str, views: list[RowView]) -> str:
    """A table followed by the notes its marks need (`views.table_notes`), one paragraph each."""
    return "\n\n".join([table, *table_notes(views)])


def overall_markdown(board: Leaderboard) -> str:
    lengths = [format_length(x) for x in board.lengths]
    views = row_views(board, "overall")
    rows = [[v.model + v.mark, *_length_cells(v, board.lengths), *_summary_cells(v)] for v in views]
    return with_notes(markdown_table(["model", *lengths, *SUMMARY_HEADER], rows), views)


def family_markdown(board: Leaderboard, family: str) -> str:
    lengths = [format_length(x) for x in board.lengths]
    rows = []
    views = [view for view in row_views(board, family=family) if view.level != "overall"]
    for view in views:
        task = f"**{family} avg**{view.mark}" if view.level == "family" else view.task
        counts = [str(int(view.summary[k])) if view.level == "task" else "" for k in ("n", "errors", "truncated")]
        rows.append([view.model, task, *_length_cells(view, board.lengths), *_summary_cells(view), *counts])
        if view.level == "task":
            baseline = baseline_cells(board, view.model, view.task)
            if baseline:
                rows.append([view.model, f"{view.task} (random)", *baseline, *[""] * (len(SUMMARY_HEADER) + 3)])
    return with_notes(markdown_table(["model", "task", *lengths, *SUMMARY_HEADER, "n", "errors", "truncated"], rows),
                      views)


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


def bucket_markdown(axis: LabelAxis, buckets: pd.DataFrame) -> str:
    """Rows model x task x length, columns one axis's labels (e.g. a benchmark's length classes)."""
    columns = label_names(axis, buckets)
    rows = []
    for (model, task, length), group in buckets.groupby(["model", "task", "target_length"], sort=True):
        by_bucket = dict(zip(group["bucket"], zip(group["score"], group["n"], strict=True), strict=True))
        cells = [
            f"{format_score(by_bucket[b][0])} (n={by_bucket[b][1]})" if b in by_bucket else "–" for b in columns
        ]
        summary = [group_passing(axis, group)] if axis.largest_passing is not None else []
        rows.append([str(model), str(task), format_length(int(length)), *cells, *summary])
    summary_header = [passing_header(axis)] if axis.largest_passing is not None else []
    return markdown_table(["model", "task", "length", *columns, *summary_header], rows)


def _label_sections(board: Leaderboard) -> list[str]:
    sections = label_sections(board.buckets, board.catalog)
    if not sections:
        return []
    axes = [axis for axis, _ in sections]
    parts = ["## Score by length bucket", labels_note(axes), *filter(None, [passing_note(axes)])]
    for axis, rows in sections:
        parts += [f"### {axis.title}", bucket_markdown(axis, rows)]
    return parts


def _output_sections(board: Leaderboard) -> list[str]:
    parts = []
    for axis, tasks in board.catalog.output_axes():
        rows = board.generation[board.generation["task"].isin(tasks)]
        if not rows.empty:
            parts += [f"## {axis.title}", *([axis.note] if axis.note else []), generation_pivot_markdown(rows),
                      generation_markdown(rows, axis.columns)]
    return parts


def _secondary_sections(board: Leaderboard) -> list[str]:
    parts = []
    for columns, tasks in board.catalog.secondary_groups():
        rows = board.secondary[board.secondary["task"].isin(tasks)]
        if rows.empty:
            continue
        table = [[str(row["model"]), str(row["task"]), format_length(int(row["target_length"])), str(int(row["n"])),
                  *check_cells(row, columns)] for row in rows.to_dict("records")]
        parts.append(markdown_table(["model", "task", "length", "n", *check_headers(columns)], table))
    return ["## Secondary scores", "Per-sample scores the tasks report besides their primary one, mean per cell.",
            *parts] if parts else []


def protocol_line(board: Leaderboard) -> str:
    """Which protocol the scores were made under: lc_bench's own defaults or a named published
    setting (a paper preset), per row when the rows differ."""
    by_row = {row: ", ".join(facts["protocols"]) for row, facts in board.pooled.items()}
    shown = {protocol: protocol + (" (lc_bench's own defaults)" if protocol == DEFAULT_PROTOCOL else "")
             for protocol in set(by_row.values())}
    if len(shown) <= 1:
        return f"Protocol: {next(iter(shown.values()), DEFAULT_PROTOCOL)}."
    return "Protocols: " + "; ".join(f"{row}: {shown[protocol]}" for row, protocol in sorted(by_row.items())) + "."


def leaderboard_markdown(board: Leaderboard) -> str:
    options = board.options
    sections = [
        "# lc_bench leaderboard",
        "Scores are each task's primary metric (x100), mean over samples, with the bounds of a 95% "
        "interval in brackets: the Wilson score interval where every sample scores 0 or 100, else a "
        f"percentile bootstrap ({options.replicates} replicates, seed {options.seed}); an average's "
        "interval is the bootstrap of its members' replicates, or, where a member's interval is "
        "Wilson's, their intervals combined. Lengths are model "
        "tokens (k = 1024) of prompt + output budget. A family score is the mean of its tasks; overall "
        "is the mean of the families. Errored samples are counted, not scored. Effective length: the "
        f"largest length scoring at least {options.threshold:g} (strict: and every shorter length too), "
        "among the lengths the row has a score at.",
        protocol_line(board),
        *([merged_note(board)] if board.merged else []),
        "## Overall",
        overall_markdown(board),
    ]
    for family in families(board):
        sections += [f"## {family}", family_markdown(board, family)]
    sections += _label_sections(board)
    depth_md = depth_markdown(board.depths)
    if depth_md:
        sections += ["## Score by depth and length", depth_md]
    sections += _output_sections(board)
    sections += _secondary_sections(board)
    if board.unreadable_lines:
        sections += [
            "## Unreadable record lines",
            "Lines of records.jsonl that are not records (corrupt JSON, foreign or type-corrupt lines) were "
            "skipped: " + ", ".join(f"{run}: {count}" for run, count in sorted(board.unreadable_lines.items())) + ".",
        ]
    if not board.skipped.empty:
        sections += [
            "## Samples left out",
            SKIPPED_NOTE + " above.",
            skipped_markdown(board.skipped),
        ]
    return "\n\n".join(sections) + "\n"


def generation_pivot_markdown(generation: pd.DataFrame) -> str:
    """Rows model x task x input length, columns the requested output lengths."""
    pivot = generation_pivot(generation)
    rows = [[model, task, format_length(length), *cells] for model, task, length, cells in pivot.rows]
    return markdown_table(["model", "task", "length", *pivot.labels], rows)


def generation_markdown(generation: pd.DataFrame, columns: tuple[ScoreColumn, ...]) -> str:
    rows = [
        [str(row["model"]), str(row["task"]), format_length(int(row["target_length"])), str(row["label"]),
         str(int(row["n"])), *check_cells(row, columns)]
        for row in generation.to_dict("records")
    ]
    return markdown_table(["model", "task", "length", "requested", "n", *check_headers(columns)], rows)


def skipped_markdown(skipped: pd.DataFrame) -> str:
    rows = [
        [str(row.model), str(row.task), format_length(int(row.target_length)), str(int(row.skipped))]
        for row in skipped.itertuples(index=False)
    ]
    return markdown_table(["model", "task", "length", "skipped"], rows)
