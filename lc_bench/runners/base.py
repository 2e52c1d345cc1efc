"""The Runner protocol: `generate(requests) -> completions`, knowing no task.

Batching, concurrency and retries live inside a runner. Completions may be yielded in any order
(each carries its request's key), so a store can record each one as soon as it exists.

Every member the run loop uses is declared on `Runner`; `RunnerDefaults` supplies the optional
ones, so a runner (built-in or plugin) overrides only what it needs and nothing is discovered by
`getattr`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from lc_bench.config import describe_error, shown_value
from lc_bench.errors import UsageError
from lc_bench.models import ModelRef
from lc_bench.registry import close_matches, one_error_per_field
from lc_bench.runners.secrets import is_secret_option, mask_secret_fields
from lc_bench.schema import Completion, GenerationError, Request
from lc_bench.tokenizers import ModelTokenizer


class RunnerOptions(BaseModel):
    """Base for each runner's options: typed, and unknown keys are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class RunnerContext:
    model: ModelRef
    tokenizer: ModelTokenizer


class Runner(Protocol):
    """Everything the run loop may use of a runner, built as `runner_class(context, options)`.

    The class-level members (`feeds_token_ids`, `volatile_options`, `identity_of`) are read before
    any runner exists, so checking an invocation or computing resume keys loads no model.
    """

    name: ClassVar[str]
    options_model: ClassVar[type[RunnerOptions]]
    # True when the runner tokenizes prompts with the model's own tokenizer (hf, vllm): a separate
    # `--tokenizer` (meant for API models) would measure tokens the model never sees.
    feeds_token_ids: ClassVar[bool]
    # Options that change how requests are placed or scheduled (devices, batching, simulated
    # faults), not the outputs: left out of the identity, so changing them still resumes a run.
    volatile_options: ClassVar[tuple[str, ...]]
    context: RunnerContext
    options: RunnerOptions

    @classmethod
    def identity_of(cls, context: RunnerContext, options: Any) -> dict[str, Any]:
        """What decides this runner's outputs (model, options), computed without loading anything.
        Every resume key hashes it, so it must never change for an existing runner."""
        ...

    def identity(self) -> dict[str, Any]:
        """`identity_of` this runner's own context and options."""
        ...

    @classmethod
    def served_by(cls, context: RunnerContext, options: Any) -> str | None:
        """Who answers for a model behind an API (served name @ hosts): the model's identity
        when its weights are not here to fingerprint. None for runners that load the model."""
        ...

    def prepare(self, max_total_tokens: int) -> None:
        """Called once before the run folder is touched, with the run's longest request (prompt
        plus output tokens): a runner that can fail on size (engine start, KV cache) fails here,
        as bad input, rather than in a half-written run."""
        ...

    def generate(self, requests: Sequence[Request]) -> Iterator[Completion]: ...

    def usage_summary(self) -> dict[str, Any] | None:
        """This invocation's accounting (tokens, attempts, cost) for the manifest; None if none."""
        ...

    def close(self) -> None: ...


def parse_options(runner_class: type, options: dict[str, Any]) -> RunnerOptions:
    """The runner's typed options; bad ones are one line naming the option, the bad value and the
    closest valid option or value (did you mean)."""
    fields = runner_class.options_model.model_fields
    for name, value in options.items():
        if name in fields and _wants_path(fields[name].annotation) and _looks_like_json(value):
            raise UsageError(
                f"runner {runner_class.name}: option {name} wants a path to a JSON file, not inline JSON "
                f"(got {shown_value(value)}): write the JSON to a file and pass its path"
            )
    try:
        return runner_class.options_model(**options)
    except ValidationError as exc:
        problems = []
        for error in one_error_per_field(exc.errors()):
            name = str(error["loc"][0]) if error["loc"] else ""
            if error["type"] == "extra_forbidden" and len(error["loc"]) == 1:
                close = close_matches(name, fields)
                hint = f"did you mean {', '.join(close)}?" if close else f"options: {', '.join(fields) or 'none'}"
                problems.append(f"option {name} is unknown ({hint})")
            elif error["type"] == "path_type" and _looks_like_json(error["input"]):
                problems.append(f"option {name} wants a path to a JSON file, not inline JSON "
                                f"(got {shown_value(error['input'])})")
            else:
                problems.append(f"option {describe_error(error, {})}")
        raise UsageError(f"runner {runner_class.name}: {'; '.join(problems)}") from None


def _wants_path(annotation: Any) -> bool:
    """True when a field's type is a file path (`Path`, `Path | None`, ...)."""
    import typing
    from pathlib import PurePath

    if isinstance(annotation, type) and issubclass(annotation, PurePath):
        return True
    return any(_wants_path(argument) for argument in typing.get_args(annotation))


def _looks_like_json(value: Any) -> bool:
    """A JSON object or list, parsed or as text, given where a file path belongs."""
    return isinstance(value, dict | list) or (isinstance(value, str) and value.lstrip().startswith(("{", "[")))


def public_options(options: RunnerOptions) -> dict[str, Any]:
    """Options safe to write to disk (the manifest, resume identities): a top-level option named
    like a secret is left out, and a secret-named field inside a nested option (extra_body's
    `api_key`, a `headers` dict's `Authorization`) is masked, at any depth."""
    return {
        name: mask_secret_fields(value)
        for name, value in options.model_dump(mode="json").items()
        if not is_secret_option(name)
    }


class RunnerDefaults:
    """The optional members of `Runner`; a runner inherits them and overrides what it needs."""

    name: ClassVar[str]
    feeds_token_ids: ClassVar[bool] = False
    volatile_options: ClassVar[tuple[str, ...]] = ()
    context: RunnerContext
    options: RunnerOptions

    @classmethod
    def identity_of(cls, context: RunnerContext, options: Any) -> dict[str, Any]:
        """Runner name, model name and the public options minus the volatile ones (the dict that
        the resume keys of existing runs were hashed from: keep it as it is)."""
        kept = {k: v for k, v in public_options(options).items() if k not in cls.volatile_options}
        return {"runner": cls.name, "model": context.model.name, **kept}

    def identity(self) -> dict[str, Any]:
        return type(self).identity_of(self.context, self.options)

    @classmethod
    def served_by(cls, context: RunnerContext, options: Any) -> str | None:
        return None

    def prepare(self, max_total_tokens: int) -> None:
        """Nothing to check ahead: whatever the runner needs was set up by its constructor."""

    def usage_summary(self) -> dict[str, Any] | None:
        return None

    def close(self) -> None:
        """Nothing held that garbage collection would not free."""


def error_completion(key: str, exc: BaseException, latency_s: float | None = None) -> Completion:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return Completion(
        key=key,
        finish_reason="error",
        latency_s=latency_s,
        error=GenerationError(type=type(exc).__name__, message=message[:500]),
    )


def stop_token_ids(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """The token id each stop text stands for: the last id of its plain encoding, as LongBench's
    pred.py takes `tokenizer.encode("\\n", add_special_tokens=False)[-1]` (a tokenizer may put a
    prefix-space token first)."""
    ids = []
    for text in texts:
        encoded = tokenizer.encode(text)
        if encoded:
            ids.append(encoded[-1])
    return ids


def cut_at_stop_token_text(text: str, stop_tokens: Sequence[str], min_new_tokens: int) -> tuple[str, bool]:
    """Token stops applied to a reply's text, for runners that cannot stop on a token id (API and
    test runners). A local runner suppresses the stop token (and end-of-sequence) for the first
    `min_new_tokens` tokens, so the model writes something else there; here the closest reading is
    to pass over stop texts that open the reply, then cut at the next one."""
    if not stop_tokens:
        return text, False
    start = 0
    if min_new_tokens > 0:
        opening = True
        while opening:
            opening = False
            for stop in stop_tokens:
                if stop and text.startswith(stop, start):
                    start += len(stop)
                    opening = True
    cut, stopped = cut_at_stop(text[start:], stop_tokens)
    return cut, stopped


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """Truncate at the first stop string; report whether one was found."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
