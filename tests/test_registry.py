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
