"""One validated configuration object for a run: what the CLI flags and suites resolve into.

It is written to the manifest; the parts that decide outputs go into each sample's resume key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tasks: tuple[str, ...] = ("niah",)
    task_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    lengths: tuple[int, ...] = (1024, 2048, 4096)
    depths: tuple[float, ...] = (0.0, 50.0, 100.0)
    samples_per_cell: int = Field(1, ge=1)
    seed: int = 0
    runner: str = "hf"
    runner_options: dict[str, Any] = Field(default_factory=dict)
    model: str | None = None
    tokenizer: str | None = None  # None: the model's own; "tiktoken[:ENCODING]" or an HF folder / hub id
    max_new_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(0.0, ge=0.0)
    out_dir: Path = Path("results")
    run_name: str | None = None
