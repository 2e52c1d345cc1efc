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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
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


SPEC_FIELDS = tuple(sorted(field.name for field in fields(SampleSpec)))


def spec_key(spec: SampleSpec, runner_identity: dict[str, Any], params: GenerationParams) -> str:
    """The resume key of a spec'd sample (same form as `runloop.sample_key`, a different hash): the
    SHA-256 of the canonical JSON of {"spec": its fields, "runner": ..., "generation": ...}."""
    return next(spec_keys([spec], runner_identity, params))


def spec_keys(specs: Iterable[SampleSpec], runner_identity: dict[str, Any], params: GenerationParams) -> Iterator[str]:
    """`spec_key` of each spec, the runner's and generation's part serialised once: a rerun of a
    finished run computes a key per sample and builds nothing, so these keys are most of its cost.
    The text hashed is exactly the canonical JSON of the whole payload (keys sorted: generation,
    runner, spec), so the keys are those of every earlier release."""
    head = ('{"generation":' + canonical_json(params.model_dump(mode="json"))
            + ',"runner":' + canonical_json(runner_identity) + ',"spec":').encode("utf-8")
    for spec in specs:
        body = canonical_json({name: getattr(spec, name) for name in SPEC_FIELDS})
        yield hashlib.sha256(head + body.encode("utf-8") + b"}").hexdigest()[:32]
