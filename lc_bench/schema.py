"""The plain data types that flow between stages: Sample -> Request -> Completion -> Record.

Every type is a frozen pydantic model that refuses unknown fields, so a stage can be tested
alone and a run can be re-scored or re-reported from its records without a model.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lc_bench.axes import TaskReport


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChatMessage(Frozen):
    role: Literal["system", "user", "assistant"]
    content: str


class Sample(Frozen):
    """One prompt built by a task at a target length. Knows no model."""

    task: str
    sample_id: str
    messages: tuple[ChatMessage, ...]
    references: tuple[str, ...]
    target_length: int = Field(description="requested tokens: input + max_new_tokens")
    input_tokens: int = Field(description="the model tokenizer's count of the rendered prompt")
    template_overhead: int = Field(0, description="tokens the chat template adds around the content")
    max_new_tokens: int
    use_chat_template: bool = True
    answer_prefix: str = Field("", description="text the assistant turn starts with (RULER's prefix)")
    stop: tuple[str, ...] = ()
    # texts that encode to one token each (e.g. "\n"): that token ends generation like an extra
    # end-of-sequence id (LongBench's samsum adds the newline token to eos_token_id)
    stop_tokens: tuple[str, ...] = ()
    # generated tokens before a stop token or end-of-sequence may end it (LongBench: min_length =
    # prompt length + 1, so a first newline token does not end an empty reply)
    min_new_tokens: int = Field(0, ge=0)
    depth: float | None = None
    needle_token_position: int | None = None
    truncated: bool = False
    # the rendered prompt around the sample's evidence (its needle), for readers of the report;
    # derived from the prompt, so it is left out of the resume key
    focus_excerpt: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)


class GenerationParams(Frozen):
    """Decoding settings; part of every resume key. Greedy unless a temperature is given."""

    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0


class Request(Frozen):
    """What a runner sees: messages and limits, never the references."""

    key: str
    messages: tuple[ChatMessage, ...]
    use_chat_template: bool
    answer_prefix: str = ""
    input_tokens: int | None = None  # as measured by the model's tokenizer (rate limits, ordering)
    max_new_tokens: int
    stop: tuple[str, ...] = ()
    stop_tokens: tuple[str, ...] = ()  # see Sample.stop_tokens
    min_new_tokens: int = Field(0, ge=0)
    params: GenerationParams = GenerationParams()
    # which call of a multi-call task this is (1: the sample's prompt; 2: the task's follow-up)
    stage: int = Field(1, ge=1)


class GenerationError(Frozen):
    type: str
    message: str


class Completion(Frozen):
    key: str
    text: str = ""
    finish_reason: Literal["stop", "length", "error"] = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None  # the request's own time (API runners: from sending it to its answer)
    queue_s: float | None = None  # API runners: time waiting for a concurrency slot or rate limit first
    attempts: int | None = None  # API runners: tries this outcome took (retries included)
    error: GenerationError | None = None


# Version 1: records written before the field existed (release 0.1); they load unchanged.
RECORD_SCHEMA_VERSION = 2


class Record(Frozen):
    """One JSON line in records.jsonl: a sample, its completion and its scores.

    The one contract between a run and everything after it: the reporting layer reads these
    fields (its Arrow schema is derived from this class) and the manifest's task declarations.
    The full prompt is not stored (at 128k tokens it would dominate the file); it is reproducible
    from the seed, and its hash, head and tail are kept for inspection.
    """

    schema_version: int = 1
    key: str
    task: str
    family: str = ""
    sample_id: str
    model: str
    runner: str
    target_length: int
    input_tokens: int
    template_overhead: int
    max_new_tokens: int
    depth: float | None = None
    needle_token_position: int | None = None
    truncated: bool = False
    references: tuple[str, ...]
    prompt_sha256: str
    prompt_head: str
    prompt_tail: str
    focus_excerpt: str = ""  # the prompt around the sample's evidence, when its task marks one
    metadata: dict[str, Any] = Field(default_factory=dict)
    completion: Completion
    # earlier calls of a multi-call task (e.g. the chain of thought before the answer call)
    stages: tuple[Completion, ...] = ()
    # `lc-bench judge`: the judge's runner, model, prompt, raw verdict and what was parsed from it
    judge: dict[str, Any] | None = None
    scores: dict[str, float] = Field(default_factory=dict)
    primary_metric: str
    # the short id of the settings beyond the model that decided this output (seed, temperature,
    # output-budget override, runner options): the leaderboard never pools two settings ("": release 0.1)
    settings: str = ""
    # the protocol the record was made under: "lc_bench" (its own defaults) or a paper preset's name
    protocol: str = "lc_bench"
    # The primary score again, as a flat field: aggregation reads it with a columnar JSON parser
    # (a million records in seconds) without knowing every task's metric names. None on error.
    score: float | None = None
    created: str


class RunManifest(BaseModel):
    """manifest.json: what produced the records. Never holds a secret."""

    model_config = ConfigDict(extra="forbid")

    run_name: str
    lc_bench_version: str
    model: str
    model_path: str | None
    protocol: str = "lc_bench"  # the first invocation's; each invocation's config names its own
    # what tells this model apart from another of the same name (models.model_fingerprint)
    model_fingerprint: str | None = None
    runner: str
    runner_config: dict[str, Any]
    tokenizer: str
    tokenizer_backend: str | None = None  # the library that produced the ids, e.g. "quicktok-v1 0.4.0"
    chat_template_sha256: str | None
    context_window: int | None
    seed: int
    config: dict[str, Any]
    package_versions: dict[str, str]
    git_revision: str | None
    python: str
    platform: str
    started: str
    ended: str | None = None
    invocations: list[dict[str, Any]] = Field(default_factory=list)
    # each task's family and report axes, as its code declared them when it ran: the reporting
    # layer builds its tables from these (absent in manifests written before release 0.2)
    task_reports: dict[str, TaskReport] = Field(default_factory=dict)
