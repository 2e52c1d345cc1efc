"""Matplotlib figures for people who paste them into papers: depth x length heatmaps in the
red-yellow-green of the classic depth x length retrieval test, and score-vs-length lines per model.
The line plots are also rendered as inline SVG for the HTML page (text kept as text)."""

from __future__ import annotations

import re
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


def length_figure(series: dict[str, dict[int, float]], title: str, threshold: float | None):  # noqa: ANN201
    """Score vs length, one line per model, log2 length axis; the effective-length threshold dashed."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    lengths = sorted({length for points in series.values() for length in points})
    for label, points in sorted(series.items()):
        xs = [x for x in lengths if x in points and points[x] == points[x]]
        axes.plot(xs, [points[x] for x in xs], marker="o", label=label)
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
