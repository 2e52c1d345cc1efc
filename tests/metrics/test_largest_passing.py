"""LabelAxis.largest_passing: a generic summary of a numeric label axis (the largest label passing a
threshold), from the declaration in the manifest to the markdown, JSON and HTML leaderboards."""

from __future__ import annotations

import math

import pytest

from lc_bench.axes import LabelAxis, ReportAxes, TaskReport
from lc_bench.metrics.aggregate import build_leaderboard
from lc_bench.metrics.axis_tables import label_names, largest_passing
from lc_bench.metrics.export import leaderboard_json
from lc_bench.metrics.html import render_html
from lc_bench.metrics.leaderboard import leaderboard_markdown
from lc_bench.schema import RunManifest
from tests.metrics.helpers import MANIFEST, Row, scored, write_run

NAN = math.nan


def scores(*values: float, labels=("2", "4", "8", "16")) -> dict[str, float]:
    return dict(zip(labels, values, strict=True))


# the before_last_failure cases give what OpenCompass' NeedleBenchATCSummarizer.calculate_max_needles gives
# (run on these scores from the fetched source), except None where it reports 0
@pytest.mark.parametrize(
    ("table", "rule", "expected"),
    [
        # pass, pass, fail, fail: every rule agrees
        (scores(100, 70, 50, 0), "all_below", "4"),
        (scores(100, 70, 50, 0), "any", "4"),
        (scores(100, 70, 50, 0), "before_last_failure", "4"),
        # all pass: the largest label
        (scores(100, 60, 60, 90), "all_below", "16"),
        (scores(100, 60, 60, 90), "before_last_failure", "16"),
        # pass, fail, pass, pass: a recovery after a failure
        (scores(100, 10, 80, 80), "all_below", "2"),
        (scores(100, 10, 80, 80), "any", "16"),
        (scores(100, 10, 80, 80), "before_last_failure", "2"),  # the last failing run starts at 4
        # pass, fail, pass, fail: the last failing run starts at 16
        (scores(100, 10, 80, 0), "all_below", "2"),
        (scores(100, 10, 80, 0), "any", "8"),
        (scores(100, 10, 80, 0), "before_last_failure", "8"),
        # the smallest label fails
        (scores(0, 100, 100, 100), "all_below", None),
        (scores(0, 100, 100, 100), "before_last_failure", None),  # the only failing run starts at the first label
        (scores(0, 0, 0, 0), "before_last_failure", None),
        (scores(0, 0, 0, 0), "any", None),
        # a label with no score (every sample errored) fails
        (scores(100, NAN, 100, 100), "all_below", "2"),
        (scores(100, NAN, 100, 100), "before_last_failure", "2"),
        # exactly the threshold passes; 59.99 does not
        (scores(60, 59.99, 100, 100), "all_below", "2"),
    ],
)
def test_rules_by_hand(table, rule, expected):
    assert largest_passing(table, 60.0, rule) == expected


def test_labels_are_taken_in_numeric_order_and_non_numbers_are_ignored():
    table = {"16": 0.0, "2": 100.0, "128": 100.0, "4": 100.0, "many": 100.0}
    assert largest_passing(table, 50.0, "all_below") == "4"
    assert largest_passing(table, 50.0, "any") == "128"
    assert largest_passing({"a": 100.0, "b": 100.0}, 50.0, "any") is None
    assert largest_passing({}, 50.0, "all_below") is None
    assert largest_passing({"0.5": 100.0, "1e3": 100.0}, 50.0, "all_below") == "1e3"


def test_the_first_failing_label_gives_none_where_the_original_reports_zero():
    """OpenCompass' calculate_max_needles starts from previous_needle_count = 0: a first label that
    fails reads 0 there; the generic summary says `none` (no label qualifies)."""
    assert largest_passing(scores(10, 100, 0, 100), 60.0, "before_last_failure") == "4"  # the original: 4
    assert largest_passing(scores(10, 10, 10, 100), 60.0, "before_last_failure") is None  # the original: 0


def test_numeric_labels_outside_the_published_order_sort_as_numbers():
    import pandas as pd

    axis = LabelAxis(title="t", field="f")
    rows = pd.DataFrame({"bucket": ["16", "2", "128", "4"]})
    assert label_names(axis, rows) == ["2", "4", "16", "128"]
    assert label_names(axis, pd.DataFrame({"bucket": ["b", "10", "a"]})) == ["10", "a", "b"]  # mixed: as text


AXIS = LabelAxis(
    title="Needles", field="length_bucket", note="facts in the prompt", largest_passing=50.0, passing_rule="all_below"
)


def test_the_declaration_round_trips_through_json_and_the_manifest(tmp_path):
    report = TaskReport(family="fam", axes=ReportAxes(labels=(AXIS,)))
    assert TaskReport.model_validate_json(report.model_dump_json()) == report
    manifest = RunManifest(**MANIFEST, task_reports={"mine": report})
    again = RunManifest.model_validate_json(manifest.model_dump_json())
    assert again.task_reports["mine"].axes.labels[0].largest_passing == 50.0
    assert again.task_reports["mine"].axes.labels[0].passing_rule == "all_below"
    assert LabelAxis(title="t", field="f").largest_passing is None  # off unless declared
    with pytest.raises(ValueError):
        LabelAxis(title="t", field="f", passing_rule="most")


def _board(tmp_path, axis=AXIS):
    """Model a: 2 and 4 pass, 8 fails (1 of 4), 16 passes; model b: 2 fails."""
    rows = []
    for model, results in (("a", {"2": 4, "4": 2, "8": 1, "16": 4}), ("b", {"2": 0, "4": 4})):
        for label, hits in results.items():
            rows += scored(f"{model}{label}-", hits, 4, task="mine", family="fam", model=model, bucket=label)
    run = write_run(tmp_path / "r", rows, reports={"mine": TaskReport(family="fam", axes=ReportAxes(labels=(axis,)))})
    return build_leaderboard([run]), run


def test_the_summary_reaches_markdown_json_html_and_tables(tmp_path):
    board, run = _board(tmp_path)
    markdown = leaderboard_markdown(board)
    assert "| model | task | length | 2 | 4 | 8 | 16 | largest passing (>= 50) |" in markdown
    assert "| a | mine | 1k | 100.0 (n=4) | 50.0 (n=4) | 25.0 (n=4) | 100.0 (n=4) | 4 |" in markdown
    assert "| b | mine | 1k | 0.0 (n=4) | 100.0 (n=4) | – | – | none |" in markdown
    assert (
        "Needles: the largest label scoring at least the threshold, every smaller label doing so too (threshold 50)"
        in markdown
    )
    summary = {row["model"]: row for row in leaderboard_json(board, [run])["largest_passing"]}
    assert summary["a"] == {
        "model": "a",
        "task": "mine",
        "target_length": 1024,
        "scheme": "Needles",
        "threshold": 50.0,
        "rule": "all_below",
        "largest_passing": 4.0,
        "label": "4",
        "labels": "2,4,8,16",
    }
    assert summary["b"]["label"] is None and summary["b"]["largest_passing"] is None
    html = render_html(board, [run])
    assert "largest passing (&gt;= 50)" in html and '<td class="largest-passing" data-sort="4">4</td>' in html
    table = board.tables()["largest_passing"].set_index("model")
    assert table.loc["a", "label"] == "4"


def test_the_rule_is_the_axis_own(tmp_path):
    axis = AXIS.model_copy(update={"passing_rule": "before_last_failure"})
    board, run = _board(tmp_path, axis)
    summary = {row["model"]: row["label"] for row in leaderboard_json(board, [run])["largest_passing"]}
    assert summary == {"a": "4", "b": None}
    axis = AXIS.model_copy(update={"passing_rule": "any"})
    board, run = _board(tmp_path / "any", axis)
    summary = {row["model"]: row["label"] for row in leaderboard_json(board, [run])["largest_passing"]}
    assert summary == {"a": "16", "b": "4"}


def test_an_axis_without_the_declaration_gets_no_summary(tmp_path):
    axis = LabelAxis(title="Needles", field="length_bucket")
    board, run = _board(tmp_path, axis)
    markdown = leaderboard_markdown(board)
    assert "### Needles" in markdown and "largest passing" not in markdown.lower()
    assert leaderboard_json(board, [run])["largest_passing"] == []
    assert "largest-passing" not in render_html(board, [run])


def test_runs_without_label_axes_have_an_empty_summary(tmp_path):
    run = write_run(tmp_path / "r", [Row("a", 100.0)])
    board = build_leaderboard([run])
    assert leaderboard_json(board, [run])["largest_passing"] == []
    assert board.tables()["largest_passing"].empty
