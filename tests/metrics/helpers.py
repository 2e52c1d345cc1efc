"""Run folders written record by record, for hand-computed leaderboard cases."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MANIFEST = dict(
    run_name="r", lc_bench_version="0", model="m", model_path=None, runner="echo",
    runner_config={}, tokenizer="m", chat_template_sha256=None, context_window=None, seed=0,
    config={}, package_versions={}, git_revision=None, python="3", platform="x", started="t",
)


@dataclass(frozen=True)
class Row:
    key: str
    score: float | None
    length: int = 1024
    task: str = "niah"
    model: str = "m"
    depth: float | None = None
    error: bool = False
    family: str = "ruler"
    runner: str = "echo"
    output: str = "out"
    truncated: bool = False
    bucket: str | None = None
    difficulty: str | None = None


def record(row: Row, flat_score: bool = True) -> dict:
    data = {
        "key": row.key, "task": row.task, "family": row.family, "sample_id": f"{row.task}/{row.key}",
        "model": row.model, "runner": row.runner, "target_length": row.length, "depth": row.depth,
        "input_tokens": row.length - 100, "truncated": row.truncated, "references": ["42"],
        "prompt_head": "head", "prompt_tail": "tail", "primary_metric": "string_match_all",
        "metadata": {
            **({"length_bucket": row.bucket} if row.bucket else {}),
            **({"difficulty": row.difficulty} if row.difficulty else {}),
        },
        "scores": {} if row.error else {"string_match_all": row.score, "other": 1.0},
        "completion": {
            "key": row.key, "text": row.output, "finish_reason": "error" if row.error else "stop",
            "error": {"type": "E", "message": "boom"} if row.error else None,
        },
    }
    if flat_score:
        data["score"] = None if row.error else row.score
    else:
        del data["family"]
    return data


def write_run(folder: Path, rows: list[Row], flat_score: bool = True, extra_lines: tuple[str, ...] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(MANIFEST))
    lines = [json.dumps(record(row, flat_score)) for row in rows]
    with (folder / "records.jsonl").open("w") as handle:
        handle.write("\n".join([*lines, *extra_lines]) + "\n")
    return folder


def scored(prefix: str, hits: int, total: int, **fields) -> list[Row]:
    """`total` samples of which `hits` score 100 and the rest 0."""
    return [Row(f"{prefix}{i}", 100.0 if i < hits else 0.0, **fields) for i in range(total)]
