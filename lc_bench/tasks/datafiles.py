"""Reading task data the same way everywhere: JSONL files (one-line errors naming the bad line) and
the offline fallback to a shipped fixture (said once, on stderr, never silently)."""

from __future__ import annotations

import json
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


def warn_fixture_fallback(source: str, exc: BaseException, fixture: str = "fixture") -> None:
    """data=auto could not reach the real dataset: say that the numbers come from a fixture."""
    print(
        f"lc-bench: warning: {source} unavailable ({type(exc).__name__}); using the shipped {fixture}, "
        "not the real dataset",
        file=sys.stderr,
    )
