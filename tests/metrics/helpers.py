"""Run folders written record by record, for hand-computed leaderboard cases.

Records and manifests are built through the contract types (`Record`, `RunManifest`), so a field
added to or renamed in the contract reaches these fixtures too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lc_bench.axes import TaskReport
from lc_bench.schema import Completion, GenerationError, Record, RunManifest

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


def record(row: Row, flat_score: bool = True) -> str:
    """One records.jsonl line; flat_score=False writes the oldest format (no `score`, no `family`)."""
    built = Record(
        schema_version=2, key=row.key, task=row.task, family=row.family, sample_id=f"{row.task}/{row.key}",
        model=row.model, runner=row.runner, target_length=row.length, depth=row.depth,
        input_tokens=row.length - 100, template_overhead=0, max_new_tokens=100, truncated=row.truncated,
        references=("42",), prompt_sha256="0" * 64, prompt_head="head", prompt_tail="tail",
        primary_metric="string_match_all",
        metadata={
            **({"length_bucket": row.bucket} if row.bucket else {}),
            **({"difficulty": row.difficulty} if row.difficulty else {}),
        },
        scores={} if row.error else {"string_match_all": row.score, "other": 1.0},
        completion=Completion(
            key=row.key, text=row.output, finish_reason="error" if row.error else "stop",
            error=GenerationError(type="E", message="boom") if row.error else None,
        ),
        score=None if row.error else row.score,
        created="t",
    )
    exclude = set() if flat_score else {"score", "family", "schema_version"}
    return built.model_dump_json(exclude=exclude)


def write_run(
    folder: Path, rows: list[Row], flat_score: bool = True, extra_lines: tuple[str, ...] = (),
    reports: dict[str, TaskReport] | None = None,
) -> Path:
    """A run folder; `reports` are the task declarations its manifest carries (none: release 0.1)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = RunManifest(**MANIFEST, task_reports=reports or {})
    (folder / "manifest.json").write_text(manifest.model_dump_json())
    lines = [record(row, flat_score) for row in rows]
    with (folder / "records.jsonl").open("w") as handle:
        handle.write("\n".join([*lines, *extra_lines]) + "\n")
    return folder


def scored(prefix: str, hits: int, total: int, **fields) -> list[Row]:
    """`total` samples of which `hits` score 100 and the rest 0."""
    return [Row(f"{prefix}{i}", 100.0 if i < hits else 0.0, **fields) for i in range(total)]
