"""Hand-computed leaderboard tables from records written to real run folders."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from lc_bench.axes import TaskReport
from lc_bench.errors import UsageError
from lc_bench.metrics.aggregate import AggregateOptions, aggregate, build_leaderboard
from lc_bench.metrics.catalog import Catalog
from lc_bench.metrics.leaderboard import leaderboard_markdown
from lc_bench.metrics.records import load_samples
from lc_bench.registry import TASKS
from tests.metrics.helpers import Row, scored, write_run


@pytest.fixture
def run_dir(tmp_path):
    return write_run(
        tmp_path / "run",
        [
            Row("k1", 100.0, 1024, depth=0.0),
            Row("k2", 0.0, 1024, depth=100.0),
            Row("k3", 100.0, 2048, depth=0.0),
            Row("k4", None, 2048, depth=100.0, error=True),  # counted, not scored
            Row("k2", 100.0, 1024, depth=100.0),  # k2 retried later: the latest record wins
            Row("v1", 50.0, 1024, task="vt"),
            Row("v2", 100.0, 2048, task="vt"),
        ],
    )


def cell(board, level, task, length, model="m"):
    cells = board.cells
    match = cells[(cells.level == level) & (cells.task == task) & (cells.target_length == length)
                  & (cells.model == model)]
    assert len(match) == 1
    return match.iloc[0]


def test_task_cells(run_dir):
    board = build_leaderboard([run_dir])
    niah_1k = cell(board, "task", "niah", 1024)
    assert (niah_1k.score, niah_1k.n, niah_1k.errors, niah_1k.input_tokens) == (100.0, 2, 0, 924)
    niah_2k = cell(board, "task", "niah", 2048)
    assert (niah_2k.score, niah_2k.n, niah_2k.errors) == (100.0, 1, 1)
    assert cell(board, "task", "vt", 1024).score == 50.0


def test_family_is_the_mean_of_its_tasks_and_overall_the_mean_of_families(run_dir, tmp_path):
    board = build_leaderboard([run_dir])
    assert cell(board, "family", "ruler", 1024).score == 75.0  # (100 + 50) / 2, not pooled (200/3)
    assert cell(board, "family", "ruler", 2048).score == 100.0
    assert cell(board, "overall", "overall", 1024).score == 75.0
    other = write_run(tmp_path / "lb", [Row("l1", 20.0, 1024, task="qa", family="longbench")])
    board = build_leaderboard([run_dir, other])
    assert cell(board, "overall", "overall", 1024).score == (75.0 + 20.0) / 2
    # longbench has no 2k score, so the overall 2k cell is undefined rather than flattered
    assert math.isnan(cell(board, "overall", "overall", 2048).score)


def test_a_task_missing_at_a_length_leaves_its_family_cell_undefined(tmp_path):
    run = write_run(tmp_path / "r", [Row("a", 100.0, 1024), Row("b", 100.0, 2048), Row("c", 0.0, 1024, task="vt")])
    board = build_leaderboard([run])
    assert cell(board, "family", "ruler", 1024).score == 50.0
    assert math.isnan(cell(board, "family", "ruler", 2048).score)


def test_rows_carry_average_effective_length_and_wavg(tmp_path):
    scores = {4096: 96.5, 8192: 95.8, 16384: 95.4, 32768: 94.8, 65536: 88.4, 131072: 66.6}
    rows = []
    for length, score in scores.items():
        # 1000 samples whose mean is the published score: 10 x score/10 pattern
        rows += [Row(f"{length}-{i}", score, length) for i in range(3)]
    board = build_leaderboard([write_run(tmp_path / "r", rows)])
    task_row = board.rows[(board.rows.level == "task")].iloc[0]
    assert round(task_row.wavg_inc, 1) == 85.5 and round(task_row.wavg_dec, 1) == 93.7
    assert task_row.effective_length == 65536 and task_row.effective_length_strict == 65536
    assert task_row.avg == pytest.approx(sum(scores.values()) / 6)
    # constant scores: zero-width intervals
    assert task_row.avg_ci_low == pytest.approx(task_row.avg) == pytest.approx(task_row.avg_ci_high)


def test_intervals_widen_with_fewer_samples(tmp_path):
    run = write_run(tmp_path / "r", scored("a", 8, 10, length=1024) + scored("b", 80, 100, length=2048))
    board = build_leaderboard([run])
    small, large = cell(board, "task", "niah", 1024), cell(board, "task", "niah", 2048)
    assert small.score == large.score == 80.0
    assert small.ci_high - small.ci_low > 2 * (large.ci_high - large.ci_low) > 0
    assert small.ci_low < 80.0 < small.ci_high


def test_intervals_are_seeded(tmp_path):
    # continuous scores: the bootstrap decides (binary cells take Wilson's, which has no seed)
    run = write_run(tmp_path / "r", [Row(f"a{i}", float(i * 7 % 101)) for i in range(30)])
    first = build_leaderboard([run]).cells
    again = build_leaderboard([run]).cells
    other_seed = build_leaderboard([run], AggregateOptions(seed=1)).cells
    pd.testing.assert_frame_equal(first, again)
    assert not first["ci_low"].equals(other_seed["ci_low"]) or not first["ci_high"].equals(other_seed["ci_high"])


def test_one_model_through_two_runners_gets_two_rows(tmp_path):
    a = write_run(tmp_path / "a", [Row("k", 100.0, runner="hf")])
    b = write_run(tmp_path / "b", [Row("j", 0.0, runner="vllm")])
    assert build_leaderboard([a, b]).models == ["m (hf)", "m (vllm)"]


def test_legacy_records_and_corrupt_lines_read_the_same(tmp_path):
    rows = [Row("k1", 100.0, depth=10.0), Row("k2", 0.0, error=True), Row("k3", 50.0, 2048, task="vt")]
    fast = load_samples([write_run(tmp_path / "fast", rows)])
    # records without a family take the one their task declared (here, as the catalog states it)
    catalog = Catalog({"niah": TaskReport(family="ruler"), "vt": TaskReport(family="ruler")})
    legacy = load_samples([write_run(tmp_path / "legacy", rows, flat_score=False)], catalog)
    corrupt = load_samples([write_run(tmp_path / "corrupt", rows, extra_lines=("{not json",))])
    columns = ["model", "family", "task", "target_length", "depth", "error", "score", "line"]
    for other in (legacy, corrupt):
        pd.testing.assert_frame_equal(
            fast[columns].astype(str).reset_index(drop=True), other[columns].astype(str).reset_index(drop=True)
        )


def test_a_torn_tail_is_ignored(tmp_path):
    run = write_run(tmp_path / "r", [Row("k1", 100.0)])
    with (run / "records.jsonl").open("a") as handle:
        handle.write('{"key": "k2", "task": "niah", "sco')
    samples = load_samples([run])
    assert len(samples) == 1 and samples["score"].tolist() == [100.0]


def test_depth_table(run_dir):
    depths = build_leaderboard([run_dir]).depths.set_index(["depth", "target_length"])
    assert depths.loc[(0.0, 1024), "score"] == 100.0 and depths.loc[(100.0, 1024), "score"] == 100.0
    assert depths.loc[(100.0, 2048), "n"] == 0  # only an error there


def test_markdown_tables(run_dir, tmp_path):
    other = write_run(tmp_path / "other", [Row("x1", 0.0, model="m2"), Row("x2", 50.0, model="m2")])
    markdown = leaderboard_markdown(build_leaderboard([run_dir, other]))
    assert "| model | 1k | 2k | avg | eff. length | eff. (strict) | wAvg inc | wAvg dec |" in markdown
    # niah is binary: Wilson 2 of 2 is [34.24, 100], 1 of 1 [20.65, 100]; its avg over lengths combines
    # them: 100 - sqrt(65.76^2 + 79.35^2) / 2 = 48.47
    assert "| m | niah | 100.0 (34.2–100.0) | 100.0 (20.7–100.0) | 100.0 (48.5–100.0) | 2k | 2k | 100.0 | 100.0 " \
        "| 3 | 1 | 0 |" in markdown
    # vt at 1k is one sample of 50 (bootstrap [50, 50]); at 2k one of 100 (Wilson)
    assert "| m | vt | 50.0 (50.0–50.0) | 100.0 (20.7–100.0) | 75.0 (35.3–75.0) | 2k | <1k | 83.3 | 66.7 " \
        "| 2 | 0 | 0 |" in markdown
    # ruler 1k: mean 75 of niah [34.24, 100] and vt [50, 50]: 75 - 65.76 / 2 = 42.12 below, nothing above
    # ruler 2k: 100 - sqrt(2 * 79.35^2) / 2 = 43.89
    assert "| m | **ruler avg** ‡ | 75.0 (42.1–75.0) | 100.0 (43.9–100.0) | 87.5 (55.0–87.5) | 2k | <1k |" in markdown
    assert "| m ‡ | 75.0 (42.1–75.0) | 100.0 (43.9–100.0) | 87.5 (55.0–87.5) | 2k | <1k | 91.7 | 83.3 |" in markdown
    # {0, 50} is not binary: the bootstrap means range over 0, 25, 50, so the interval is [0, 50]
    assert "| m2 | niah | 25.0 (0.0–50.0) | – | 25.0 (0.0–50.0) | <1k | <1k |" in markdown
    # m's ruler average covers niah and vt at 1k and 2k, m2's niah at 1k: both flagged, the note says so
    assert "‡ these averages cover different tasks, families or lengths" in markdown
    assert "m: 2 tasks (niah, vt) at 1k, 2k; m2: 1 task (niah) at 1k." in markdown
    assert "m: 1 family (ruler) at 1k, 2k; m2: 1 family (ruler) at 1k." in markdown
    assert "Merged rows" not in markdown  # one run per row


def test_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(UsageError, match="not a run folder"):
        load_samples([tmp_path])


def test_aggregate_accepts_a_frame_directly(run_dir):
    board = aggregate(load_samples([run_dir]))
    assert set(board.cells.level) == {"task", "family", "overall"}


def test_keys_sharing_a_prefix_stay_distinct(tmp_path):
    rows = [Row(f"{n:032x}", float(n % 2) * 100) for n in range(300)]  # 32-digit keys, long shared prefix
    samples = load_samples([write_run(tmp_path / "r", rows)])
    assert len(samples) == 300


def test_runs_of_one_model_merge_unless_they_overlap(tmp_path):
    ruler = write_run(tmp_path / "ruler-run", [Row("a", 100.0, task="niah")])
    other = write_run(tmp_path / "lb-run", [Row("b", 50.0, task="qa", family="longbench")])
    assert build_leaderboard([ruler, other]).models == ["m"]  # different tasks: one row
    rerun = write_run(tmp_path / "short-output", [Row("c", 0.0, task="niah")])
    board = build_leaderboard([ruler, other, rerun])
    assert board.models == ["m [lb-run]", "m [ruler-run]", "m [short-output]"]
    assert cell(board, "task", "niah", 1024, model="m [short-output]").score == 0.0


def declared(*tasks: tuple[str, str]) -> dict[str, TaskReport]:
    """(row task name, registered task) -> the registered task's own declaration."""
    return {name: TaskReport(family=TASKS.get(source).family, axes=TASKS.get(source).report) for name, source in tasks}


LONGBENCH = declared(("qasper", "longbench_qasper"), ("longbench_v2", "longbench_v2"))


@pytest.mark.parametrize("flat_score", [True, False])
def test_longbench_e_bucket_table(tmp_path, flat_score):
    rows = [
        Row("a", 100.0, 4096, task="qasper", bucket="0-4k"), Row("b", 50.0, 4096, task="qasper", bucket="0-4k"),
        Row("c", 0.0, 4096, task="qasper", bucket="8k+"), Row("d", 100.0, 4096, task="niah"),
    ]
    board = build_leaderboard([write_run(tmp_path / "r", rows, flat_score=flat_score, reports=LONGBENCH)])
    table = board.buckets.set_index(["task", "bucket"])
    assert table.loc[("qasper", "0-4k"), "score"] == 75.0 and table.loc[("qasper", "0-4k"), "n"] == 2
    assert table.loc[("qasper", "8k+"), "score"] == 0.0 and "niah" not in set(board.buckets["task"])
    markdown = leaderboard_markdown(board)
    assert "| m | qasper | 4k | 75.0 (n=2) | – | 0.0 (n=1) |" in markdown
    assert "### LongBench-E length" in markdown and "### difficulty" not in markdown


@pytest.mark.parametrize("flat_score", [True, False])
def test_longbench_v2_tables_per_scheme(tmp_path, flat_score):
    """LongBench v2's published split: short/medium/long and easy/hard, each its own table."""
    rows = [
        Row("a", 100.0, 8192, task="longbench_v2", bucket="short", difficulty="easy"),
        Row("b", 0.0, 8192, task="longbench_v2", bucket="short", difficulty="hard"),
        Row("c", 100.0, 8192, task="longbench_v2", bucket="long", difficulty="hard"),
        Row("d", 100.0, 8192, task="qasper", bucket="8k+"),
    ]
    board = build_leaderboard([write_run(tmp_path / "r", rows, flat_score=flat_score, reports=LONGBENCH)])
    table = board.buckets.set_index(["scheme", "task", "bucket"])
    assert table.loc[("difficulty", "longbench_v2", "hard"), "score"] == 50.0
    assert table.loc[("difficulty", "longbench_v2", "easy"), "n"] == 1
    markdown = leaderboard_markdown(board)
    v2 = markdown.split("### LongBench v2 length")[1].split("###")[0]
    assert "| model | task | length | short | medium | long |" in v2
    assert "| m | longbench_v2 | 8k | 50.0 (n=2) | – | 100.0 (n=1) |" in v2 and "qasper" not in v2
    difficulty = markdown.split("### difficulty")[1].split("##")[0]
    assert "| model | task | length | easy | hard |" in difficulty
    assert "| m | longbench_v2 | 8k | 100.0 (n=1) | 50.0 (n=2) |" in difficulty


@pytest.mark.parametrize(
    "change",
    [{"target_length": "x"}, {"target_length": None}, {"target_length": 1024.5}, {"score": "high"}, {"model": 5},
     {"depth": "deep"}, {"completion": None}, {"truncated": "yes"}, None],
)
def test_a_type_corrupt_or_foreign_line_is_skipped_and_counted(tmp_path, change):
    from tests.metrics.helpers import record

    bad = json.loads(record(Row("bad", 100.0)))
    line = json.dumps([1, 2]) if change is None else json.dumps({**bad, **change})
    run = write_run(tmp_path / "r", scored("k", 2, 3), extra_lines=(line,))
    board = build_leaderboard([run])
    assert int(board.rows.loc[board.rows["level"] == "task", "n"].sum()) == 3
    assert board.unreadable_lines == {"r": 1}
    assert "## Unreadable record lines" in leaderboard_markdown(board) and "r: 1" in leaderboard_markdown(board)


def test_binary_cells_get_the_wilson_interval(tmp_path):
    """3 of 3 is not "100.0 ± 0.0": Wilson gives [43.85, 100] (hand computation in test_bootstrap)."""
    board = build_leaderboard([write_run(tmp_path / "r", scored("a", 3, 3) + scored("b", 0, 3, length=2048))])
    hit, miss = cell(board, "task", "niah", 1024), cell(board, "task", "niah", 2048)
    assert (hit.ci_low, hit.ci_high, hit.interval) == (pytest.approx(43.85, abs=0.01), 100.0, "wilson")
    assert (miss.ci_low, miss.ci_high) == (0.0, pytest.approx(56.15, abs=0.01))
    markdown = leaderboard_markdown(board)
    assert "| m | niah | 100.0 (43.9–100.0) | 0.0 (0.0–56.1) |" in markdown
    # a continuous cell keeps the bootstrap
    other = build_leaderboard([write_run(tmp_path / "c", [Row("a", 50.0), Row("b", 100.0)])])
    assert cell(other, "task", "niah", 1024).interval == "bootstrap"


def test_an_average_of_binary_tasks_combines_its_members_intervals(tmp_path):
    """Three tasks each 3 of 3: every replicate is 100, yet each task's Wilson interval reaches
    43.85; the family combines them: 100 - sqrt(3 * 56.15^2) / 3 = 67.58."""
    rows = [row for task in ("niah", "vt", "cwe") for row in scored(task, 3, 3, task=task)]
    board = build_leaderboard([write_run(tmp_path / "r", rows)])
    family = cell(board, "family", "ruler", 1024)
    assert (family.ci_low, family.ci_high, family.interval) == (pytest.approx(67.58, abs=0.01), 100.0, "combined")
    overall = cell(board, "overall", "overall", 1024)  # one family: the same interval
    assert (overall.ci_low, overall.ci_high) == (pytest.approx(67.58, abs=0.01), 100.0)
    assert "| m | **ruler avg** | 100.0 (67.6–100.0) |" in leaderboard_markdown(board)


def test_a_family_of_one_binary_task_shows_that_tasks_interval(tmp_path):
    """9 of 10: Wilson [59.58, 98.21]; the family and overall averages of that one task say the same
    (the bootstrap of its replicates would reach 100)."""
    board = build_leaderboard([write_run(tmp_path / "r", scored("a", 9, 10))])
    for level, task in (("task", "niah"), ("family", "ruler"), ("overall", "overall")):
        found = cell(board, level, task, 1024)
        assert (found.ci_low, found.ci_high) == (pytest.approx(59.58, abs=0.01), pytest.approx(98.21, abs=0.01))
    assert "| m | 90.0 (59.6–98.2) | 90.0 (59.6–98.2) |" in leaderboard_markdown(board)


def test_an_average_of_continuous_tasks_keeps_the_bootstrap(tmp_path):
    rows = [Row("a", 20.0), Row("b", 60.0), Row("c", 30.0, task="vt"), Row("d", 90.0, task="vt")]
    board = build_leaderboard([write_run(tmp_path / "r", rows)])
    family = cell(board, "family", "ruler", 1024)
    draws = np.mean([board.replicates[("task", "m", "ruler", task, 1024)] for task in ("niah", "vt")], axis=0)
    assert family.interval == "bootstrap"
    assert (family.ci_low, family.ci_high) == (pytest.approx(np.percentile(draws, 2.5)),
                                               pytest.approx(np.percentile(draws, 97.5)))


def test_a_task_missing_a_length_does_not_collapse_the_family_effective_length(tmp_path):
    """niah at 1k, 2k, 4k; vt at 1k and 4k only; all 100. The family's 2k average is blank (honest),
    and its effective length stands on 1k and 4k: "4k*" in both forms, not a strict "1k"."""
    rows = [Row(f"n{length}", 100.0, length) for length in (1024, 2048, 4096)]
    rows += [Row(f"v{length}", 100.0, length, task="vt") for length in (1024, 4096)]
    board = build_leaderboard([write_run(tmp_path / "r", rows)])
    assert math.isnan(cell(board, "family", "ruler", 2048).score)
    family = board.rows[board.rows.level == "family"].iloc[0]
    assert (family.effective_length, family.effective_length_strict, family.effective_basis) == (4096, 4096, "scored")
    assert family.avg_lengths == [1024, 4096] and family.members == ["niah", "vt"] and family.uneven_coverage
    vt = board.rows[board.rows.task == "vt"].iloc[0]  # vt was never tested at 2k: nothing left out
    assert (vt.effective_length_strict, vt.effective_basis) == (4096, "all")
    markdown = leaderboard_markdown(board)
    assert "| m | **ruler avg** ‡ | 100.0 (43.9–100.0) | – | 100.0 (43.9–100.0) | 100.0 (60.3–100.0) | 4k* | 4k* |" \
        in markdown
    assert "| m | vt | 100.0 (20.7–100.0) | – | 100.0 (20.7–100.0) | 100.0 (43.9–100.0) | 4k | 4k |" in markdown
    assert "* effective length over the lengths this row has a score at" in markdown
    assert "m: 2 tasks (niah, vt) at 1k, 4k; no average at 2k (a member lacks a score there)." in markdown


def test_a_row_where_every_sample_errored_has_an_unknown_effective_length(tmp_path):
    rows = [Row("a", None, 1024, error=True), Row("b", None, 2048, error=True)]
    board = build_leaderboard([write_run(tmp_path / "r", rows)])
    for row in board.rows.itertuples(index=False):
        assert row.effective_length is None or math.isnan(row.effective_length)
        assert row.effective_basis == "none"
    markdown = leaderboard_markdown(board)
    assert "| m | – | – | – | ? | ? | – | – |" in markdown
    assert "| m | niah | – | – | – | ? | ? | – | – | 0 | 2 | 0 |" in markdown
    assert "<1k" not in markdown and "? effective length unknown: no length of this row has a score." in markdown
    # errors at one length only: that length is left out, the other decides ("scored", marked)
    partial = build_leaderboard([write_run(tmp_path / "p", [Row("a", 100.0, 1024), Row("b", None, 2048, error=True)])])
    task = partial.rows[partial.rows.level == "task"].iloc[0]
    assert (task.effective_length, task.effective_length_strict, task.effective_basis) == (1024, 1024, "scored")
    assert "| 1k* | 1k* |" in leaderboard_markdown(partial)


def test_rows_that_pool_several_runs_are_named(tmp_path):
    ruler = write_run(tmp_path / "ruler-run", [Row("a", 100.0, task="niah")])
    other = write_run(tmp_path / "lb-run", [Row("b", 50.0, task="qa", family="longbench")])
    single = write_run(tmp_path / "m2-run", [Row("c", 0.0, model="m2")])
    board = build_leaderboard([ruler, other, single])
    assert board.merged == {"m": ["2 run folders: ruler-run, lb-run"]}
    markdown = leaderboard_markdown(board)
    assert ("Merged rows (one row of the tables below pools several runs, settings or invocations of one model): "
            "m pools 2 run folders: ruler-run, lb-run.") in markdown
    assert markdown.index("Merged rows") < markdown.index("## Overall")
    from lc_bench.metrics.export import leaderboard_json

    assert leaderboard_json(board, [ruler, other, single])["merged"] == board.merged


def test_merged_rows_name_settings_and_invocations():
    from lc_bench.metrics.aggregate import merged_rows

    pooled = {
        "a": {"runs": ["r"], "settings": ["s1"], "invocations": ["r: t1", "r: t2"]},
        "b": {"runs": ["r"], "settings": ["s1"], "invocations": ["r: t1"]},
    }
    assert merged_rows(pooled) == {"a": ["2 invocations: r: t1, r: t2"]}

