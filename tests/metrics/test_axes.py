"""Declared axes reach every output generically: a task's own secondary scores and baseline."""

from __future__ import annotations

from lc_bench.axes import ReportAxes, ScoreColumn, TaskReport
from lc_bench.metrics.aggregate import build_leaderboard
from lc_bench.metrics.export import leaderboard_json
from lc_bench.metrics.html import render_html
from lc_bench.metrics.leaderboard import leaderboard_markdown
from tests.metrics.helpers import Row, write_run

SECONDARY = ReportAxes(secondary=(ScoreColumn(header="other x", source="other"),
                                  ScoreColumn(header="tokens", source="output_tokens", format="count")))


def test_secondary_scores_get_a_table_in_every_output(tmp_path):
    rows = [Row("a", 100.0, task="mine", family="fam"), Row("b", 0.0, task="mine", family="fam"),
            Row("c", 50.0, task="plain", family="fam")]
    run = write_run(tmp_path / "r", rows, reports={"mine": TaskReport(family="fam", axes=SECONDARY)})
    board = build_leaderboard([run])
    table = board.secondary.set_index("task")
    assert list(table.index) == ["mine"] and table.loc["mine", "other"] == 1.0 and table.loc["mine", "n"] == 2
    markdown = leaderboard_markdown(board)
    assert "## Secondary scores" in markdown and "| model | task | length | n | score | other x | tokens |" in markdown
    assert "| m | mine | 1k | 2 | 50.0 | 1.0 | – |" in markdown
    assert leaderboard_json(board, [run])["secondary"][0]["other"] == 1.0
    assert 'id="table-secondary-1"' in render_html(board, [run])


def test_without_declarations_no_secondary_table(tmp_path):
    board = build_leaderboard([write_run(tmp_path / "r", [Row("a", 100.0, task="mine")])])
    assert board.secondary.empty and "## Secondary scores" not in leaderboard_markdown(board)
