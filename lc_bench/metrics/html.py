"""leaderboard.html: one static file (no network to view) with sortable tables, plots, depth
heatmaps and a per-sample drill-down.

Model outputs and prompts are untrusted text: Jinja2 autoescapes everything, and the page's
Content-Security-Policy allows only its own script (by hash), so even a missed escape could not run
injected code.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from lc_bench.axes import LabelAxis
from lc_bench.lengths import format_length
from lc_bench.metrics.aggregate import Leaderboard
from lc_bench.metrics.axis_tables import label_names, label_sections, labels_note
from lc_bench.metrics.leaderboard import SKIPPED_NOTE, baseline_cells, protocol_line
from lc_bench.metrics.plots import COLORS, binned, figure_svg, length_figure
from lc_bench.metrics.records import read_lines
from lc_bench.metrics.views import (
    RowView,
    ScoreCell,
    check_cells,
    check_headers,
    families,
    format_score,
    generation_pivot,
    is_missing,
    plain,
    row_views,
)

DEFAULT_SAMPLES_PER_CELL = 5
# each text of a drill-down sample (output, references, a stage, an error) shows at most this many characters:
# a model that looped for 100 MB would otherwise make a 100 MB page no browser opens
DRILLDOWN_TEXT_CHARS = 20_000


@dataclass(frozen=True)
class FamilySection:
    name: str
    rows: list[RowView]
    plot: str


def _hex(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def heat_color(score: float) -> str:
    """The heatmap colormap (red 0, yellow 50, green 100) as a CSS colour."""
    if is_missing(score):
        return "#ffffff"
    position = min(max(score, 0.0), 100.0) / 50.0
    low, high = (COLORS[0], COLORS[1]) if position <= 1 else (COLORS[1], COLORS[2])
    fraction = position if position <= 1 else position - 1
    mixed = [round(a + (b - a) * fraction) for a, b in zip(_hex(low), _hex(high), strict=True)]
    return "#" + "".join(f"{channel:02x}" for channel in mixed)


def _heatmaps(depths: pd.DataFrame) -> list[dict[str, Any]]:
    if depths.empty:
        return []
    maps = []
    for (model, task), group in binned(depths).groupby(["model", "task"], sort=True):
        lengths = sorted(int(x) for x in group["target_length"].unique())
        by_cell = {(row.depth, int(row.target_length)): row for row in group.itertuples(index=False)}
        rows = []
        for depth in sorted(group["depth"].unique()):
            cells = []
            for length in lengths:
                row = by_cell.get((depth, length))
                score = row.score if row is not None else float("nan")
                n = int(row.n) if row is not None and hasattr(row, "n") else ""
                cells.append({"text": format_score(score), "color": heat_color(score), "n": n})
            rows.append({"depth": f"{depth:g}", "cells": cells})
        maps.append({"model": model, "task": task, "lengths": lengths, "rows": rows})
    return maps


def _bucket_rows(axis: LabelAxis, buckets: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for (model, task, length), group in buckets.groupby(["model", "task", "target_length"], sort=True):
        by_bucket = {row.bucket: row for row in group.itertuples(index=False)}
        cells = []
        for name in label_names(axis, buckets):
            row = by_bucket.get(name)
            score = row.score if row is not None else float("nan")
            cells.append({"text": format_score(score), "n": int(row.n) if row is not None else 0,
                          "sort": "" if is_missing(score) else f"{score:.6g}"})
        rows.append({"model": model, "task": task, "length": int(length), "cells": cells})
    return rows


def _generation_views(board: Leaderboard) -> list[dict[str, Any]]:
    """Each output-length axis: a pivot by requested length, then the declared columns per group."""
    views = []
    for axis, tasks in board.catalog.output_axes():
        generation = board.generation[board.generation["task"].isin(tasks)]
        if generation.empty:
            continue
        pivot = generation_pivot(generation)
        rows = [dict(zip(("model", "task", "length", "cells"), row, strict=True)) for row in pivot.rows]
        details = [
            {"model": row["model"], "task": row["task"], "length": int(row["target_length"]), "label": row["label"],
             "n": int(row["n"]), "checks": check_cells(row, axis.columns)}
            for row in generation.to_dict("records")
        ]
        unit = f" {axis.unit}" if axis.unit else ""
        views.append({"title": axis.title, "note": plain(axis.note), "unit": unit, "labels": pivot.labels,
                      "pivot": rows, "headers": check_headers(axis.columns), "details": details})
    return views


def _secondary_views(board: Leaderboard) -> list[dict[str, Any]]:
    views = []
    for columns, tasks in board.catalog.secondary_groups():
        rows = board.secondary[board.secondary["task"].isin(tasks)]
        if not rows.empty:
            views.append({"headers": check_headers(columns), "rows": [
                {"model": row["model"], "task": row["task"], "length": int(row["target_length"]), "n": int(row["n"]),
                 "cells": check_cells(row, columns)} for row in rows.to_dict("records")]})
    return views


def _line_plot(board: Leaderboard, level: str, family: str | None, title: str) -> str:
    series = {
        view.model: {length: cell.score for length, cell in view.cells.items()}
        for view in row_views(board, level, family)
    }
    return figure_svg(length_figure(series, title, board.options.threshold))


def clip_text(text: Any, limit: int = DRILLDOWN_TEXT_CHARS) -> str:
    """The head and tail of a long text, with a marker saying how much was cut and where it is."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    half = limit // 2
    marker = f"[... {len(text) - 2 * half:,} characters cut here; the full text is in records.jsonl ...]"
    return f"{text[:half]}\n\n{marker}\n\n{text[-half:]}"


def _sample_view(record: dict[str, Any]) -> dict[str, Any]:
    completion = record.get("completion") or {}
    error = completion.get("error")
    finish = f"error: {error.get('type')}: {error.get('message')}" if error else completion.get("finish_reason")
    score = record.get("score", (record.get("scores") or {}).get(record.get("primary_metric")))
    return {
        "sample_id": record.get("sample_id", ""),
        "depth": "" if record.get("depth") is None else f"{record['depth']:g}",
        "input_tokens": record.get("input_tokens", ""),
        "score": "error" if error else format_score(score),
        "finish": clip_text(finish),
        "references": clip_text("\n".join(str(r) for r in record.get("references") or [])),
        "output": clip_text(completion.get("text", "")),
        # earlier calls of a multi-call task (the chain of thought before the scored answer)
        "stages": [clip_text(stage.get("text", "")) for stage in record.get("stages") or []],
        "prompt_head": record.get("prompt_head", ""),
        # the prompt around the sample's evidence (tasks that mark one), linked from its id
        "focus": record.get("focus_excerpt") or "",
        "anchor": "focus-" + str(record.get("key", "")),
        "prompt_tail": record.get("prompt_tail", ""),
    }


def drilldown(board: Leaderboard, run_dirs: list[Path], per_cell: int) -> list[dict[str, Any]]:
    """Per model x task x length, the lowest-scoring samples (errors first), read back from disk."""
    if per_cell <= 0:
        return []
    samples = board.samples.assign(
        model=board.samples["model"].astype(str),
        task=board.samples["task"].astype(str),
        _order=board.samples["score"].fillna(-1.0),
    )
    keys = ["model", "task", "target_length"]
    chosen = samples.sort_values([*keys, "_order", "run", "line"]).groupby(keys, sort=True).head(per_cell)
    totals = samples.groupby(keys, sort=True).size()
    wanted: dict[int, set[int]] = {}
    for run, line in zip(chosen["run"], chosen["line"], strict=True):
        wanted.setdefault(int(run), set()).add(int(line))
    found = {run: read_lines(run_dirs[run], lines) for run, lines in wanted.items()}
    groups = []
    for (model, task, length), group in chosen.groupby(keys, sort=True):
        records = [found[int(run)].get(int(line)) for run, line in zip(group["run"], group["line"], strict=True)]
        groups.append(
            {
                "model": model, "task": task, "length": int(length), "total": int(totals[(model, task, length)]),
                "samples": [_sample_view(record) for record in records if record is not None],
            }
        )
    return groups


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("lc_bench.metrics", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )
    environment.filters["score"] = format_score
    environment.filters["length_label"] = format_length
    environment.filters["sort_value"] = lambda value: "" if is_missing(value) else f"{value:.6g}"
    environment.filters["half_width"] = _half_width_cell
    environment.filters["avg_half_width"] = lambda row: _half_width(
        row.summary["avg"], row.summary["avg_ci_low"], row.summary["avg_ci_high"]
    )
    return environment


def _half_width(score: float, low: float, high: float) -> Markup:
    if is_missing(score) or is_missing(low) or is_missing(high):
        return Markup("")
    return Markup(' <span class="ci">± {:.1f}</span>').format((high - low) / 2)


def _half_width_cell(cell: ScoreCell) -> Markup:
    return _half_width(cell.score, cell.low, cell.high)


def script_source() -> str:
    return resources.files("lc_bench.metrics").joinpath("templates/sort.js").read_text("utf-8")


def render_html(board: Leaderboard, run_dirs: list[Path], per_cell: int = DEFAULT_SAMPLES_PER_CELL) -> str:
    script = script_source()
    assert "</" not in script, "the inline script must not contain a closing tag"
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    sections = [
        FamilySection(name, [v for v in row_views(board, family=name) if v.level != "overall"],
                      _line_plot(board, "family", name, f"{name}: score vs length"))
        for name in families(board)
    ]
    context = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": [str(path) for path in run_dirs],
        "options": board.options,
        "protocol": protocol_line(board),
        "lengths": board.lengths,
        "overall": row_views(board, "overall"),
        "overall_plots": [_line_plot(board, "overall", None, "overall: score vs length")],
        "families": sections,
        "heatmaps": _heatmaps(board.depths),
        "bucket_tables": [
            {"scheme": axis.title, "names": label_names(axis, rows), "rows": _bucket_rows(axis, rows)}
            for axis, rows in label_sections(board.buckets, board.catalog)
        ],
        "bucket_note": plain(labels_note([axis for axis, _ in label_sections(board.buckets, board.catalog)])),
        "baselines": {
            (model, task): baseline_cells(board, model, task)
            for model, task in board.baselines[["model", "task"]].drop_duplicates().itertuples(index=False)
        },
        "generations": _generation_views(board),
        "secondary": _secondary_views(board),
        "skipped_note": SKIPPED_NOTE + " on this page.",
        "skipped": [
            {"model": row.model, "task": row.task, "length": int(row.target_length), "count": int(row.skipped)}
            for row in board.skipped.itertuples(index=False)
        ],
        "drilldown": drilldown(board, run_dirs, per_cell),
        "per_cell": per_cell,
        "script": Markup(script),
        "script_hash": f"sha256-{digest}",
    }
    return _environment().get_template("leaderboard.html.j2").render(**context)
