"""The output-length axis: long-generation samples by requested output length, with their checks.

Samples that state a requested length (longwrite, longgen, manyq) are grouped by model x task x
input length x requested length. Each group gets its primary score and the shared checks: mean
words (LongWriter's count), mean output tokens, the share cut by the output budget (finish reason
"length"), the repeated-4-gram share and distinct-2. The checks live in each record's scores, so
the records of these samples are read in full; only those, so large needle runs cost nothing here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lc_bench.metrics.records import read_lines

GENERATION_COLUMNS = [
    "model", "task", "target_length", "requested", "label", "n", "score", "words", "output_tokens", "cut",
    "repeated_4gram", "distinct_2", "quality",
]


def generation_table(samples: pd.DataFrame, run_dirs: list[Path]) -> pd.DataFrame:
    """One row per model x task x input length x requested output length (see the module doc)."""
    if "requested" not in samples or samples["requested"].isna().all():
        return pd.DataFrame(columns=GENERATION_COLUMNS)
    chosen = samples.dropna(subset=["requested"])
    rows = []
    for run, group in chosen.groupby("run", sort=True):
        records = read_lines(run_dirs[int(run)], set(int(line) for line in group["line"]))
        for sample in group.itertuples(index=False):
            record = records.get(int(sample.line))
            if record is None:
                continue
            completion = record.get("completion") or {}
            scores = record.get("scores") or {}
            rows.append({
                "model": str(sample.model), "task": str(sample.task), "target_length": int(sample.target_length),
                "requested": float(sample.requested),
                "label": str((record.get("metadata") or {}).get("requested_label", f"{sample.requested:g}")),
                "score": sample.score, "words": scores.get("words"),
                "output_tokens": completion.get("completion_tokens"),
                "cut": 100.0 * (completion.get("finish_reason") == "length") if not completion.get("error") else None,
                "repeated_4gram": scores.get("repeated_4gram"), "distinct_2": scores.get("distinct_2"),
                "quality": scores.get("quality"),  # from `lc-bench judge`, when it ran
            })
    if not rows:
        return pd.DataFrame(columns=GENERATION_COLUMNS)
    frame = pd.DataFrame(rows)
    for name in ("score", "words", "output_tokens", "cut", "repeated_4gram", "distinct_2", "quality"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(np.float64)
    keys = ["model", "task", "target_length", "requested", "label"]
    table = frame.groupby(keys, sort=True).agg(
        n=("score", "count"), score=("score", "mean"), words=("words", "mean"),
        output_tokens=("output_tokens", "mean"), cut=("cut", "mean"),
        repeated_4gram=("repeated_4gram", "mean"), distinct_2=("distinct_2", "mean"), quality=("quality", "mean"),
    )
    return table.reset_index()[GENERATION_COLUMNS]
