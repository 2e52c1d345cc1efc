"""The registry: built-ins by decorator, plugins by entry point (loaded only when needed)."""

from __future__ import annotations

import sys
import textwrap
import types
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from lc_bench import registry as registry_module
from lc_bench.errors import UsageError
from lc_bench.registry import RUNNERS, TASKS, Registry
from tests.helpers import HANG_GUARD_S

GROUP = "lc_bench_test.things"


def test_builtins_are_registered():
    assert {"niah", "niah_single_1", "niah_multiquery"} <= set(TASKS.names())
    assert {"hf", "echo", "constant"} <= set(RUNNERS.names())


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UsageError, match="did you mean niah_single_3, niah_single_2, niah_single_1"):
        TASKS.get("niah_singel")
    with pytest.raises(UsageError, match="unknown runner 'zzz'"):
        RUNNERS.get("zzz")


def test_a_name_cannot_be_registered_twice():
    registry: Registry = Registry("thing", ())
    registry.register("a")(object)
    with pytest.raises(ValueError):
        registry.register("a")(int)


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh registry whose entry points are importable modules written to tmp_path.

    Returns `install(modules, entries)`: `modules` maps a module name to its source (it can import
    the registry as `things.THINGS`), `entries` are (name, value) pairs of the entry-point group.
    """
    things: Registry = Registry("thing", ("things_builtin",), entry_point_group=GROUP)
    monkeypatch.setitem(sys.modules, "things", types.SimpleNamespace(THINGS=things))
    monkeypatch.syspath_prepend(str(tmp_path))
    written: list[str] = []

    def install(modules: dict[str, str], entries: list[tuple[str, str]]) -> Registry:
        for module, source in {"things_builtin": BUILTIN, **modules}.items():
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
            written.append(module)
        points = [EntryPoint(name=name, value=value, group=GROUP) for name, value in entries]
        monkeypatch.setattr(registry_module, "entry_points", lambda group: points if group == GROUP else [])
        return things

    yield install
    for module in written:
        sys.modules.pop(module, None)


BUILTIN = """
    from things import THINGS

    @THINGS.register("base")
    class Base:
        name = "base"
"""
MODULE_PLUGIN = """
    from things import THINGS

    @THINGS.register("alpha")
    class Alpha:
        name = "alpha"
"""
OBJECT_PLUGIN = """
    class Beta:
        name = "beta"

    class Misnamed:
        name = "gamma"
"""


def test_plugins_load_only_when_a_name_is_not_a_builtin(plugins):
    things = plugins({"things_alpha": MODULE_PLUGIN}, [("alpha_plugin", "things_alpha")])
    assert things.get("base").name == "base"
    assert "things_alpha" not in sys.modules  # a built-in was asked for: no plugin imported
    assert things.get("alpha").name == "alpha"
    assert things.names() == ["alpha", "base"]


def test_a_module_colon_object_entry_point_registers_under_its_name(plugins):
    things = plugins({"things_objects": OBJECT_PLUGIN}, [("beta", "things_objects:Beta")])
    assert things.get("beta").__name__ == "Beta"
    with pytest.raises(UsageError, match="did you mean beta"):  # lookups still suggest, plugins included
        things.get("betta")


def test_an_object_must_carry_its_entry_points_name(plugins):
    things = plugins({"things_objects": OBJECT_PLUGIN}, [("delta", "things_objects:Misnamed")])
    with pytest.raises(UsageError) as error:
        things.names()
    assert str(error.value) == (
        "thing plugin 'delta' (things_objects:Misnamed) failed to load: "
        "ValueError: the entry point's name differs from the object's name 'gamma'"
    )


def test_a_broken_plugin_is_one_line_and_only_when_needed(plugins):
    things = plugins(
        {"things_broken": "import no_such_dependency_anywhere\n", "things_alpha": MODULE_PLUGIN},
        [("broken", "things_broken"), ("alpha_plugin", "things_alpha")],
    )
    assert things.get("base").name == "base"  # a built-in: the broken plugin is never imported
    assert things.get("alpha").name == "alpha"  # found: the broken one does not matter
    expected = ("thing plugin 'broken' (things_broken) failed to load: "
                "ModuleNotFoundError: No module named 'no_such_dependency_anywhere'")
    with pytest.raises(UsageError) as listing:
        things.names()  # listing every name needs every plugin
    assert str(listing.value) == expected
    with pytest.raises(UsageError) as lookup:
        things.get("omega")  # it might have been the broken plugin's: say so
    assert str(lookup.value) == f"unknown thing 'omega', and {expected}"


def test_a_plugin_reusing_a_builtin_name_is_refused(plugins):
    things = plugins({"things_clash": BUILTIN.replace("class Base", "class Other")}, [("clash", "things_clash")])
    with pytest.raises(UsageError, match="thing plugin 'clash' .* ValueError: thing 'base' is registered twice"):
        things.names()


def test_a_builtin_package_registers_every_module_in_it(tmp_path, monkeypatch):
    """A new family is one new module in the package: no list of modules to edit."""
    import sys

    from lc_bench.registry import Registry

    package = tmp_path / "family_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from lc_bench.registry import Registry\nTHINGS = Registry('thing', ())\n")
    (package / "new_family.py").write_text(
        "from family_pkg import THINGS\n\n@THINGS.register('fresh')\nclass Fresh: ...\n"
    )
    (package / "helpers.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import family_pkg

    scanning: Registry = Registry("thing", ("family_pkg",))
    family_pkg.THINGS = scanning
    try:
        assert scanning.names() == ["fresh"] and "family_pkg.helpers" in sys.modules
    finally:
        for name in [m for m in sys.modules if m.startswith("family_pkg")]:
            del sys.modules[name]


def _indexed_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package_name: str):
    """A built-in package of two modules, each registering one name, with the cache in tmp_path;
    returns (package, a fresh registry installed as its THINGS)."""
    import importlib

    monkeypatch.setenv("LC_BENCH_CACHE", str(tmp_path / "cache"))
    package = tmp_path / package_name
    package.mkdir()
    (package / "__init__.py").write_text("THINGS = None\n")
    for module, name in (("first", "alpha"), ("second", "beta")):
        (package / f"{module}.py").write_text(
            f"from {package_name} import THINGS\n\n@THINGS.register('{name}')\nclass {name.title()}: ...\n"
        )
    monkeypatch.syspath_prepend(str(tmp_path))
    imported = importlib.import_module(package_name)
    imported.THINGS = Registry("thing", (package_name,))
    return imported


def _forget(package_name: str) -> None:
    for name in [m for m in sys.modules if m.startswith(f"{package_name}.")]:
        del sys.modules[name]


def test_a_known_name_imports_only_the_module_that_registers_it(tmp_path, monkeypatch):
    """After one full import the name -> module index is cached: a run of one task imports that
    task's module, not every module of the package."""
    import json

    package = _indexed_package(tmp_path, monkeypatch, "indexed_pkg")
    try:
        assert package.THINGS.names() == ["alpha", "beta"]
        stored = json.loads((tmp_path / "cache" / "names-indexed_pkg.json").read_text())
        assert stored["names"] == {"alpha": "indexed_pkg.first", "beta": "indexed_pkg.second"}
        _forget("indexed_pkg")
        package.THINGS = fresh = Registry("thing", ("indexed_pkg",))
        assert fresh.get("beta").__name__ == "Beta"
        assert "indexed_pkg.second" in sys.modules and "indexed_pkg.first" not in sys.modules
        assert fresh.names() == ["alpha", "beta"]  # listing still imports everything
    finally:
        _forget("indexed_pkg")
        sys.modules.pop("indexed_pkg", None)


def test_a_wrong_damaged_or_stale_index_only_costs_the_full_import(tmp_path, monkeypatch):
    import json

    from lc_bench import name_index

    package = _indexed_package(tmp_path, monkeypatch, "misindexed_pkg")
    index = tmp_path / "cache" / "names-misindexed_pkg.json"
    try:
        package.THINGS.names()
        stored = json.loads(index.read_text())
        # the index says beta lives in `first`, which does not register it: the full import finds it
        index.write_text(json.dumps({"key": stored["key"], "names": {"beta": "misindexed_pkg.first"}}))
        _forget("misindexed_pkg")
        package.THINGS = fresh = Registry("thing", ("misindexed_pkg",))
        assert fresh.get("beta").__name__ == "Beta" and fresh._builtins_loaded
        # the full import wrote the right map back
        assert json.loads(index.read_text())["names"]["beta"] == "misindexed_pkg.second"

        index.write_text("{not json")
        _forget("misindexed_pkg")
        package.THINGS = fresh = Registry("thing", ("misindexed_pkg",))
        assert fresh.get("alpha").__name__ == "Alpha" and fresh._builtins_loaded

        # a module outside the package is never imported from the index
        index.write_text(json.dumps({"key": stored["key"], "names": {"alpha": "os"}}))
        assert name_index.read_index("misindexed_pkg") == {}

        # an edited source file changes the key: the stored map no longer applies
        index.write_text(json.dumps(stored))
        assert name_index.read_index("misindexed_pkg") == stored["names"]
        (tmp_path / "misindexed_pkg" / "first.py").write_text("# moved away\n")
        name_index._package_key.cache_clear()
        assert name_index.read_index("misindexed_pkg") == {}
    finally:
        name_index._package_key.cache_clear()
        _forget("misindexed_pkg")
        sys.modules.pop("misindexed_pkg", None)


def test_every_builtin_name_is_found_through_the_index_in_a_fresh_process(tmp_path):
    """Each built-in task and runner is registered by the module the index names, so in a new
    process no lookup of a built-in falls back to importing them all (checked name by name)."""
    import os
    import subprocess

    env = {**os.environ, "LC_BENCH_CACHE": str(tmp_path)}
    listing = "from lc_bench.registry import RUNNERS, TASKS; print(len(TASKS.names()) + len(RUNNERS.names()))"
    count = subprocess.run([sys.executable, "-c", listing], env=env, capture_output=True, text=True,
                           timeout=HANG_GUARD_S)
    assert count.returncode == 0, count.stderr
    lookups = """
import json, pathlib, sys
from lc_bench.registry import RUNNERS, TASKS
for registry, package in ((TASKS, "lc_bench.tasks"), (RUNNERS, "lc_bench.runners")):
    names = json.loads((pathlib.Path(sys.argv[1]) / f"names-{package}.json").read_text())["names"]
    for name in sorted(names):
        registry.get(name)
        if registry._builtins_loaded:
            sys.exit(f"{name} fell back to the full import")
    print(len(names))
"""
    found = subprocess.run([sys.executable, "-c", lookups, str(tmp_path)], env=env, capture_output=True, text=True,
                           timeout=HANG_GUARD_S)
    assert found.returncode == 0, found.stderr
    assert sum(int(line) for line in found.stdout.split()) == int(count.stdout)
