import pytest

from lc_bench.errors import UsageError
from lc_bench.run_config import resolve_run_config
from lc_bench.suites.loader import load_suite, shipped_suites

DEFAULTS = dict(
    suite=None, tasks=None, lengths=None, depths=None, samples=None, seed=0, runner="echo", runner_opt=[],
    task_opt=[], haystack=None, model=None, max_new_tokens=None, temperature=0.0, out="results", name=None,
)


def resolve(**options):
    return resolve_run_config(**{**DEFAULTS, **options})


def test_shipped_suites_load_and_name_registered_tasks():
    from lc_bench.registry import TASKS

    assert {"ruler", "quick", "niah-grid"} <= set(shipped_suites())
    ruler = load_suite("ruler")
    assert len(ruler.tasks) == 13 and all(task in TASKS.names() for task in ruler.tasks)


def test_suite_values_apply_and_cli_options_win():
    config = resolve(suite="ruler")
    assert config.lengths == (4096, 8192, 16384, 32768, 65536, 131072)
    assert config.depths == () and config.samples_per_cell == 100
    config = resolve(suite="ruler", lengths="1k,2k", samples=2, depths="0,100")
    assert config.lengths == (1024, 2048) and config.samples_per_cell == 2 and config.depths == (0.0, 100.0)


def test_haystack_option_reaches_essay_tasks_only():
    config = resolve(suite="ruler", haystack="/my/corpus")
    assert config.task_params["niah_single_2"] == {"haystack": "/my/corpus"}
    assert "niah_single_1" not in config.task_params  # noise haystack stays noise
    assert "vt" not in config.task_params
    config = resolve(tasks="niah", haystack="/c", task_opt=["niah.haystack=/d"])
    assert config.task_params["niah"]["haystack"] == "/d"


def test_bad_suites(tmp_path):
    with pytest.raises(UsageError, match="unknown suite 'rular'"):
        load_suite("rular")
    broken = tmp_path / "s.yaml"
    broken.write_text("tasks: [niah]\ncolour: red\n")
    with pytest.raises(UsageError, match="malformed"):
        load_suite(str(broken))
    with pytest.raises(UsageError, match="not found"):
        load_suite(str(tmp_path / "none.yaml"))
