"""The text of `lc-bench tasks`, cached until the code that decides it changes.

Building it imports every task class with its pydantic parameter model (about 0.3 s on two cores,
three times Python's own start-up with typer). The text depends only on lc_bench's source files
and on the installed task plugins, so it is kept in the cache folder under a key made of those
files' sizes and modification times and the plugin entry points; any change rebuilds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

import lc_bench

CACHE_NAME = "tasks-listing.txt"
PLUGIN_GROUP = "lc_bench.tasks"


def listing_text() -> str:
    """Every registered task (plugins included) with its metric, output budget and parameters."""
    from lc_bench.registry import TASKS
    from lc_bench.tasks.base import describe_params

    lines = []
    for name in TASKS.names():
        task_class = TASKS.get(name)
        lines.append(
            f"{name}: {task_class.description} "
            f"(metric {task_class.primary_metric}, max_new_tokens {task_class.default_max_new_tokens})"
        )
        lines += [f"    {param}: {kind} = {default}" for param, kind, default in describe_params(task_class)]
    return "\n".join(lines) + "\n"


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


def _plugins() -> list[str]:
    """Each task plugin as `name=value dist-version`: installing, upgrading or removing one changes it."""
    found = []
    for entry in entry_points(group=PLUGIN_GROUP):
        dist = getattr(entry, "dist", None)
        version = f"{dist.name} {dist.version}" if dist is not None else ""
        found.append(f"{entry.name}={entry.value} {version}")
    return sorted(found)


def cached_listing_text(cache: Path) -> str:
    """The listing from `cache` when its key still holds, else built afresh (and stored when the
    folder is writable; a read-only cache only costs the time)."""
    key = source_key(Path(lc_bench.__file__).parent, _plugins())
    path = cache / CACHE_NAME
    try:
        stored_key, _, text = path.read_text(encoding="utf-8").partition("\n")
        if stored_key == key:
            return text
    except (OSError, UnicodeDecodeError):
        pass
    text = listing_text()
    temporary = path.with_name(f"{CACHE_NAME}.{os.getpid()}.tmp")
    try:
        cache.mkdir(parents=True, exist_ok=True)
        temporary.write_text(f"{key}\n{text}", encoding="utf-8")
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):  # a cache path that is not a folder has no temporary either
            temporary.unlink(missing_ok=True)
    return text
