"""A plugin package, installed for real, adds a task and its report axis with no edit to lc_bench.

The example plugin (tests/plugins/lc_bench_example_plugin) is pip-installed, offline and without
build isolation, into a folder of its own that goes on the path: the same entry-point metadata a
`pip install lc-bench-example-plugin` would leave in site-packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lc_bench.registry import RUNNERS, TASKS
from lc_bench.run_config import resolve_run_config
from lc_bench.run_folders import write_leaderboard
from lc_bench.runloop import run_evaluation
from tests.e2e.test_cli import CONSOLE_SCRIPT, HANG_GUARD_S, records

PLUGIN_SOURCE = Path(__file__).parent / "plugins" / "lc_bench_example_plugin"
PLUGIN_MODULES = ("lc_bench_example_plugin", "lc_bench_example_plugin.parity")


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the installed plugin (its code and its .dist-info with the entry points)."""
    root = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(PLUGIN_SOURCE, root / "source")  # the build writes next to its sources
    site = root / "site"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
               "--no-index", "--target", str(site), str(source)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert result.returncode == 0, result.stderr
    return site


@pytest.fixture
def plugin_on_path(plugin_site: Path, monkeypatch: pytest.MonkeyPatch):
    """The plugin importable in this process, and registries that look for plugins afresh;
    afterwards both registries and sys.modules are as they were."""
    for registry in (TASKS, RUNNERS):
        registry.names()  # the built-ins stay loaded; only the plugin state is swapped below
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
        monkeypatch.setattr(registry, "_plugins_loaded", False)
        monkeypatch.setattr(registry, "_plugin_failures", [])
    monkeypatch.syspath_prepend(str(plugin_site))
    yield
    for module in PLUGIN_MODULES:
        sys.modules.pop(module, None)


def test_the_console_script_lists_the_installed_plugins_task(plugin_site):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_site), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([str(CONSOLE_SCRIPT), "tasks"], capture_output=True, text=True, env=env,
                            timeout=HANG_GUARD_S)
    assert result.returncode == 0, result.stderr
    assert ("\nexample_parity: Example plugin: find the secret number in filler text (exact match) "
            "(metric exact, max_new_tokens 16)\n    filler: str = ") in result.stdout
    assert "\nniah: " in result.stdout  # the built-ins are still there


def test_a_plugin_task_runs_and_gets_its_own_leaderboard_table(plugin_on_path, tiny_model_dir, tmp_path):
    assert "example_parity" in TASKS.names()
    config = resolve_run_config(tasks="example_parity", runner="echo", model=str(tiny_model_dir), lengths="1k,2k",
                                samples=2, out=tmp_path, name="plugin")
    summary = run_evaluation(config)
    rows = records(summary.run_dir)
    assert summary.errors == 0 and len(rows) == 4
    assert sorted(row["metadata"]["parity"] for row in rows) == ["even", "even", "odd", "odd"]
    assert all(row["score"] == 100.0 and row["input_tokens"] + 16 <= row["target_length"] for row in rows)

    markdown = write_leaderboard([summary.run_dir], summary.run_dir)
    assert "## Score by length bucket" in markdown and "the example plugin's parity label" in markdown
    section = markdown.split("### example parity\n", 1)[1].lstrip("\n")
    header, _, *table = section.split("\n\n", 1)[0].splitlines()
    assert [cell.strip() for cell in header.strip("|").split("|")][-2:] == ["even", "odd"]
    assert [line.split("|")[2:4] for line in table] == [[" example_parity ", " 1k "], [" example_parity ", " 2k "]]
