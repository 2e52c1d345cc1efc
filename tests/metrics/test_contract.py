"""The reporting layer's contract: Records and run manifests in, no benchmark named inside.

The fixture `tests/fixtures/release_0_1` holds run folders of every shipped family written by
release 0.1 (before records carried a schema version and manifests carried task declarations)
and the leaderboard that release printed for them.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from lc_bench.api import declared_report
from lc_bench.axes import LabelAxis, ReportAxes, TaskReport
from lc_bench.lengths import parse_length
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
    # issue 16 (honest tables): intervals print as bounds, Wilson's for binary cells (see HONEST_TABLES)
    ("mean over samples, ± the half-width of a 95% bootstrap interval (1000 replicates, seed 0).",
     "mean over samples, with the bounds of a 95% interval in brackets: the Wilson score interval where "
     "every sample scores 0 or 100, else a percentile bootstrap (1000 replicates, seed 0); an average's "
     "interval is the bootstrap of its members' replicates, or, where a member's interval is Wilson's, their "
     "intervals combined."),
    # ... effective lengths stand on the lengths a row has a score at
    ("(strict: and every shorter length too).", "(strict: and every shorter length too), among the lengths the "
     "row has a score at."),
    # ... and a row pooling several run folders says so
    ("(lc_bench's own defaults).\n\n## Overall",
     "(lc_bench's own defaults).\n\nMerged rows (one row of the tables below pools several runs, settings or "
     "invocations of one model): tiny (echo) pools 5 run folders: adaleval, longbench, longbench-v2, longgen, "
     "ruler.\n\n## Overall"),
)

# Issue 16 (honest tables) changed what release 0.1 printed for the same records, on purpose:
# 1. a cell whose samples all score 0 or 100 reports the Wilson score interval: release 0.1's
#    percentile bootstrap collapsed there ("100.0 ± 0.0" at n=2). Recomputed below by hand (`_wilson`).
# 2. an average with such a member takes its members' intervals combined in quadrature (`_combined`)
#    instead of release 0.1's bootstrap of their replicates. Averages of bootstrap cells alone are unchanged.
# 3. every interval prints as its bounds, "100.0 (43.9–100.0)", not "± half-width": Wilson's are
#    one-sided at 0 and 100.
# 4. effective lengths stand on the lengths a row has a score at (EFFECTIVE_CHANGES): release 0.1
#    counted the lengths other families ran at, and blanks, as misses; a row with no score is "?".
# 5. marks and notes: ‡ on averages covering different sets (UNEVEN), *, ? (NOTES).
Z = 1.959963984540054
EFFECTIVE_CHANGES = {
    # (section, model, task column or "" in the overall table): (eff., strict) release 0.1 -> now
    # ruler tasks ran at 8k and 16k only: 1k-4k (other families' lengths) no longer fail the strict form
    **{("ruler", "tiny (echo)", task): (("16k", "<1k"), ("16k", "16k")) for task in (
        "cwe", "fwe", "niah_multikey_1", "niah_multikey_2", "niah_multikey_3", "niah_multiquery", "niah_multivalue",
        "niah_single_1", "niah_single_2", "niah_single_3", "qa_2")},
    # qa_1 errored at 16k, vt at 8k: the figure stands on the other length, marked *
    ("ruler", "tiny (echo)", "qa_1"): (("8k", "<1k"), ("8k*", "8k*")),
    ("ruler", "tiny (echo)", "vt"): (("16k", "<1k"), ("16k*", "16k*")),
    # the ruler average has no length where every task has a score, the overall row none at all: unknown
    ("ruler", "tiny (echo)", "**ruler avg**"): (("<1k", "<1k"), ("?", "?")),
    ("Overall", "tiny (echo)", ""): (("<1k", "<1k"), ("?", "?")),
    # these ran from 2k: "below the shortest length" is below 2k
    **{(family, "tiny (echo)", task): (("<1k", "<1k"), ("<2k", "<2k")) for family, task in (
        ("longbench_v2", "longbench_v2"), ("longbench_v2", "**longbench_v2 avg**"), ("longgen", "longgen"),
        ("longgen", "longwrite"), ("longgen", "manyq"), ("longgen", "**longgen avg**"))},
}
# averages marked ‡: tiny (constant) averages 1 family (13 tasks) at 1k and 2k, tiny (echo) 5 families
# (4 longbench tasks) and its ruler average none of the 8k and 16k scores its tasks have
UNEVEN = {("Overall", "tiny (constant)"), ("Overall", "tiny (echo)"), ("longbench", "tiny (constant)"),
          ("longbench", "tiny (echo)"), ("ruler", "tiny (echo)")}
NOTES = {
    "Overall": ["‡ these averages cover different tasks, families or lengths (or leave out scores their members "
                "have), so compare them with care: tiny (constant): 1 family (longbench) at 1k, 2k; tiny (echo): "
                "5 families (adaleval, longbench, longbench_v2, longgen, ruler) at no length; no average at 1k, 2k, "
                "4k, 8k, 16k (a member lacks a score there).",
                "? effective length unknown: no length of this row has a score."],
    "longbench": ["‡ these averages cover different tasks, families or lengths (or leave out scores their members "
                  "have), so compare them with care: tiny (constant): 13 tasks (longbench_2wikimqa, "
                  "longbench_gov_report, longbench_hotpotqa, longbench_lcc, longbench_multi_news, "
                  "longbench_multifieldqa_en, longbench_passage_count, longbench_passage_retrieval_en, "
                  "longbench_qasper, longbench_repobench_p, longbench_samsum, longbench_trec, longbench_triviaqa) "
                  "at 1k, 2k; tiny (echo): 4 tasks (longbench_lcc, longbench_multifieldqa_zh, "
                  "longbench_passage_count, longbench_qasper) at 1k, 2k."],
    "ruler": ["‡ these averages cover different tasks, families or lengths (or leave out scores their members "
              "have), so compare them with care: tiny (echo): 13 tasks (cwe, fwe, niah_multikey_1, niah_multikey_2, "
              "niah_multikey_3, niah_multiquery, niah_multivalue, niah_single_1, niah_single_2, niah_single_3, "
              "qa_1, qa_2, vt) at no length; no average at 8k, 16k (a member lacks a score there).",
              "* effective length over the lengths this row has a score at: a blank length (a task lacking that "
              "length, or only errors there) is left out, not counted as a miss.",
              "? effective length unknown: no length of this row has a score."],
}


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


def _wilson(hits: int, n: int) -> tuple[float, float]:
    """The Wilson score interval (95%), written out independently of lc_bench.metrics.bootstrap."""
    p, z2 = hits / n, Z * Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, 100 * (centre - half)), min(100.0, 100 * (centre + half))


def _combined(mean: float, members: list[dict]) -> tuple[float, float]:
    """The members' intervals combined in quadrature, each side on its own."""
    k = len(members)
    low = mean - math.sqrt(sum((m["score"] - m["ci_low"]) ** 2 for m in members)) / k
    high = mean + math.sqrt(sum((m["ci_high"] - m["score"]) ** 2 for m in members)) / k
    return low, high


def _key(item: dict) -> tuple:
    return item["level"], item["model"], item["family"], item["task"], item.get("target_length")


def _check_intervals(produced: dict, expected: dict) -> None:
    """Changes 1 and 2 on the json: every cell's and row's bounds against release 0.1's, then release
    0.1's bounds put back so that the rest of the document can be compared whole."""
    release = {_key(item): item for item in expected["cells"] + expected["rows"]}
    cells = {_key(cell): cell for cell in produced["cells"]}
    methods = {key: cell.pop("interval") for key, cell in cells.items()}
    assert set(methods.values()) == {"wilson", "bootstrap", "combined", None}

    def members(cell: dict) -> list[dict]:
        level = "task" if cell["level"] == "family" else "family"
        return [m for m in cells.values() if m["level"] == level and m["model"] == cell["model"]
                and m["target_length"] == cell["target_length"]
                and (cell["level"] == "overall" or m["family"] == cell["family"])]

    for key, cell in cells.items():
        old, bounds = release[key], (cell["ci_low"], cell["ci_high"])
        if methods[key] == "wilson":  # release 0.1 collapsed: every sample scored 0, or every one 100
            assert old["ci_low"] == old["ci_high"] == old["score"] in (0.0, 100.0)
            assert bounds == pytest.approx(_wilson(round(cell["score"] * cell["n"] / 100), cell["n"]))
        elif methods[key] == "combined":
            assert bounds == pytest.approx(_combined(cell["score"], members(cell)))
            assert bounds[1] > old["ci_high"]  # the averages of release 0.1's collapsed cells were too narrow
        else:  # bootstrap cells, and averages of them alone, are what release 0.1 printed
            assert bounds == (old["ci_low"], old["ci_high"])
    for row in produced["rows"]:
        old, bounds = release[_key(row)], (row["avg_ci_low"], row["avg_ci_high"])
        averaged = [cells[(*_key(row)[:4], length)] for length in row["avg_lengths"]]
        if any(methods[_key(cell)] in ("wilson", "combined") for cell in averaged):
            assert bounds == pytest.approx(_combined(row["avg"], averaged))
        else:
            assert bounds == (old["avg_ci_low"], old["avg_ci_high"])
    for item in produced["cells"]:
        item["ci_low"], item["ci_high"] = release[_key(item)]["ci_low"], release[_key(item)]["ci_high"]
    for item in produced["rows"]:
        item["avg_ci_low"], item["avg_ci_high"] = release[_key(item)]["avg_ci_low"], release[_key(item)]["avg_ci_high"]


def _restate(markdown: str, produced: dict, expected: dict) -> str:
    """Release 0.1's score tables as this release prints them: bounds instead of ± (change 3; each
    "± h" is first matched to release 0.1's own bounds, so the text is the right row's), with
    EFFECTIVE_CHANGES (4) and the UNEVEN marks (5)."""
    now = {_key(item): item for item in produced["cells"] + produced["rows"]}
    release = {_key(item): item for item in expected["cells"] + expected["rows"]}
    families = {row["family"] for row in produced["rows"] if row["level"] == "family"}
    lines, section, header, changed = [], "", [], set()
    for line in markdown.split("\n"):
        if line.startswith("## "):
            section = line[3:]
        columns = line[2:-2].split(" | ")
        if section not in families | {"Overall"} or not line.startswith("| ") or columns[0] in ("model", "---"):
            header = columns if columns[0] == "model" else header
            lines.append(line)
            continue
        model, label = columns[0], "" if section == "Overall" else columns[1]
        if label.endswith(" (random)"):
            lines.append(line)
            continue
        first = 1 if section == "Overall" else 2
        key = (("overall", model, "overall", "overall") if section == "Overall"
               else ("family", model, section, section) if label == f"**{section} avg**"
               else ("task", model, section, label))
        lengths = [parse_length(name) for name in header[first:] if name[0].isdigit()]
        for index, length in enumerate([*lengths, None], first):
            columns[index] = _bounds(columns[index], release.get((*key, length)), now.get((*key, length)))
        effective = first + len(lengths) + 1
        change = EFFECTIVE_CHANGES.get((section, model, label))
        if change:
            assert tuple(columns[effective:effective + 2]) == change[0]
            columns[effective:effective + 2] = change[1]
            changed.add((section, model, label))
        if (section, model) in UNEVEN and key[0] != "task":
            columns[first - 1] += " ‡"
        lines.append("| " + " | ".join(columns) + " |")
    assert changed == set(EFFECTIVE_CHANGES)
    return "\n".join(lines)


def _bounds(text: str, release: dict | None, now: dict | None) -> str:
    if text == "–":
        return text
    assert release is not None and now is not None
    low, high = ("ci_low", "ci_high") if "ci_low" in now else ("avg_ci_low", "avg_ci_high")
    score, half = text.split(" ± ")
    assert f"{(release[high] - release[low]) / 2:.1f}" == half
    return f"{score} ({now[low]:.1f}–{now[high]:.1f})"


def _without_notes(markdown: str) -> str:
    """The markdown less the NOTES (change 5), each asserted where it belongs."""
    sections = markdown.split("\n\n## ")
    for index, section in enumerate(sections):
        for note in NOTES.get(section.split("\n", 1)[0], []):
            assert "\n\n" + note + "\n" in section + "\n"
            section = section.replace("\n\n" + note, "", 1)
        sections[index] = section
    return "\n\n## ".join(sections)


def test_the_same_records_give_the_same_leaderboard(release_runs):
    board = build_leaderboard(release_runs, fallback=declared_report)
    produced = json.loads(json.dumps(leaderboard_json(board, release_runs)))
    expected = json.loads((RELEASE / "expected" / "leaderboard.json").read_text(encoding="utf-8"))

    expected_md = (RELEASE / "expected" / "leaderboard.md").read_text(encoding="utf-8")
    for old, new in PROSE_CHANGES:
        assert old in expected_md
        expected_md = expected_md.replace(old, new)
    assert _without_notes(leaderboard_markdown(board)) == _restate(expected_md, produced, expected)

    assert produced.pop("secondary") == []  # a table added since, empty for these tasks
    assert produced.pop("largest_passing") == []  # a summary added since (LabelAxis.largest_passing), none here
    assert produced.pop("unreadable_lines") == {}
    pooled = produced.pop("pooled")  # added since: what each row pools
    assert pooled["tiny (echo)"]["runs"] == ["adaleval", "longbench", "longbench-v2", "longgen", "ruler"]
    assert pooled["tiny (constant)"] == {
        "model": "tiny", "runs": ["longbench-e"], "settings": [], "protocols": ["lc_bench"], "invocations": []
    }
    # issue 16: which rows pool several runs, how intervals are made (per cell: `interval`)
    merged = ["5 run folders: adaleval, longbench, longbench-v2, longgen, ruler"]
    assert produced.pop("merged") == {"tiny (echo)": merged}
    assert expected["options"].pop("interval") == "percentile bootstrap"
    assert produced["options"].pop("interval").startswith("wilson score interval where every score is 0 or 100")
    _check_intervals(produced, expected)
    for row in produced["rows"]:  # issue 16: what each row's averages and effective length stand on
        basis, members = row.pop("effective_basis"), row.pop("members")
        averaged, uneven = row.pop("avg_lengths"), row.pop("uneven_coverage")
        assert (members is None) == (row["level"] == "task")
        assert uneven == (row["level"] != "task" and (
            "Overall" if row["level"] == "overall" else row["family"], row["model"]) in UNEVEN)
        assert basis == ("none" if not averaged else "scored" if row["task"] in ("qa_1", "vt") else "all")
        if row["family"] == "ruler" and row["level"] == "task":  # change 4: 1k-4k were never tested
            assert row["effective_length_strict"] == row["effective_length"] in (8192, 16384)
            row["effective_length_strict"] = None
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
