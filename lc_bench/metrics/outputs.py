"""Every leaderboard output into one folder: md, csv, json, html, and PNG plots under plots/."""

from __future__ import annotations

from pathlib import Path

from lc_bench.metrics.aggregate import Leaderboard
from lc_bench.metrics.export import write_csv, write_json, write_text_atomic
from lc_bench.metrics.html import DEFAULT_SAMPLES_PER_CELL, render_html
from lc_bench.metrics.leaderboard import leaderboard_markdown
from lc_bench.metrics.plots import length_figure, save_png, slug, write_heatmaps
from lc_bench.metrics.views import families, row_views

OUTPUT_NAMES = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.html")
PLOTS_DIR = "plots"


def write_length_plots(board: Leaderboard, folder: Path) -> list[Path]:
    """Score vs length PNGs: overall, then one per task family."""
    written = []
    for level, family in [("overall", None), *[("family", name) for name in families(board)]]:
        views = row_views(board, level, family)
        series = {view.model: {length: cell.score for length, cell in view.cells.items()} for view in views}
        bands = {view.model: {length: (cell.low, cell.high) for length, cell in view.cells.items()} for view in views}
        name = family or "overall"
        figure = length_figure(series, f"{name}: score vs length", board.options.threshold, bands)
        written.append(save_png(figure, folder / f"length_{slug(name)}.png"))
    return written


def write_outputs(
    board: Leaderboard,
    run_dirs: list[Path],
    folder: Path,
    per_cell: int = DEFAULT_SAMPLES_PER_CELL,
    plots: bool = True,
) -> list[Path]:
    """Writes each file whole (rendered first), so an error leaves no half-written output.

    The PNGs under plots/ (matplotlib: about a second, most of what a short run's leaderboard
    costs) are written with `plots`, and always where plots/ already exists, so PNGs once asked
    for never go stale when a resumed run rewrites the tables (the HTML page draws its own plots)."""
    markdown = leaderboard_markdown(board)
    board.written_markdown = markdown
    html = render_html(board, run_dirs, per_cell)
    folder.mkdir(parents=True, exist_ok=True)
    plots_dir = folder / PLOTS_DIR
    plots = plots or plots_dir.is_dir()
    written = [
        write_text_atomic(folder / "leaderboard.md", markdown),
        write_csv(board, folder / "leaderboard.csv"),
        write_json(board, run_dirs, folder / "leaderboard.json"),
        write_text_atomic(folder / "leaderboard.html", html),
    ]
    if plots:
        plots_dir.mkdir(exist_ok=True)
        written += write_length_plots(board, plots_dir)
        written += write_heatmaps(board.depths, plots_dir)
    return written
