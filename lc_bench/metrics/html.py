"""leaderboard.html: one static file (no network to view) to explore: a table of contents, a text
filter and model / task / length filters (built from the data) over every table, plot and the
drill-down; sortable tables whose average rows stay at their group's end; score-vs-length plots with
95% interval bands; depth heatmaps; and a per-sample drill-down, one tab per length and a few
samples at a time ("show more"), each sample linked to its evidence where the record marks one.

Model outputs and prompts are untrusted text: Jinja2 autoescapes everything, and the page's
Content-Security-Policy allows only its own script (by hash), so even a missed escape could not run
injected code.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import pickle
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

import lc_bench.metrics.views as shared_views
from lc_bench.axes import LabelAxis
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
from lc_bench.metrics.leaderboard import SKIPPED_NOTE, baseline_cells, protocol_line
from lc_bench.metrics.plots import COLORS, Point, binned, length_svg, series_colors, slug
from lc_bench.metrics.records import read_lines
from lc_bench.metrics.views import (
    RowView,
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
# samples of a drill-down cell shown at first (and added per "show more" click); the rest wait
DRILLDOWN_PAGE = 3


@dataclass(frozen=True)
class FamilySection:
    name: str
    anchor: str
    table_id: str
    groups: list[list[RowView]]  # a model's task rows then its family average: sorting keeps the average last
    plot: str
    notes: list[str]


def table_notes(rows: list[RowView]) -> list[str]:
    """The notes the marks on these rows need, as the markdown tables print them (none where the
    views state none)."""
    notes = getattr(shared_views, "table_notes", None)
    return [plain(note) for note in notes(rows)] if notes else []


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
        passing = group_passing(axis, group)
        rows.append({"model": model, "task": task, "length": int(length), "cells": cells, "passing": passing,
                     "passing_sort": "" if passing in ("", "none") else passing})
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


def _line_plot(board: Leaderboard, level: str, family: str | None, title: str, colors: dict[str, str]) -> str:
    series = {
        view.model: {length: Point(cell.score, cell.low, cell.high) for length, cell in view.cells.items()}
        for view in row_views(board, level, family)
    }
    return length_svg(series, title, board.options.threshold, colors)


def _model_groups(rows: list[RowView]) -> list[list[RowView]]:
    """Consecutive rows of one model (its tasks, then its family average)."""
    groups: list[list[RowView]] = []
    for row in rows:
        if groups and groups[-1][0].model == row.model:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


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
    """Per model x task, one panel per length with that cell's lowest-scoring samples (errors
    first), read back from disk."""
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
    task_cells = board.cells[board.cells["level"] == "task"]
    scores = {
        (str(model), str(task), int(length)): score
        for model, task, length, score in zip(
            task_cells["model"], task_cells["task"], task_cells["target_length"], task_cells["score"], strict=True
        )
    }
    anchors: set[str] = set()
    groups: list[dict[str, Any]] = []
    for (model, task, length), group in chosen.groupby(keys, sort=True):
        records = [found[int(run)].get(int(line)) for run, line in zip(group["run"], group["line"], strict=True)]
        samples_shown = [_sample_view(record) for record in records if record is not None]
        for view in samples_shown:  # one id per page: the same sample of two models links to its own row
            anchor, number = view["anchor"], 2
            while view["anchor"] in anchors:
                view["anchor"], number = f"{anchor}-{number}", number + 1
            anchors.add(view["anchor"])
        if not groups or (groups[-1]["model"], groups[-1]["task"]) != (model, task):
            groups.append({"model": model, "task": task, "panels": [], "shown": 0, "total": 0})
        total = int(totals[(model, task, length)])
        groups[-1]["panels"].append({
            "length": int(length), "total": total, "samples": samples_shown,
            "score": format_score(scores.get((model, task, int(length)), float("nan"))),
        })
        groups[-1]["shown"] += len(samples_shown)
        groups[-1]["total"] += total
    return groups


def _filter_options(board: Leaderboard, drill: list[dict[str, Any]]) -> dict[str, Any]:
    """The values the page's filters offer: every model, task (by family) and length in the data."""
    frames = [board.cells, board.samples, board.skipped, board.generation, board.secondary, board.buckets, board.depths]
    models: set[str] = {str(group["model"]) for group in drill}
    tasks: set[str] = {str(group["task"]) for group in drill}
    lengths: set[int] = {int(panel["length"]) for group in drill for panel in group["panels"]}
    for frame in frames:
        if frame is None or frame.empty:
            continue
        if "model" in frame:
            models |= {str(value) for value in frame["model"].dropna().unique()}
        if "task" in frame:
            levels = frame["level"] if "level" in frame else None
            names = frame["task"] if levels is None else frame.loc[levels == "task", "task"]
            tasks |= {str(value) for value in names.dropna().unique()}
        if "target_length" in frame:
            lengths |= {int(value) for value in frame["target_length"].dropna().unique()}
    task_family: dict[str, str] = {}
    for frame in (board.cells[board.cells["level"] == "task"], board.samples):
        if not frame.empty and "family" in frame:
            pairs = frame[["task", "family"]].drop_duplicates()  # a million samples hold a few dozen pairs
            for task, family in zip(pairs["task"].astype(str), pairs["family"].astype(str), strict=True):
                task_family.setdefault(task, family)
    by_family: dict[str, list[str]] = {}
    for task in sorted(tasks):
        by_family.setdefault(task_family.get(task, "other"), []).append(task)
    return {
        "models": sorted(models),
        "task_groups": [{"family": family, "tasks": names} for family, names in sorted(by_family.items())],
        "lengths": sorted(lengths),
    }


def _toc(sections: list[tuple[str, str]], families: list[FamilySection]) -> list[dict[str, Any]]:
    """The table of contents: each section's id and title, the task families in place of "families"."""
    entries = []
    for anchor, label in sections:
        if anchor == "families":
            entries.extend({"anchor": family.anchor, "label": family.name, "family": True} for family in families)
        else:
            entries.append({"anchor": anchor, "label": label, "family": False})
    return entries


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """The page's template compiled once per machine, not once per process: compiling it costs
    0.1-0.2 s, a third of a short run's leaderboard step. Jinja keys the file by template name and
    source checksum; the folder (`_compiled_folder`) adds what the compiled code also depends on.
    A folder that cannot be read or written only costs the compile."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        # a damaged file is compiled afresh (Jinja itself resets on a wrong header or checksum)
        with contextlib.suppress(OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


ENVIRONMENT_OPTIONS: dict[str, Any] = {"autoescape": True, "undefined": jinja2.StrictUndefined, "trim_blocks": False}


def _compiled_folder() -> Path:
    """A folder per Jinja version, Python version and environment options."""
    from lc_bench.models import cache_dir

    fingerprint = hashlib.sha256(
        repr((jinja2.__version__, sys.version, sorted(ENVIRONMENT_OPTIONS.items()))).encode()
    ).hexdigest()[:16]
    return cache_dir() / "templates" / fingerprint


def _environment() -> jinja2.Environment:
    folder = _compiled_folder()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("lc_bench.metrics", "templates"),
        bytecode_cache=_CompiledTemplates(str(folder)),
        **ENVIRONMENT_OPTIONS,
    )
    environment.filters["score"] = format_score
    environment.filters["length_label"] = format_length
    environment.filters["sort_value"] = lambda value: "" if is_missing(value) else f"{value:.6g}"
    environment.filters["bounds"] = lambda cell: _bounds(cell.score, cell.low, cell.high)
    environment.filters["compact"] = compact_count
    environment.filters["avg_bounds"] = lambda row: _bounds(
        row.summary["avg"], row.summary["avg_ci_low"], row.summary["avg_ci_high"]
    )
    return environment


def _bounds(score: float, low: float, high: float) -> Markup:
    """A score's 95% interval as its bounds in small print under it (bounds, not "± half-width":
    an interval at 0 or 100 is one-sided)."""
    if is_missing(score) or is_missing(low) or is_missing(high):
        return Markup("")
    return Markup('<span class="ci">{:.1f}–{:.1f}</span>').format(low, high)


def compact_count(value: Any) -> str:
    """A count with thousands separators ("k" would read as 1024 on a page of token lengths)."""
    if is_missing(value) or value == "":
        return ""
    return f"{int(value):,}"


def script_source() -> str:
    return resources.files("lc_bench.metrics").joinpath("templates/sort.js").read_text("utf-8")


def render_html(board: Leaderboard, run_dirs: list[Path], per_cell: int = DEFAULT_SAMPLES_PER_CELL) -> str:
    script = script_source()
    assert "</" not in script, "the inline script must not contain a closing tag"
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    colors = series_colors([str(model) for model in board.cells["model"].unique()])
    sections = []
    for name in families(board):
        rows = [v for v in row_views(board, family=name) if v.level != "overall"]
        sections.append(FamilySection(
            name, f"family-{slug(name)}", f"table-{slug(name)}", _model_groups(rows),
            _line_plot(board, "family", name, f"{name}: score vs length", colors), table_notes(rows),
        ))
    overall = row_views(board, "overall")
    generations = _generation_views(board)
    for index, generation in enumerate(generations, 1):
        generation["anchor"] = "generation" if index == 1 else f"generation-{index}"
    label_tables = label_sections(board.buckets, board.catalog)
    heatmaps = _heatmaps(board.depths)
    drill = drilldown(board, run_dirs, per_cell)
    secondary = _secondary_views(board)
    skipped = [
        {"model": row.model, "task": row.task, "length": int(row.target_length), "count": int(row.skipped)}
        for row in board.skipped.itertuples(index=False)
    ]
    toc = _toc(
        [("overall", "Overall"), ("families", ""),
         *[(generation["anchor"], generation["title"]) for generation in generations],
         *([("secondary", "Secondary scores")] if secondary else []),
         *([("skipped", "Samples left out")] if skipped else []),
         *([("buckets", "Score by length bucket")] if label_tables else []),
         *([("depths", "Score by depth and length")] if heatmaps else []),
         ("samples", "Samples")],
        sections,
    )
    context = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": [str(path) for path in run_dirs],
        "options": board.options,
        "protocol": protocol_line(board),
        "lengths": board.lengths,
        "overall": overall,
        "overall_notes": table_notes(overall),
        "merged_note": plain(shared_views.merged_note(board)) if getattr(board, "merged", None) else "",
        "overall_plots": [_line_plot(board, "overall", None, "overall: score vs length", colors)],
        "families": sections,
        "heatmaps": heatmaps,
        "bucket_tables": [
            {"scheme": axis.title, "names": label_names(axis, rows), "rows": _bucket_rows(axis, rows),
             "passing": passing_header(axis) if axis.largest_passing is not None else ""}
            for axis, rows in label_tables
        ],
        "bucket_note": plain(labels_note([axis for axis, _ in label_tables])),
        "passing_note": plain(passing_note([axis for axis, _ in label_tables])),
        "baselines": {
            (model, task): baseline_cells(board, model, task)
            for model, task in board.baselines[["model", "task"]].drop_duplicates().itertuples(index=False)
        },
        "generations": generations,
        "secondary": secondary,
        "skipped_note": SKIPPED_NOTE + " on this page.",
        "skipped": skipped,
        "drilldown": drill,
        "per_cell": per_cell,
        "page": DRILLDOWN_PAGE,
        "filters": _filter_options(board, drill),
        "toc": toc,
        "colors": colors,
        "script": Markup(script),
        "script_hash": f"sha256-{digest}",
    }
    return _environment().get_template("leaderboard.html.j2").render(**context)
