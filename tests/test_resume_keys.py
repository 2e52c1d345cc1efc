"""Resume keys from sample specs: a finished run resumes without building a sample."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

import lc_bench
from lc_bench.registry import TASKS
from lc_bench.schema import GenerationParams
from lc_bench.specs import SampleSpec, spec_key
from lc_bench.tasks.base import BuildContext, TaskBase, make_task
from lc_bench.tasks.niah import Niah
from lc_bench.tasks.qa import QATask
from lc_bench.tasks.synthetic import UnitTask

GRID = {"niah_single_1": {}, "niah_single_2": {}, "niah_multikey_2": {}, "vt": {}, "cwe": {}, "fwe": {},
        "qa_1": {"data": "fixture"}, "qa_2": {"data": "fixture", "dataset_rules": "ruler"}}


@pytest.fixture
def grid_tasks(monkeypatch):
    """Declare the grid tasks as the task modules will (`grid_task = True`, niah by depth too)."""
    for cls in (Niah, UnitTask, QATask):
        monkeypatch.setattr(cls, "grid_task", True, raising=False)
    monkeypatch.setattr(Niah, "grid_depths", True, raising=False)


@pytest.fixture
def build_calls(monkeypatch, grid_tasks):
    """Every build of a grid task, as (task, lengths, depths, samples_per_cell)."""
    calls: list[tuple[str, tuple[int, ...], tuple[float, ...], int]] = []
    for cls in (Niah, UnitTask, QATask):
        original = cls.build

        def build(self, context, original=original):
            calls.append((self.name, context.lengths, context.depths, context.samples_per_cell))
            return original(self, context)

        monkeypatch.setattr(cls, "build", build)
    return calls


SPEC = SampleSpec(task="niah_single_1", params="{}", target_length=1024, depth=50.0, index=0, seed=0,
                  max_new_tokens=None, protocol="lc_bench", tokenizer="tiny|transformers|-")
CHANGED = {"task": "niah_single_2", "params": '{"a":1}', "target_length": 2048, "depth": None, "index": 1,
           "seed": 1, "max_new_tokens": 64, "protocol": "ruler", "tokenizer": "other|transformers|-",
           "format_version": 99}


def test_spec_keys_are_equal_for_equal_settings_and_differ_in_every_field():
    identity, params = {"runner": "echo"}, GenerationParams()
    key = spec_key(SPEC, identity, params)
    assert key == spec_key(replace(SPEC), dict(identity), GenerationParams()) and len(key) == 32
    assert set(CHANGED) == {f.name for f in fields(SampleSpec)}
    keys = {spec_key(replace(SPEC, **{name: value}), identity, params) for name, value in CHANGED.items()}
    assert len(keys) == len(CHANGED) and key not in keys
    assert spec_key(SPEC, {"runner": "constant"}, params) != key
    assert spec_key(SPEC, identity, GenerationParams(temperature=0.5)) != key


def test_spec_keys_are_those_of_earlier_releases():
    # finished runs resume by these keys: serialising the runner's part once must hash the same text
    # as the whole payload's canonical JSON did
    import hashlib
    from dataclasses import asdict

    from lc_bench.specs import canonical_json, spec_keys

    identity = {"runner": "hf", "model": "m", "options": {"ß": "ü", "n": 2}}
    params = GenerationParams(temperature=0.5)
    specs = [SPEC, *(replace(SPEC, **{name: value}) for name, value in CHANGED.items()),
             replace(SPEC, params='{"question":"¿qué?"}', depth=12.5)]
    earlier = [hashlib.sha256(canonical_json({"spec": asdict(spec), "runner": identity,
                                              "generation": params.model_dump(mode="json")}).encode()).hexdigest()[:32]
               for spec in specs]
    assert list(spec_keys(specs, identity, params)) == earlier
    assert [spec_key(spec, identity, params) for spec in specs] == earlier


@pytest.mark.parametrize("name", sorted(GRID))
def test_build_one_gives_the_sample_build_gives(name, tiny_tokenizer, grid_tasks):
    task = make_task(TASKS.get(name), GRID[name])
    context = BuildContext(tokenizer=tiny_tokenizer, lengths=(2048, 3072), depths=(0.0, 50.0), samples_per_cell=2,
                           seed=3)
    built = task.build(context)
    specs = task.specs(context)
    assert len(specs) == len(built)
    assert [task.build_one(context, spec) for spec in specs] == built
    assert specs[0].tokenizer.startswith(tiny_tokenizer.name) and specs[0].seed == 3


def test_tasks_without_specs_keep_building():
    class Plain(TaskBase):
        name = "plain"

    assert Plain().specs(None) is None  # the run loop then builds them and hashes the samples


def run(model, out, lengths=(1024,), tasks="niah_single_1,vt", runner="echo"):
    return lc_bench.evaluate(model=str(model), tasks=tasks, lengths=list(lengths), depths="0,100", runner=runner,
                             out=out, name="r", write_outputs=False, samples=2)


def test_a_rerun_of_a_finished_run_builds_nothing(tiny_model_dir, tmp_path, build_calls):
    first = run(tiny_model_dir, tmp_path)
    assert first.summary.generated == 6 and build_calls  # niah: 2 depths x 2, vt: 2
    build_calls.clear()
    again = run(tiny_model_dir, tmp_path)
    assert build_calls == []
    assert (again.summary.generated, again.summary.skipped, again.summary.total) == (0, 6, 6)


def test_adding_a_length_builds_only_its_cells(tiny_model_dir, tmp_path, build_calls):
    run(tiny_model_dir, tmp_path)
    build_calls.clear()
    more = run(tiny_model_dir, tmp_path, lengths=(1024, 2048))
    assert (more.summary.generated, more.summary.skipped) == (6, 6)
    assert build_calls and all(lengths == (2048,) for _, lengths, _, _ in build_calls)
    assert sorted(more.records["target_length"]) == [1024] * 6 + [2048] * 6


def test_a_killed_grid_run_resumes_only_what_is_missing(tiny_model_dir, tmp_path, build_calls):
    first = run(tiny_model_dir, tmp_path)
    records = first.run_dir / "records.jsonl"
    lines = records.read_text().splitlines(keepends=True)
    records.write_text("".join(lines[:4]))
    again = run(tiny_model_dir, tmp_path)
    assert (again.summary.generated, again.summary.skipped) == (2, 4)
    assert again.records["key"].nunique() == 6


def test_a_run_parses_its_records_once(tiny_model_dir, tmp_path, grid_tasks, monkeypatch):
    # the store that planned the run (keys already recorded) is the one that appends: its reading
    # of an unchanged records file serves both, so a rerun parses the file once
    import lc_bench.store as store

    run(tiny_model_dir, tmp_path)
    parsed: list[str] = []
    original = store.json_lines

    def counted(path):
        parsed.append(path.name)
        return original(path)

    monkeypatch.setattr(store, "json_lines", counted)
    again = run(tiny_model_dir, tmp_path)
    assert again.summary.generated == 0 and parsed.count("records.jsonl") == 1
