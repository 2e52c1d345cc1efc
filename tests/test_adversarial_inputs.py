"""Hostile input to the run's configuration, depth grids, suites, run folders and the HTML page:
each is one UsageError line naming the problem (the CLI prints it with exit code 2), written
before anything is, and nothing a user ran is lost."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

import lc_bench
from lc_bench import store as store_module
from lc_bench.errors import UsageError
from lc_bench.grids import MAX_DEPTHS, parse_depths
from lc_bench.metrics.aggregate import build_leaderboard
from lc_bench.metrics.html import DRILLDOWN_TEXT_CHARS, clip_text, render_html
from lc_bench.run_config import resolve_run_config
from lc_bench.store import MANIFEST, RECORDS, STAGES, RunStore, iter_records
from lc_bench.suites.loader import load_suite
from tests.metrics.helpers import Row, write_run
from tests.test_store import manifest, record


def one_line(exc: pytest.ExceptionInfo[UsageError]) -> str:
    message = str(exc.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# -- 2. --name ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../../x", "one folder name"), ("/etc/passwd", "one folder name"), ("..", "not a folder name"),
        (".", "not a folder name"), ("", "not a folder name"), ("a\\b", "one folder name"),
        ("a\x00b", "one folder name"), ("x" * 201, "201 bytes long (UTF-8), at most 200"),
        ("é" * 101, "202 bytes long"),
    ],
)
def test_run_names_that_are_not_one_folder_are_refused(name, problem):
    with pytest.raises(UsageError) as exc:
        resolve_run_config(name=name)
    assert one_line(exc).startswith("--name: ") and problem in str(exc.value)


def test_an_ordinary_run_name_is_kept():
    assert resolve_run_config(name="my run-2 é").run_name == "my run-2 é"


def test_a_bad_name_writes_nothing_anywhere(tiny_model_dir, tmp_path):
    out = tmp_path / "a" / "results"
    with pytest.raises(UsageError, match="--name"):
        lc_bench.evaluate(model=str(tiny_model_dir), tasks="niah_single_1", lengths="1k", runner="echo",
                          out=out, name="../../escaped")
    assert list(tmp_path.iterdir()) == []


# -- 3. generation options ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_new_tokens": 0}, "--max-new-tokens: should be greater than or equal to 1 (got 0)"),
        ({"max_new_tokens": -5}, "--max-new-tokens: should be greater than or equal to 1 (got -5)"),
        ({"temperature": -0.5}, "--temperature: should be greater than or equal to 0 (got -0.5)"),
        ({"temperature": float("nan")}, "--temperature: should be a finite number (got nan)"),
        ({"temperature": float("inf")}, "--temperature: should be a finite number (got inf)"),
    ],
)
def test_bad_generation_options_are_one_line(options, message):
    with pytest.raises(UsageError) as exc:
        resolve_run_config(**options)
    assert one_line(exc) == message


def test_every_bad_option_is_named_on_the_one_line():
    with pytest.raises(UsageError) as exc:
        resolve_run_config(max_new_tokens=0, temperature=float("inf"), name="..")
    message = one_line(exc)
    assert "--max-new-tokens" in message and "--temperature" in message and "--name" in message


# -- 4. depth grids -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0:100:1000000", "sigmoid:5000"])
def test_absurd_depth_grids_are_refused_before_they_are_built(text):
    with pytest.raises(UsageError) as exc:
        parse_depths(text)
    assert f"depths, more than {MAX_DEPTHS} (every 0.1%)" in one_line(exc)


def test_a_long_depth_list_is_capped_too():
    with pytest.raises(UsageError, match=f"1002 depths, more than {MAX_DEPTHS}"):
        parse_depths(",".join(str(i / 20) for i in range(1002)))


def test_the_finest_grid_is_still_allowed():
    assert len(parse_depths(f"0:100:{MAX_DEPTHS}")) == MAX_DEPTHS
    assert len(parse_depths(f"sigmoid:{MAX_DEPTHS}")) == MAX_DEPTHS


# -- 5. suite files -------------------------------------------------------------------------------


def test_a_suite_path_that_is_a_folder(tmp_path):
    (tmp_path / "s.yaml").mkdir()
    with pytest.raises(UsageError) as exc:
        load_suite(str(tmp_path / "s.yaml"))
    assert one_line(exc) == f"suite file {tmp_path / 's.yaml'} is not a file"


def test_a_binary_suite_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"tasks: [niah]\n\xff\xfe\x00garbage")
    with pytest.raises(UsageError) as exc:
        load_suite(str(path))
    assert "is not UTF-8 text (byte 14)" in one_line(exc)


@pytest.mark.parametrize(("text", "holds"), [("- niah\n- tsort\n", "a list"), ("", "nothing"), ("niah", "a str")])
def test_yaml_that_is_not_a_mapping(tmp_path, text, holds):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as exc:
        load_suite(str(path))
    assert f"it holds {holds}, not a mapping of keys (description, protocol, changes, tasks," in one_line(exc)


def test_unknown_suite_keys_list_the_valid_ones(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("tasks: [niah]\ncolour: red\nsize: 3\n")
    with pytest.raises(UsageError) as exc:
        load_suite(str(path))
    message = one_line(exc)
    assert "unknown key(s) colour, size (valid keys: description, protocol, changes, tasks, lengths," in message
    assert "validation error" not in message


def test_wrong_suite_values_name_the_key(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("lengths: 1k\nsamples: 0\n")
    with pytest.raises(UsageError) as exc:
        load_suite(str(path))
    assert one_line(exc).endswith("tasks is required; samples: should be greater than or equal to 1 (got 0)")
    path.write_text("tasks: [niah\n")
    with pytest.raises(UsageError, match=r"not valid YAML \(.* at line 2, column 1\)"):
        load_suite(str(path))


# -- 6. records files and manifests ---------------------------------------------------------------

FOREIGN_LINES = ("[1, 2]", '{"foo": 1}', "null", "not json at all", "[" * 100_000)


def test_lines_that_are_not_records_are_skipped_counted_and_rerun(tmp_path):
    run = tmp_path / "run"
    store = RunStore(run)
    store.close(store.open(manifest()))
    null_completion = {**json.loads(record("b").model_dump_json()), "completion": None}
    text_completion = {**json.loads(record("c").model_dump_json()), "completion": "42"}
    lines = [record("a").model_dump_json(), *FOREIGN_LINES, json.dumps(null_completion), json.dumps(text_completion)]
    (run / RECORDS).write_text("\n".join(lines) + "\n\n")
    store = RunStore(run)
    opened = store.open(manifest())
    assert store.done_keys() == {"a"}  # b and c are not done: this run generates them again
    assert store.foreign_lines == len(FOREIGN_LINES) + 2
    store.append(record("b"))
    store.close(opened)
    assert [r["key"] for r in iter_records(run / RECORDS)] == ["a", "b"]


def test_foreign_stage_lines_are_skipped_and_counted(tmp_path):
    run = tmp_path / "run"
    store = RunStore(run)
    opened = store.open(manifest())
    store.append_stage(record("a").completion)
    store.close(opened)
    with (run / STAGES).open("a") as handle:
        handle.write('[1]\n{"key": "b", "text": 5}\n{"key": "c"}\n')
    store = RunStore(run)
    store.close(store.open(manifest()))
    assert set(store.stage_outputs()) == {"a", "c"} and store.foreign_lines == 2


def test_a_run_with_foreign_lines_resumes_and_regenerates_them(tiny_model_dir, tmp_path):
    options = dict(model=str(tiny_model_dir), tasks="niah_single_1", lengths=[1024], depths="0,100",
                   runner="echo", out=tmp_path, name="r", write_outputs=False)
    first = lc_bench.evaluate(**options)
    path = first.run_dir / RECORDS
    kept, broken = path.read_text().splitlines()
    unfinished = json.dumps({**json.loads(broken), "completion": None})
    path.write_text("\n".join([kept, *FOREIGN_LINES[:2], unfinished]) + "\n")
    again = lc_bench.evaluate(**options)
    assert (again.summary.skipped, again.summary.generated) == (1, 1)
    assert list(again.records["score"]) == [100.0, 100.0]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "not JSON"), (b"\xff\xfe\x00\x01", "not JSON"), (b"[1, 2]", "not a JSON object"),
        (b'{"run_name": "r"}', "lc_bench_version is required"), (b"", "not JSON"),
    ],
)
def test_a_corrupt_manifest_on_resume_is_one_line(tmp_path, content, reason):
    run = tmp_path / "run"
    run.mkdir()
    (run / MANIFEST).write_bytes(content)
    with pytest.raises(UsageError) as exc:
        RunStore(run).open(manifest())
    message = one_line(exc)
    assert message.startswith(f"{run / MANIFEST} is unreadable (") and reason in message
    assert message.endswith("start a new run with another --name or --out")
    assert (run / MANIFEST).read_bytes() == content  # never overwritten


def test_a_corrupt_manifest_stops_a_run_before_it_writes(tiny_model_dir, tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    (run / MANIFEST).write_text('{"run_name": 5}')
    with pytest.raises(UsageError, match="is unreadable .*another --name or --out"):
        lc_bench.evaluate(model=str(tiny_model_dir), tasks="niah_single_1", lengths="1k", runner="echo",
                          out=tmp_path, name="r")
    assert sorted(p.name for p in run.iterdir()) == [MANIFEST]


def disk_full_after(half: bool, real=store_module.write_fully):
    """A write_fully that writes half its data (or nothing) and then finds the disk full."""

    def fake(handle, data):
        if half:
            real(handle, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    return fake


def test_disk_full_while_appending_takes_the_partial_line_back(tmp_path, monkeypatch):
    run = tmp_path / "run"
    store = RunStore(run)
    opened = store.open(manifest())
    store.append(record("a"))
    before = (run / RECORDS).read_bytes()
    monkeypatch.setattr(store_module, "write_fully", disk_full_after(half=True))
    with pytest.raises(UsageError) as exc:
        store.append(record("b"))
    assert one_line(exc).startswith(f"disk full writing {run / RECORDS} (No space left on device)")
    assert (run / RECORDS).read_bytes() == before  # no torn line left for the next run
    with pytest.raises(UsageError, match=f"disk full writing {run / MANIFEST}"):
        store.close(opened)
    assert sorted(p.name for p in run.iterdir()) == [".lock", MANIFEST, RECORDS]  # no .tmp
    monkeypatch.undo()
    resumed = RunStore(run)  # the lock was released, the old manifest is intact
    assert resumed.open(manifest()).invocations == [{"started": "t"}, {"started": "t"}]
    assert resumed.done_keys() == {"a"} and resumed.torn_bytes == 0


def test_disk_full_writing_a_manifest_leaves_no_tmp_file(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "write_fully", disk_full_after(half=True))
    with pytest.raises(UsageError) as exc:
        RunStore(tmp_path / "run").open(manifest())
    assert one_line(exc).startswith(f"disk full writing {tmp_path / 'run' / MANIFEST}")
    assert not list((tmp_path / "run").glob("*.tmp")) and not (tmp_path / "run" / MANIFEST).exists()


def test_disk_full_appending_a_stage(tmp_path, monkeypatch):
    run = tmp_path / "run"
    store = RunStore(run)
    store.open(manifest())
    monkeypatch.setattr(store_module, "write_fully", disk_full_after(half=False))
    with pytest.raises(UsageError, match=f"disk full writing {run / STAGES}"):
        store.append_stage(record("a").completion)
    assert (run / STAGES).read_bytes() == b""


# -- 7. the HTML drill-down -----------------------------------------------------------------------


def test_a_huge_output_is_cut_in_the_drilldown(tmp_path):
    output = "HEAD" + "x" * 1_000_000 + "TAIL"
    run = write_run(tmp_path / "r", [Row("big", 0.0, output=output)])
    html = render_html(build_leaderboard([run]), [run], per_cell=1)
    assert len(html) < 200_000 and output not in html
    assert "HEAD" in html and "TAIL" in html
    cut = len(output) - DRILLDOWN_TEXT_CHARS
    assert f"[... {cut:,} characters cut here; the full text is in records.jsonl ...]" in html


def test_clip_keeps_short_texts_and_cuts_long_ones_to_the_limit():
    assert clip_text("short") == "short" and clip_text(None) == ""
    clipped = clip_text("a" * 50 + "b" * 50, limit=20)
    assert clipped.startswith("a" * 10 + "\n\n[... 80 characters cut") and clipped.endswith("\n\n" + "b" * 10)


def test_references_and_stages_are_cut_too(tmp_path):
    run = write_run(tmp_path / "r", [])
    line = json.loads(record("k").model_dump_json())
    line.update(references=["R" * 300_000], stages=[{**line["completion"], "text": "S" * 300_000}])
    (Path(run) / RECORDS).write_text(json.dumps({**line, "score": 0.0, "family": "ruler"}) + "\n")
    html = render_html(build_leaderboard([run]), [run], per_cell=1)
    assert "R" * (DRILLDOWN_TEXT_CHARS // 2 + 1) not in html and "S" * (DRILLDOWN_TEXT_CHARS // 2 + 1) not in html
    assert html.count("characters cut here") == 2
