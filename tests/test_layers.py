"""Data flows one way: each room imports only the rooms before it (README, Layout)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lc_bench"
# room -> the lc_bench rooms it must never import
FORBIDDEN = {
    "scoring": {"tasks", "runners", "metrics", "registry", "runloop", "api", "cli", "store", "judge"},
    "tasks": {"runners", "metrics", "runloop", "api", "cli", "store", "judge"},
    "runners": {"tasks", "metrics", "runloop", "api", "cli", "judge"},
    "metrics": {"tasks", "scoring", "runners", "registry", "runloop", "api", "cli", "judge", "run_config"},
    "schema": {"tasks", "runners", "metrics", "registry", "runloop", "api", "cli", "store"},
    "axes": {"tasks", "runners", "metrics", "registry", "runloop", "api", "cli", "store", "schema"},
}


def room_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports_of(room: str) -> dict[str, set[str]]:
    """module path -> lc_bench rooms it imports (anywhere in the file, lazy imports included)."""
    paths = sorted((PACKAGE / room).rglob("*.py")) if (PACKAGE / room).is_dir() else [PACKAGE / f"{room}.py"]
    found = {}
    for path in paths:
        rooms = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            rooms |= {room_of(name) for name in names if name.startswith("lc_bench.")}
        found[str(path.relative_to(PACKAGE.parent))] = rooms
    return found


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_a_room_imports_no_later_room(room):
    found = imports_of(room).items()
    wrong = {path: sorted(rooms & FORBIDDEN[room]) for path, rooms in found if rooms & FORBIDDEN[room]}
    assert not wrong, f"{room} imports rooms after it: {wrong}"


def test_the_check_sees_lazy_imports(tmp_path):
    tree = ast.parse("def f():\n    from lc_bench.tasks.base import TaskBase\n")
    modules = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert [room_of(m) for m in modules] == ["tasks"]
