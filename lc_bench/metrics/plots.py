"""PNG heatmaps of score by needle depth x length, in the red-yellow-green of the original
needle-in-a-haystack test, for people who paste them into papers."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from lc_bench.lengths import format_length

COLORS = ("#F0496E", "#EBB839", "#0CD79F")  # gkamradt's colormap: 0 red -> 50 yellow -> 100 green
MAX_DEPTH_ROWS = 11


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")


def binned(depth_table: pd.DataFrame) -> pd.DataFrame:
    """Random depths (RULER's 40-point grid) are binned to the nearest 10% so the map stays readable."""
    if depth_table["depth"].nunique() <= MAX_DEPTH_ROWS:
        return depth_table
    table = depth_table.copy()
    table["depth"] = (table["depth"] / 10).round() * 10
    return table.groupby(["model", "task", "depth", "target_length"], as_index=False)["score"].mean()


def write_heatmaps(depth_table: pd.DataFrame, folder: Path) -> list[Path]:
    """One PNG per model x task that has depths; returns the paths written."""
    if depth_table.empty:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LinearSegmentedColormap

    colormap = LinearSegmentedColormap.from_list("niah", COLORS)
    written = []
    for (model, task), group in binned(depth_table).groupby(["model", "task"], sort=True):
        pivot = group.pivot(index="depth", columns="target_length", values="score").sort_index()
        figure, axes = plt.subplots(figsize=(1.2 + 0.9 * len(pivot.columns), 1.0 + 0.45 * len(pivot.index)))
        image = axes.imshow(pivot.values, cmap=colormap, vmin=0, vmax=100, aspect="auto")
        axes.set_xticks(range(len(pivot.columns)), [format_length(int(c)) for c in pivot.columns])
        axes.set_yticks(range(len(pivot.index)), [f"{d:g}%" for d in pivot.index])
        axes.set_xlabel("context length (tokens)")
        axes.set_ylabel("needle depth")
        axes.set_title(f"{model} · {task}", fontsize=10)
        for row in range(len(pivot.index)):
            for column in range(len(pivot.columns)):
                value = pivot.values[row, column]
                if value == value:  # not NaN
                    axes.text(column, row, f"{value:.0f}", ha="center", va="center", fontsize=8)
        figure.colorbar(image, ax=axes, label="score")
        figure.tight_layout()
        path = folder / f"heatmap_{_slug(str(model))}_{_slug(str(task))}.png"
        figure.savefig(path, dpi=120)
        plt.close(figure)
        written.append(path)
    return written
