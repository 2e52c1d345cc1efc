"""Which built-in module registers each task or runner name, kept in the cache folder so that a run
of one task imports that task's module, not all of lc_bench/tasks.

Importing every built-in task module costs about 0.2 s on two cores: 7% of the harness's whole fixed
cost against a plain transformers script (benchmarks/hf_overhead.py). The index is a plain
name -> module map under a key made of the package's source files (path, size, modification time),
Python's version and lc_bench's; any change to those files rebuilds it. It is only a hint: a name
its module does not register after all falls back to importing every built-in module, so a stale,
foreign or hand-edited index costs time, never a wrong answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from functools import cache
from pathlib import Path

import lc_bench
from lc_bench.models import cache_dir


def source_key(root: Path, plugins: list[str]) -> str:
    """A digest of every .py file under `root` (path, size, modification time) and the plugins."""
    digest = hashlib.sha256(f"{lc_bench.__version__}|{sys.version}".encode())
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                status = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}:{status.st_size}:{status.st_mtime_ns}\n".encode())
    for plugin in plugins:
        digest.update(f"plugin {plugin}\n".encode())
    return digest.hexdigest()


def _index_path(package: str) -> Path:
    return cache_dir() / f"names-{package}.json"


@cache
def _package_key(package: str) -> str | None:
    """The key of a package's source files, once per process; None for a package with no folder."""
    module = sys.modules.get(package)
    if module is None:
        import importlib

        module = importlib.import_module(package)
    paths = list(getattr(module, "__path__", []))
    return source_key(Path(paths[0]), []) if paths else None


def read_index(package: str) -> dict[str, str]:
    """The stored name -> module map of `package`, or {} when there is none or its key is stale."""
    key = _package_key(package)
    if key is None:
        return {}
    try:
        stored = json.loads(_index_path(package).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    names = stored.get("names") if isinstance(stored, dict) and stored.get("key") == key else None
    if not isinstance(names, dict):
        return {}
    prefix = f"{package}."
    return {name: module for name, module in names.items()
            if isinstance(name, str) and isinstance(module, str) and module.startswith(prefix)}


def write_index(package: str, names: dict[str, str]) -> None:
    """Store `names` for `package`, atomically; an unwritable cache folder only costs the time."""
    key = _package_key(package)
    if key is None:
        return
    path = _index_path(package)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps({"key": key, "names": names}, sort_keys=True), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
