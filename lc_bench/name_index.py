"""Which built-in module registers each task or runner name, kept in the cache folder so that a run
of one task imports that task's module, not all of lc_bench/tasks.

Importing every built-in task module took 0.27 s on two cores, a sixth of a short `constant`-runner
run (1.5-1.7 s; the harness's own cost in benchmarks/hf_overhead.py). The index is a plain
name -> module map under a key made of the package's source files (path, size, modification time),
Python's version and lc_bench's; any change to those files rebuilds it. It is only a hint: a name
its module does not register after all falls back to importing every built-in module, so a stale,
foreign or hand-edited index costs time, never a wrong answer.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from lc_bench.models import cache_dir
from lc_bench.source_cache import read_keyed, source_key, write_keyed


def _index_path(package: str) -> Path:
    return cache_dir() / f"names-{package}.json"


@cache
def _package_key(package: str) -> str | None:
    """The key of a package's source files, once per process; None for a package with no folder."""
    paths = list(getattr(importlib.import_module(package), "__path__", []))
    return source_key(Path(paths[0]), []) if paths else None


def read_index(package: str) -> dict[str, str]:
    """The stored name -> module map of `package`, or {} when there is none or its key is stale;
    only modules inside the package are ever named."""
    key = _package_key(package)
    names = read_keyed(_index_path(package), key, "names") if key is not None else None
    if not isinstance(names, dict):
        return {}
    prefix = f"{package}."
    return {name: module for name, module in names.items()
            if isinstance(name, str) and isinstance(module, str) and module.startswith(prefix)}


def write_index(package: str, names: dict[str, str]) -> None:
    """Store `names` for `package`; an unwritable cache folder only costs the time."""
    key = _package_key(package)
    if key is not None:
        write_keyed(_index_path(package), key, "names", names)
