"""A corrupt baseline is refused with one line (exit 2 at the CLI); it never lets a gate pass."""

from __future__ import annotations

import json

import pytest

from lc_bench.errors import UsageError
from lc_bench.metrics.aggregate import build_leaderboard
from lc_bench.metrics.gate import GateOptions, baseline_document, gate, read_baseline, report
from tests.metrics.helpers import scored, write_run


@pytest.fixture
def failing_run(tmp_path):
    """A run that scores 0 where any sane baseline had 100."""
    return build_leaderboard([write_run(tmp_path / "run", scored("k", 0, 6))])


def good_cell() -> dict:
    return {"task": "niah", "target_length": 1024, "n": 6, "score": 100.0, "values": [[100.0, 6]]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"values": []}, "non-empty list"),
        ({"values": [["NaN", 6]], "score": 0.0}, "not a finite number"),
        ({"values": [[float("inf"), 6]]}, "not a finite number"),
        ({"values": [[100.0, 0]], "n": 0}, "positive whole number"),
        ({"values": [[100.0, -3]], "n": -3}, "positive whole number"),
        ({"values": [[100.0, 2.5]], "n": 2}, "positive whole number"),
        ({"n": 7}, "n=7 but the counts sum to 6"),
        ({"score": 50.0}, "not the mean of its values"),
        ({"score": "NaN"}, "not the mean of its values"),
        ({"values": [[100.0, 6, 1]]}, "pairs"),
    ],
)
def test_a_corrupt_cell_is_refused(tmp_path, failing_run, change, message):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"schema": "lc_bench.baseline/1", "model": "m", "cells": [{**good_cell(), **change}]}))
    with pytest.raises(UsageError, match=message):
        gate(failing_run, path, None, GateOptions())


def test_no_cells_and_duplicate_cells_are_refused(tmp_path, failing_run):
    path = tmp_path / "baseline.json"
    for cells, message in (([], "no cells"), ([good_cell(), good_cell()], "appears twice")):
        path.write_text(json.dumps({"schema": "lc_bench.baseline/1", "model": "m", "cells": cells}))
        with pytest.raises(UsageError, match=message):
            read_baseline(path)


def test_a_sound_baseline_fails_the_zero_run(tmp_path, failing_run):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"schema": "lc_bench.baseline/1", "model": "m", "cells": [good_cell()]}))
    result = gate(failing_run, path, None, GateOptions())
    assert result.failed and [c.verdict for c in result.comparisons] == ["regression"]


def test_a_written_baseline_reads_back(tmp_path):
    board = build_leaderboard([write_run(tmp_path / "run", scored("k", 4, 6))])
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(baseline_document(board, "m")))
    values, counts = read_baseline(path)[("niah", 1024)]
    assert list(values) == [0.0, 100.0] and list(counts) == [2, 4]


def test_writing_a_baseline_into_a_read_only_folder_is_one_line(tmp_path, monkeypatch):
    from lc_bench.metrics.gate import write_baseline

    board = build_leaderboard([write_run(tmp_path / "run", scored("k", 4, 6))])
    folder = tmp_path / "ci"
    folder.mkdir()

    def refuse(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003 - Path.write_text's signature
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(folder), "write_text", refuse)
    with pytest.raises(UsageError, match="cannot write .*baseline.json: Permission denied"):
        write_baseline(board, "m", folder / "baseline.json")
    assert list(folder.iterdir()) == []


def test_a_full_disk_while_writing_the_leaderboard_leaves_no_tmp(tmp_path, monkeypatch):
    import errno

    from lc_bench.metrics.outputs import write_outputs

    run = write_run(tmp_path / "run", scored("k", 4, 6))
    board = build_leaderboard([run])
    real = type(run).write_text

    def full_on_html(self, text, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if self.name.startswith("leaderboard.html"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(type(run), "write_text", full_on_html)
    with pytest.raises(UsageError, match="cannot write .*leaderboard.html: No space left on device"):
        write_outputs(board, [run], tmp_path / "out")
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_an_old_baseline_still_loads_with_a_note(tmp_path):
    """Baselines written before the setup was recorded (schema 1) compare as before, and say so."""
    board = build_leaderboard([write_run(tmp_path / "run", scored("k", 6, 6))])
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"schema": "lc_bench.baseline/1", "model": "m", "cells": [good_cell()]}))
    result = gate(board, path, None, GateOptions())
    assert not result.failed and [c.verdict for c in result.comparisons] == ["ok"]
    assert any("written by an older lc_bench (lc_bench.baseline/1)" in line for line in result.unchecked)
    assert "note: the baseline was written by an older lc_bench" in report(result)
    strict = gate(board, path, None, GateOptions(strict_config=True))
    assert strict.failed and strict.reasons == ["the run's setup cannot be checked against the baseline's "
                                                "(--strict-config)"]


@pytest.mark.parametrize(("change", "message"), [
    ({"runner": 5}, "runner must be a string or null"),
    ({"config": [1]}, "config must be an object or null"),
    ({"config": {"seed": 0}, "config_hash": "sha256:0"}, "does not match its config"),
])
def test_malformed_setup_fields_are_refused(tmp_path, failing_run, change, message):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"schema": "lc_bench.baseline/2", "model": "m", "cells": [good_cell()], **change}))
    with pytest.raises(UsageError, match=message):
        gate(failing_run, path, None, GateOptions())


def test_configs_of_several_invocations_merge():
    from lc_bench.metrics.gate import merge_configs

    merged = merge_configs([
        {"tasks": ["b"], "lengths": [2048], "depths": [50.0], "samples_per_cell": 3, "seed": 0, "out_dir": "x"},
        {"tasks": ["a", "b"], "lengths": [1024, 2048], "depths": [0.0, 50.0], "samples_per_cell": 5, "seed": 1},
    ])
    assert merged == {"tasks": ["a", "b"], "lengths": [1024, 2048], "depths": [0.0, 50.0], "samples_per_cell": 5,
                      "seed": [0, 1]}
    assert merge_configs([{}, {"out_dir": "x"}]) is None
