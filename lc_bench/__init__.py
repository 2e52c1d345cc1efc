"""lc_bench: how well does a model use 4k, 32k, 128k tokens of context?

The Python API (lc_bench/api.py), imported on first use so `import lc_bench` stays instant:

* `evaluate(model=..., tasks=..., lengths=..., runner=...) -> EvalResult`: run or resume an
  evaluation; `.tables` holds the leaderboard as DataFrames, `.records` one row per sample.
* `leaderboard(run_dirs, out=None) -> Leaderboard`: the tables of finished runs (and, with `out`,
  the md/csv/json/html files).
* `read_records(run_dir) -> DataFrame`: a run's samples with outputs and scores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["EvalResult", "UsageError", "evaluate", "leaderboard", "read_records"]

if TYPE_CHECKING:
    from lc_bench.api import EvalResult, evaluate, leaderboard, read_records
    from lc_bench.errors import UsageError


def __getattr__(name: str) -> Any:
    if name == "UsageError":
        from lc_bench.errors import UsageError

        return UsageError
    if name in __all__:
        from lc_bench import api

        return getattr(api, name)
    raise AttributeError(f"module 'lc_bench' has no attribute {name!r}")
