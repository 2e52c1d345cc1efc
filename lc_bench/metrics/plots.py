"""Matplotlib figures for people who paste them into papers: depth x length heatmaps in the
red-yellow-green of the classic depth x length retrieval test, and score-vs-length lines per model
(95% interval bands, a gap where a length is missing). The HTML page draws the same lines as
hand-written inline SVG (`length_svg`), whose series the page's filters can hide."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pandas as pd

from lc_bench.errors import UsageError
from lc_bench.lengths import format_length

COLORS = ("#F0496E", "#EBB839", "#0CD79F")  # the classic retrieval heatmap's colours: 0 red -> 50 yellow -> 100 green
MAX_DEPTH_ROWS = 11


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")


def binned(depth_table: pd.DataFrame) -> pd.DataFrame:
    """Random depths (e.g. a 40-point grid) are binned to the nearest 10% so the map stays readable."""
    if depth_table["depth"].nunique() <= MAX_DEPTH_ROWS:
        return depth_table
    table = depth_table.copy()
    table["depth"] = (table["depth"] / 10).round() * 10
    if "n" not in table:
        return table.groupby(["model", "task", "depth", "target_length"], as_index=False)["score"].mean()
    table["weighted"] = table["score"] * table["n"]
    merged = table.groupby(["model", "task", "depth", "target_length"], as_index=False)[["weighted", "n"]].sum()
    merged["score"] = merged["weighted"] / merged["n"].where(merged["n"] > 0)
    return merged.drop(columns="weighted")


def _pyplot():  # noqa: ANN202 - matplotlib.pyplot, imported lazily (slow to import)
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "lc_bench"  # stable ids: the same data gives the same file
    import matplotlib.pyplot as plt

    return plt


Interval = tuple[float, float]  # (low, high) of a 95% interval; NaN where there is none


def _is_number(value: float | None) -> bool:
    return value is not None and value == value  # not None, not NaN


def length_figure(  # noqa: ANN201 - a matplotlib Figure
    series: dict[str, dict[int, float]], title: str, threshold: float | None,
    bands: dict[str, dict[int, Interval]] | None = None,
):
    """Score vs length, one line per model, log2 length axis; the effective-length threshold dashed.

    A length a model lacks (or scored NaN) breaks its line there instead of bridging it; `bands`
    (per model, per length: the 95% interval) are shaded around each line, broken the same way."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    lengths = sorted({length for points in series.values() for length in points})
    nan = float("nan")
    for label, points in sorted(series.items()):
        ys = [points[x] if _is_number(points.get(x)) else nan for x in lengths]
        (line,) = axes.plot(lengths, ys, marker="o", label=label)  # NaN breaks the line
        intervals = (bands or {}).get(label, {})
        lows = [intervals[x][0] if _is_number(y) and x in intervals else nan for x, y in zip(lengths, ys, strict=True)]
        highs = [intervals[x][1] if _is_number(y) and x in intervals else nan for x, y in zip(lengths, ys, strict=True)]
        present = [_is_number(lo) and _is_number(hi) for lo, hi in zip(lows, highs, strict=True)]
        if any(present):
            axes.fill_between(lengths, [lo if ok else 0.0 for lo, ok in zip(lows, present, strict=True)],
                              [hi if ok else 0.0 for hi, ok in zip(highs, present, strict=True)],
                              where=present, color=line.get_color(), alpha=0.15, linewidth=0)
    if threshold is not None:
        axes.axhline(threshold, color="grey", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
    axes.set_xscale("log", base=2)
    axes.set_xticks(lengths, [format_length(x) for x in lengths])
    axes.minorticks_off()
    axes.set_ylim(0, 102)
    axes.set_xlabel("context length (tokens)")
    axes.set_ylabel("score")
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="lower left")
    figure.tight_layout()
    return figure


# The HTML page's plots: hand-written SVG (no matplotlib), so each model's series carries its name
# (`data-model`) for the page's filters, each point its value as a tooltip, and the file stays small.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
_WIDTH, _HEIGHT = 640, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 16, 12, 40


@dataclass(frozen=True)
class Point:
    score: float
    low: float = float("nan")
    high: float = float("nan")


def series_colors(models: list[str]) -> dict[str, str]:
    """One colour per model, the same in every plot of a page."""
    return {model: PALETTE[index % len(PALETTE)] for index, model in enumerate(sorted(models))}


def segments(lengths: list[int], points: dict[int, Point]) -> list[list[int]]:
    """The runs of consecutive plotted lengths a model has a score at: a missing length is a gap."""
    runs: list[list[int]] = []
    current: list[int] = []
    for length in lengths:
        point = points.get(length)
        if point is not None and _is_number(point.score):
            current.append(length)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def length_svg(
    series: dict[str, dict[int, Point]], title: str, threshold: float | None,
    colors: dict[str, str] | None = None, lengths: list[int] | None = None,
) -> str:
    """Score vs length as an inline <figure>: per model a `g.series` with its 95% interval band
    (`path.band`, one per run of consecutive lengths; an isolated point gets a bar), its line
    (`path.line`, one per run: no line through a missing length) and a point per score with a
    tooltip; a legend below. Every text is escaped: model names are data."""
    colors = colors or series_colors(list(series))
    lengths = sorted(lengths or {length for points in series.values() for length in points})
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    logs = [math.log2(length) for length in lengths]
    low_log, high_log = (min(logs), max(logs)) if logs else (0.0, 0.0)
    pad = 0.5 if high_log == low_log else (high_log - low_log) * 0.04

    def x_of(length: int) -> float:
        span = high_log - low_log + 2 * pad
        return round(_LEFT + (math.log2(length) - low_log + pad) / span * plot_w, 1)

    def y_of(score: float) -> float:
        return round(_TOP + (1 - min(max(score, 0.0), 100.0) / 100.0) * plot_h, 1)

    parts = [
        f'<svg class="length-plot" viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" height="{_HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" font-family="system-ui, sans-serif" font-size="11">',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#c8ced4"/>',
    ]
    for tick in range(0, 101, 20):
        y = y_of(tick)
        parts.append(f'<line class="grid" x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y}" y2="{y}" stroke="#eceff2"/>'
                     f'<text x="{_LEFT - 6}" y="{y + 4}" text-anchor="end" fill="#57606a">{tick}</text>')
    for length in lengths:
        x = x_of(length)
        parts.append(f'<line class="grid" x1="{x}" x2="{x}" y1="{_TOP}" y2="{_TOP + plot_h}" stroke="#eceff2"/>'
                     f'<text x="{x}" y="{_TOP + plot_h + 15}" text-anchor="middle" fill="#57606a">'
                     f"{escape(format_length(length))}</text>")
    parts.append(f'<text x="{_LEFT + plot_w / 2}" y="{_HEIGHT - 6}" text-anchor="middle" fill="#57606a">'
                 "context length (tokens)</text>")
    parts.append(f'<text transform="translate(12 {_TOP + plot_h / 2}) rotate(-90)" text-anchor="middle" '
                 'fill="#57606a">score</text>')
    if threshold is not None:
        y = y_of(threshold)
        parts.append(f'<line class="threshold" x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y}" y2="{y}" stroke="#6a737d" '
                     f'stroke-dasharray="5 4"/><text x="{_LEFT + plot_w - 4}" y="{y - 4}" text-anchor="end" '
                     f'fill="#6a737d">threshold {threshold:g}</text>')
    legend = []
    for model in sorted(series):
        points, color = series[model], colors.get(model, PALETTE[0])
        name = escape(model)
        parts.append(f'<g class="series" data-model="{name}" stroke="{color}" fill="{color}">')
        runs = segments(lengths, points)
        for run in runs:
            band = [(length, points[length]) for length in run]
            low = [(x_of(x), y_of(p.low if _is_number(p.low) else p.score)) for x, p in band]
            high = [(x_of(x), y_of(p.high if _is_number(p.high) else p.score)) for x, p in band]
            if len(run) == 1:
                (x, y_low), (_, y_high) = low[0], high[0]
                if y_low != y_high:
                    parts.append(f'<path class="band" d="M{x} {y_low}V{y_high}" stroke-width="2" '
                                 f'stroke-opacity="0.35" data-lengths="{run[0]}"/>')
                continue
            outline = [*high, *reversed(low)]
            path = "M" + "L".join(f"{x} {y}" for x, y in outline) + "Z"
            lengths_text = " ".join(str(length) for length in run)
            parts.append(f'<path class="band" d="{path}" stroke="none" fill-opacity="0.15" '
                         f'data-lengths="{lengths_text}"/>')
            line = "M" + "L".join(f"{x_of(length)} {y_of(points[length].score)}" for length in run)
            parts.append(f'<path class="line" d="{line}" fill="none" stroke-width="2" data-lengths="{lengths_text}"/>')
        for run in runs:
            for length in run:
                point = points[length]
                interval = (f" (95% CI {_number(point.low)}–{_number(point.high)})"
                            if _is_number(point.low) and _is_number(point.high) else "")
                parts.append(f'<circle class="point" data-length="{length}" cx="{x_of(length)}" '
                             f'cy="{y_of(point.score)}" r="3.5" stroke="#fff" stroke-width="1">'
                             f"<title>{name} · {escape(format_length(length))}: {point.score:.1f}{interval}</title>"
                             "</circle>")
        parts.append("</g>")
        legend.append(f'<li data-model="{name}"><span class="swatch" style="background:{color}"></span>{name}</li>')
    parts.append("</svg>")
    return (f'<figure class="plot"><figcaption>{escape(title)}</figcaption>{"".join(parts)}'
            f'<ul class="legend">{"".join(legend)}</ul></figure>')


def figure_svg(figure) -> str:  # noqa: ANN001 - a matplotlib Figure
    """The figure as an inline <svg> element (no XML prolog), then closed."""
    import io

    plt = _pyplot()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def save_png(figure, path: Path) -> Path:  # noqa: ANN001 - a matplotlib Figure
    """Whole file or nothing, like every output (a full disk leaves no partial PNG)."""
    plt = _pyplot()
    temporary = path.with_name(path.name + ".tmp")
    try:
        figure.savefig(temporary, dpi=120, format="png")
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        plt.close(figure)
    return path


def write_heatmaps(depth_table: pd.DataFrame, folder: Path) -> list[Path]:
    """One PNG per model x task that has depths; returns the paths written."""
    if depth_table.empty:
        return []
    plt = _pyplot()
    from matplotlib.colors import LinearSegmentedColormap

    colormap = LinearSegmentedColormap.from_list("depth", COLORS)
    written = []
    for (model, task), group in binned(depth_table).groupby(["model", "task"], sort=True):
        pivot = group.pivot(index="depth", columns="target_length", values="score").sort_index()
        figure, axes = plt.subplots(figsize=(1.2 + 0.9 * len(pivot.columns), 1.0 + 0.45 * len(pivot.index)))
        image = axes.imshow(pivot.values, cmap=colormap, vmin=0, vmax=100, aspect="auto")
        axes.set_xticks(range(len(pivot.columns)), [format_length(int(c)) for c in pivot.columns])
        axes.set_yticks(range(len(pivot.index)), [f"{d:g}%" for d in pivot.index])
        axes.set_xlabel("context length (tokens)")
        axes.set_ylabel("depth %")
        axes.set_title(f"{model} · {task}", fontsize=10)
        for row in range(len(pivot.index)):
            for column in range(len(pivot.columns)):
                value = pivot.values[row, column]
                if value == value:  # not NaN
                    axes.text(column, row, f"{value:.0f}", ha="center", va="center", fontsize=8)
        figure.colorbar(image, ax=axes, label="score")
        figure.tight_layout()
        written.append(save_png(figure, folder / f"heatmap_{slug(str(model))}_{slug(str(task))}.png"))
    return written
