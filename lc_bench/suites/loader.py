"""Suites: YAML files that select and parameterise tasks (no code in YAML).

A suite names tasks and default lengths, depths, samples, task parameters, and optionally a
runner with its options; command-line
options override any of them. `--suite NAME` finds a shipped suite, `--suite FILE.yaml` a user's.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lc_bench.errors import UsageError


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    tasks: list[str]
    lengths: str | None = None
    depths: str | None = None
    samples: int | None = Field(None, ge=1)
    task_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # e.g. a team's CI suite that always runs against its vllm serve endpoint
    runner: str | None = None
    runner_options: dict[str, Any] = Field(default_factory=dict)


def shipped_suites() -> list[str]:
    folder = resources.files("lc_bench") / "suites"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_suite(name: str) -> Suite:
    path = Path(name)
    if name.endswith((".yaml", ".yml")):
        if not path.exists():
            raise UsageError(f"suite file {name} not found")
        text = path.read_text(encoding="utf-8")
    else:
        if name not in shipped_suites():
            raise UsageError(f"unknown suite {name!r} (shipped: {', '.join(shipped_suites())})")
        text = (resources.files("lc_bench") / "suites" / f"{name}.yaml").read_text(encoding="utf-8")
    try:
        return Suite.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise UsageError(f"suite {name} is malformed: {str(exc).splitlines()[0]}") from None
