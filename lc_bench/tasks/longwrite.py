"""`longwrite`: writing requests with a required length, scored by LongBench-Write's length score.

The package ships its own prompts (lc_bench/data/longwrite/prompts.jsonl: several genres, 100 to
20,000 words, some in Chinese, in LongBench-Write's {prompt, type, length} layout); `data=FILE`
reads LongBench-Write's longbench_write.jsonl or LongWrite-Ruler's longwrite_ruler.jsonl as they
are published. Each prompt gets the whole window left after it as its output budget (LongWriter
gives 32,768 new tokens), capped by `max_output_tokens`; prompts whose request cannot fit get a
warning. The record's requested length feeds the leaderboard's output-length axis.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from lc_bench.axes import ReportAxes
from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.longgen import count_words, length_score, shape_checks
from lc_bench.tasks.base import BuildContext, JudgePlan, TaskBase, TaskParams
from lc_bench.tasks.datafiles import read_jsonl
from lc_bench.tasks.generation import DEFAULT_MAX_OUTPUT_TOKENS, OUTPUT_LENGTH, GenerationSamples
from lc_bench.tasks.generation_judges import LongWriteQuality


class LongWriteParams(TaskParams):
    data: str = Field("builtin", description="builtin | LongBench-Write or LongWrite-Ruler .jsonl (prompt, length)")
    max_output_tokens: int = Field(DEFAULT_MAX_OUTPUT_TOKENS, ge=1, description="cap on each output budget")


def load_prompts(data: str) -> list[dict[str, Any]]:
    if data == "builtin":
        path = Path(str(resources.files("lc_bench") / "data" / "longwrite" / "prompts.jsonl"))
    else:
        path = Path(data).expanduser()
        if not path.exists():
            raise UsageError(f"longwrite data {path} not found")
    rows = read_jsonl(path)
    for number, row in enumerate(rows, 1):
        if not isinstance(row.get("prompt"), str) or not isinstance(row.get("length"), int | float):
            raise UsageError(f'{path}: prompt {number} needs "prompt" and a numeric "length" (LongBench-Write layout)')
    if not rows:
        raise UsageError(f"{path} holds no prompts")
    return sorted(rows, key=lambda row: row["length"])  # shortest first: small runs get short requests


@TASKS.register("longwrite")
class LongWrite(TaskBase):
    """Write to a required length; LongBench-Write's length score S_l (words, or CJK characters)."""

    name: ClassVar[str] = "longwrite"
    family: ClassVar[str] = "longgen"
    report: ClassVar[ReportAxes] = ReportAxes(output_length=OUTPUT_LENGTH)
    judge_plan: ClassVar[JudgePlan | None] = LongWriteQuality()
    description: ClassVar[str] = "LongBench-Write length adherence: S_l on words / CJK characters"
    params_model: ClassVar[type[TaskParams]] = LongWriteParams
    primary_metric: ClassVar[str] = "length_score"
    default_max_new_tokens: ClassVar[int] = DEFAULT_MAX_OUTPUT_TOKENS

    def __init__(self, params: LongWriteParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        rows = load_prompts(self.params.data)[: context.samples_per_cell]
        samples = []
        for length in context.lengths:
            batch = GenerationSamples(context, self.name, length, self.params.max_output_tokens)
            for index, row in enumerate(rows):
                batch.add(
                    (ChatMessage(role="user", content=row["prompt"]),), row["length"], str(index),
                    references=(str(row["length"]),),
                    metadata={"type": row.get("type", ""), "request": row["prompt"]},
                )
            samples += batch.finish()
        return samples

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        return {"length_score": length_score(float(references[0]), count_words(output)), **shape_checks(output)}
