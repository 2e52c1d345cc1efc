"""Small JSON files in the cache folder that hold what lc_bench's own source files decide (the
task listing, which module registers each name), each stored with the key of the files it was
derived from: a stored value whose key no longer matches is ignored and rebuilt.

Reading and writing are best effort: a missing, damaged, foreign or unwritable file only costs the
time of deriving the value again, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import lc_bench


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


def read_keyed(path: Path, key: str, field: str) -> Any | None:
    """`field` of the file stored under `key`, or None (no file, another key, not JSON)."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return stored.get(field) if isinstance(stored, dict) and stored.get("key") == key else None


def write_keyed(path: Path, key: str, field: str, value: Any) -> None:
    """Store `value` as `field` under `key`, whole or not at all (a temporary per process, then a
    rename); a folder that cannot be written is left as it is."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps({"key": key, field: value}, sort_keys=True), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):  # a cache path that is not a folder has no temporary either
            temporary.unlink(missing_ok=True)
