"""The Runner protocol: `generate(requests) -> completions`, knowing no task.

Batching, concurrency and retries live inside a runner. Completions may be yielded in any order
(each carries its request's key), so a store can record each one as soon as it exists.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from lc_bench.errors import UsageError
from lc_bench.models import ModelRef
from lc_bench.schema import Completion, GenerationError, Request
from lc_bench.tokenizers import ModelTokenizer

SECRET_WORDS = ("key", "token", "secret", "password", "authorization")


class RunnerOptions(BaseModel):
    """Base for each runner's options: typed, and unknown keys are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class RunnerContext:
    model: ModelRef
    tokenizer: ModelTokenizer


class Runner(Protocol):
    name: ClassVar[str]
    options_model: ClassVar[type[RunnerOptions]]

    def identity(self) -> dict[str, Any]:
        """What decides this runner's outputs (model, options); part of every resume key."""
        ...

    def generate(self, requests: Sequence[Request]) -> Iterator[Completion]: ...

    def close(self) -> None: ...


def parse_options(runner_class: type, options: dict[str, Any]) -> RunnerOptions:
    try:
        return runner_class.options_model(**options)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "options"
        raise UsageError(f"runner {runner_class.name}: option {where}: {problem['msg']}") from None


def public_options(options: RunnerOptions) -> dict[str, Any]:
    """Options safe to write to disk: anything named like a secret is left out."""
    return {
        name: value
        for name, value in options.model_dump(mode="json").items()
        if not any(word in name.lower() for word in SECRET_WORDS) or name.lower().endswith("_env")
    }


def runner_identity(runner: Any, volatile: tuple[str, ...] = ()) -> dict[str, Any]:
    """Runner name, model and the public options that decide outputs; `volatile` options
    (placement, batching, simulated faults) are left out so changing them still resumes."""
    options = {k: v for k, v in public_options(runner.options).items() if k not in volatile}
    return {"runner": runner.name, "model": runner.context.model.name, **options}


def error_completion(key: str, exc: BaseException, latency_s: float | None = None) -> Completion:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return Completion(
        key=key,
        finish_reason="error",
        latency_s=latency_s,
        error=GenerationError(type=type(exc).__name__, message=message[:500]),
    )


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """Truncate at the first stop string; report whether one was found."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
