"""Hand-computed leaderboard tables from records written to real run folders."""

import json
import math

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
    run = write_run(tmp_path / "r", scored("a", 3, 7))
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
    assert "| m | 75.0 ± 0.0 | 100.0 ± 0.0 | 87.5 ± 0.0 | 2k | <1k | 91.7 | 83.3 |" in markdown
    assert "| m | niah | 100.0 ± 0.0 | 100.0 ± 0.0 | 100.0 ± 0.0 | 2k | 2k | 100.0 | 100.0 | 3 | 1 | 0 |" in markdown
    assert "| m | vt | 50.0 ± 0.0 | 100.0 ± 0.0 | 75.0 ± 0.0 | 2k | <1k | 83.3 | 66.7 | 2 | 0 | 0 |" in markdown
    assert "| m | **ruler avg** | 75.0 ± 0.0 | 100.0 ± 0.0 | 87.5 ± 0.0 | 2k | <1k |" in markdown
    # {0, 50}: the bootstrap means range over 0, 25, 50, so the interval is [0, 50]
    assert "| m2 | niah | 25.0 ± 25.0 | – | 25.0 ± 25.0 | <1k | <1k |" in markdown


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
