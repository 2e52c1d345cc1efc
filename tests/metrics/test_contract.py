"""The reporting layer's contract: Records and run manifests in, no benchmark named inside.

The fixture `tests/fixtures/release_0_1` holds run folders of every shipped family written by
release 0.1 (before records carried a schema version and manifests carried task declarations)
and the leaderboard that release printed for them.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from lc_bench.api import declared_report
from lc_bench.axes import LabelAxis, ReportAxes, TaskReport
from lc_bench.metrics.aggregate import build_leaderboard
from lc_bench.metrics.export import leaderboard_json
from lc_bench.metrics.leaderboard import leaderboard_markdown
from lc_bench.metrics.records import RECORD_COLUMNS, arrow_schema
from lc_bench.registry import TASKS
from lc_bench.schema import Record
from lc_bench.store import iter_records

RELEASE = Path(__file__).resolve().parents[1] / "fixtures" / "release_0_1"
REPORTING = Path(__file__).resolve().parents[2] / "lc_bench" / "metrics"
# Benchmarks the project reproduces or plans to; the reporting layer names none of them.
BENCHMARKS = (
    "RULER", "LongBench", "LongBench-E", "LongBench-Write", "LongWriter", "LongGenBench", "Ada-LEval", "AdaLEval",
    "NeedleBench", "InfiniteBench", "L-Eval", "LongICLBench", "M4LE", "LongProc", "HelloBench", "HELMET", "NIAH",
    "needle", "haystack", "SQuAD", "HotpotQA", "TSort", "BestAnswer", "gkamradt",
)
# The prose release 0.1 wrote with a benchmark's name in the reporting layer, now generic.
PROSE_CHANGES = (
    ("(e.g. LongBench with truncation=none)", "(e.g. a task run with truncation=none)"),
    # added since: the protocol the scores were made under (release 0.1 had only its own defaults)
    ("every shorter length too).\n\n## Overall",
     "every shorter length too).\n\nProtocol: lc_bench (lc_bench's own defaults).\n\n## Overall"),
)


def _forbidden_names() -> re.Pattern[str]:
    tasks = set(TASKS.names()) | {TASKS.get(name).family for name in TASKS.names()}
    # task names as whole identifiers; benchmark names also inside identifiers (RULER_THRESHOLD)
    task_pattern = "|".join(re.escape(name) for name in sorted(tasks, key=len, reverse=True))
    bench_pattern = "|".join(re.escape(name) for name in sorted(BENCHMARKS, key=len, reverse=True))
    return re.compile(
        rf"(?<![A-Za-z0-9_])({task_pattern})(?![A-Za-z0-9_])|(?<![A-Za-z0-9])({bench_pattern})(?![A-Za-z0-9])",
        re.IGNORECASE,
    )


def test_the_reporting_layer_names_no_task_or_benchmark():
    pattern = _forbidden_names()
    hits = [
        f"{path.relative_to(REPORTING.parent.parent)}:{number}: {match.group(0)}"
        for path in sorted(REPORTING.rglob("*")) if path.is_file() and path.suffix in (".py", ".j2", ".js", ".css")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in pattern.finditer(line)
    ]
    assert not hits, "the reporting layer names tasks or benchmarks:\n" + "\n".join(hits)


def test_the_check_would_catch_a_name(tmp_path):
    pattern = _forbidden_names()
    assert pattern.search("BUCKETS = {'LongBench-E length': ...}") and pattern.search("RULER_THRESHOLD = 85.6")
    assert pattern.search("if task == 'niah_single_1':") and not pattern.search("label_columns(axis, rows)")


@pytest.fixture(scope="module")
def release_runs(tmp_path_factory) -> list[Path]:
    copy = tmp_path_factory.mktemp("release") / "runs"
    shutil.copytree(RELEASE / "runs", copy)
    return sorted(path for path in copy.iterdir() if path.is_dir())


def test_every_family_is_in_the_fixture(release_runs):
    families = {record["family"] for run in release_runs for record in iter_records(run / "records.jsonl")}
    # every family release 0.1 shipped; families added since are not in its runs
    assert families == {"adaleval", "longbench", "longbench_v2", "longgen", "ruler"}
    assert families <= {TASKS.get(name).family for name in TASKS.names()}


def test_release_records_load_as_version_1(release_runs):
    records = [Record.model_validate(r) for run in release_runs for r in iter_records(run / "records.jsonl")]
    assert len(records) == 170 and {record.schema_version for record in records} == {1}


def test_the_same_records_give_the_same_leaderboard(release_runs):
    board = build_leaderboard(release_runs, fallback=declared_report)
    expected_md = (RELEASE / "expected" / "leaderboard.md").read_text(encoding="utf-8")
    for old, new in PROSE_CHANGES:
        assert old in expected_md
        expected_md = expected_md.replace(old, new)
    assert leaderboard_markdown(board) == expected_md

    produced = json.loads(json.dumps(leaderboard_json(board, release_runs)))
    expected = json.loads((RELEASE / "expected" / "leaderboard.json").read_text(encoding="utf-8"))
    assert produced.pop("secondary") == []  # a table added since, empty for these tasks
    assert produced.pop("unreadable_lines") == {}
    pooled = produced.pop("pooled")  # added since: what each row pools
    assert pooled["tiny (echo)"]["runs"] == ["adaleval", "longbench", "longbench-v2", "longgen", "ruler"]
    assert pooled["tiny (constant)"] == {
        "model": "tiny", "runs": ["longbench-e"], "settings": [], "protocols": ["lc_bench"], "invocations": []
    }
    for volatile in ("generated", "runs"):
        produced.pop(volatile), expected.pop(volatile)
    assert produced == expected


def test_a_run_without_declarations_gets_no_axis_tables(release_runs):
    """Without the manifests' declarations (nor a fallback) nothing benchmark-shaped is guessed."""
    board = build_leaderboard(release_runs)
    assert board.buckets.empty and board.baselines.empty and board.generation.empty
    assert not board.cells.empty


def test_the_manifest_declaration_wins_over_the_fallback(release_runs, tmp_path):
    run = tmp_path / "adaleval"
    shutil.copytree([r for r in release_runs if r.name == "adaleval"][0], run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["task_reports"] = {
        "tsort": TaskReport(family="sorting", axes=ReportAxes(labels=(LabelAxis(title="by corpus", field="corpus"),)))
        .model_dump(mode="json"),
    }
    (run / "manifest.json").write_text(json.dumps(manifest))
    board = build_leaderboard([run], fallback=declared_report)
    assert set(board.buckets["scheme"]) == {"by corpus"}
    assert set(board.baselines["task"]) == {"bestanswer"}  # tsort's own declaration now has no baseline
    assert "sorting" not in set(board.cells["family"])  # a record's own family field wins


def test_the_arrow_schema_follows_the_record():
    schema = arrow_schema(labels=("length_bucket",), numbers=("random_baseline",))
    hints = {name: Record.model_fields[name].annotation for name in RECORD_COLUMNS}
    assert set(RECORD_COLUMNS) <= set(Record.model_fields)
    assert schema.field("target_length").type == pa.int64() and "int" in str(hints["target_length"])
    assert schema.field("depth").type == pa.float64() and schema.field("truncated").type == pa.bool_()
    metadata = pa.struct([("length_bucket", pa.string()), ("random_baseline", pa.float64())])
    assert schema.field("metadata").type == metadata
    assert "metadata" not in arrow_schema().names
