"""Reading task data the same way everywhere: JSONL files (one-line errors naming the bad line) and
the offline fallback to a shipped fixture (said once, on stderr, never silently)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from lc_bench.errors import UsageError


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSONL file; blank lines are skipped, a malformed one is bad input."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise UsageError(f"{path}:{number} is not valid JSON") from None
    return rows


def read_json_list(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON file holding one list (Ada-LEval's files, LongBench v2's data.json)."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(rows, list):
        raise UsageError(f"{path} does not hold a JSON list of records")
    return rows


def read_adaleval_file(data: str, fields: tuple[str, ...], example: str) -> tuple[Path, int, list[dict[str, Any]]]:
    """An Ada-LEval pre-built file (`textsort_8k.json`, `stackselect_1k.json`): its path, the length
    setting its name gives (8k -> 8192) and its records, each checked for `fields`."""
    from lc_bench.lengths import parse_lengths

    path = Path(data).expanduser()
    if not path.exists():
        raise UsageError(f"Ada-LEval file {path} not found (fetch_data.sh in open-compass/Ada-LEval)")
    match = re.search(r"(\d+k)", path.stem)
    if match is None:
        raise UsageError(f"cannot tell the length setting of {path.name}: expected a name like {example}")
    rows = read_json_list(path)
    if not rows:
        raise UsageError(f"{path} holds no records")
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not set(fields) <= set(row):
            raise UsageError(f"{path}: record {number} lacks one of {', '.join(fields)} (Ada-LEval's layout)")
    return path, parse_lengths(match.group(1))[0], rows


def warn_fixture_fallback(source: str, exc: BaseException, fixture: str = "fixture") -> None:
    """data=auto could not reach the real dataset: say that the numbers come from a fixture."""
    print(
        f"lc-bench: warning: {source} unavailable ({type(exc).__name__}); using the shipped {fixture}, "
        "not the real dataset",
        file=sys.stderr,
    )
