"""Sample specifications: what decides a sample, known without building it.

A grid task's sample depends only on (task, task params, target length, depth, index, seed, reply
budget, tokenizer) and on how lc_bench builds samples (`SAMPLE_FORMAT_VERSION`). Its resume key
hashes that specification with the runner's identity and the generation parameters, so a rerun of
a finished run finds every key recorded without building a single prompt (building one 128k
sample takes most of a second).

Bump `SAMPLE_FORMAT_VERSION` whenever a change to a task's building changes its samples: every
spec key changes with it, and finished runs generate again rather than keep stale records.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel

from lc_bench.schema import GenerationParams
from lc_bench.tokenizers import ModelTokenizer

SAMPLE_FORMAT_VERSION = 1


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def params_json(params: BaseModel | None) -> str:
    """A task's parameters as canonical JSON (the same settings always give the same text)."""
    return canonical_json(params.model_dump(mode="json") if params is not None else {})


def tokenizer_fingerprint(tokenizer: ModelTokenizer) -> str:
    """Name, backend and chat template hash: what decides how a prompt is tokenized and rendered."""
    return f"{tokenizer.name}|{tokenizer.backend}|{tokenizer.chat_template_sha256 or '-'}"


@dataclass(frozen=True)
class SampleSpec:
    """One sample of a grid task, before it is built."""

    task: str
    params: str  # canonical JSON of the task's parameters
    target_length: int
    depth: float | None  # None: the task has no depth axis, or depths are random
    index: int
    seed: int
    max_new_tokens: int | None  # the run's override (None: the task's default)
    protocol: str
    tokenizer: str  # `tokenizer_fingerprint`
    format_version: int = SAMPLE_FORMAT_VERSION

    @property
    def cell(self) -> tuple[str, int]:
        return (self.task, self.target_length)


def spec_key(spec: SampleSpec, runner_identity: dict[str, Any], params: GenerationParams) -> str:
    """The resume key of a spec'd sample (same form as `runloop.sample_key`, a different hash)."""
    payload = {
        "spec": asdict(spec),
        "runner": runner_identity,
        "generation": params.model_dump(mode="json"),
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()[:32]
