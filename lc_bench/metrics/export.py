"""Machine-readable leaderboards: leaderboard.json (every cell with n and its interval) and a tidy
leaderboard.csv (one line per cell), plus the folder writer that produces every output at once."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from lc_bench.errors import UsageError
from lc_bench.metrics.aggregate import Leaderboard
from lc_bench.metrics.axis_tables import passing_table
from lc_bench.metrics.bootstrap import CONFIDENCE

SCHEMA = "lc_bench.leaderboard/1"
# how `ci_low`/`ci_high` were made; each cell's `interval` column names its own method
INTERVAL = (
    "wilson score interval where every score is 0 or 100 (cells: interval=wilson), else percentile bootstrap "
    "(interval=bootstrap; for averages, of the members' averaged replicates); an average with a member whose "
    "interval is not its replicates' (wilson or combined): the members' intervals combined in quadrature "
    "(interval=combined)"
)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{key: _clean(value) for key, value in row.items()} for row in frame.to_dict("records")]


def leaderboard_json(board: Leaderboard, run_dirs: list[Path]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": [str(path) for path in run_dirs],
        "options": {**asdict(board.options), "confidence": CONFIDENCE, "interval": INTERVAL},
        "models": board.models,
        "lengths": board.lengths,
        "cells": _records(board.cells),
        "rows": _records(board.rows),
        "depths": _records(board.depths),
        "buckets": _records(board.buckets),
        # per model x task x length of a label axis declaring `largest_passing`: the label its rule picks
        "largest_passing": _records(passing_table(board.buckets, board.catalog)),
        "skipped": _records(board.skipped),
        "baselines": _records(board.baselines),
        "generation": _records(board.generation),
        "secondary": _records(board.secondary),
        "pooled": board.pooled,
        "merged": board.merged,
        "unreadable_lines": board.unreadable_lines,
    }


def write_text_atomic(path: Path, text: str) -> Path:
    """Whole file or nothing: an interrupted or failed write (disk full, read-only folder) never
    leaves a half-written output or a `.tmp` file; it is one line naming the file."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def write_json(board: Leaderboard, run_dirs: list[Path], path: Path) -> Path:
    return write_text_atomic(path, json.dumps(leaderboard_json(board, run_dirs), indent=1, ensure_ascii=False) + "\n")


def write_csv(board: Leaderboard, path: Path) -> Path:
    return write_text_atomic(path, board.cells.to_csv(index=False, float_format="%.4f"))
