"""`openai`: any OpenAI-compatible endpoint (hosted APIs, vllm serve, SGLang, TGI, llama.cpp).

`--model` still names the model's tokenizer (an HF folder or hub id, or the embedded default), so
prompts are fitted to exact lengths with the model's own tokens; `served_model` is the name the
server knows it by. Two modes:

* `chat` (default): /chat/completions; the server applies its chat template. The answer prefix
  cannot start the assistant turn through this API, so it ends the last user message instead.
* `completions`: /completions with the prompt rendered here (chat template and answer prefix
  included), so the server sees exactly the tokens lc_bench measured.

Requests run on an asyncio loop in a background thread with bounded concurrency; completions are
yielded as they finish, and an interrupted run (Ctrl-C) cancels whatever is in flight at once.
Each attempt that fails is classified (see retry.py); every sample ends as one completion: text,
or a typed error with the number of attempts it took. A response that is not what the API promises
(not UTF-8, not JSON, no choices, content not a string, an unknown finish reason) is such an error
for its own sample only; a bad `usage` is ignored (its token counts are recorded as None).

The API key is read from the environment variable the user names (`api_key_env`) and lives only in
the request header: it is never stored in options, records, the manifest, logs or error messages.
Every string that leaves the runner (completion texts, error messages, usage) is scrubbed of it,
and of any secret-named value in the options (extra_body's `api_key`), in any echoed encoding
(secrets.py), before it is cut or normalised.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import queue
import random
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import urlparse

from pydantic import Field, field_validator

from lc_bench.errors import UsageError
from lc_bench.registry import RUNNERS
from lc_bench.runners.base import (
    RunnerContext,
    RunnerDefaults,
    RunnerOptions,
    cut_at_stop,
    cut_at_stop_token_text,
    error_completion,
)
from lc_bench.runners.endpoints import EndpointPool
from lc_bench.runners.ratelimit import RateLimits
from lc_bench.runners.retry import ApiError, Backoff, classify_status
from lc_bench.runners.secrets import Scrubber, control_character_at, secret_values
from lc_bench.schema import Completion, GenerationError, Request

# Recorded error messages: one line, at most this long (cut only after scrubbing).
MESSAGE_CHARS = 500
# Cancelled requests end within milliseconds; a worker stuck longer (in a DNS lookup) is a daemon
# thread that dies with the process, so an interrupted run does not wait for it.
STOP_WAIT_S = 1.0
# finish_reason values servers send, by what they mean here; any other value is a malformed answer.
# None: servers that leave it out. content_filter and tool calls still ended the model's turn.
FINISH_REASONS: dict[str | None, Literal["stop", "length"]] = {
    None: "stop", "stop": "stop", "eos": "stop", "eos_token": "stop", "stop_sequence": "stop",
    "end_turn": "stop", "content_filter": "stop", "tool_calls": "stop", "function_call": "stop",
    "length": "length", "max_tokens": "length", "model_length": "length",
}


class OpenAIOptions(RunnerOptions):
    base_url: str = Field("http://127.0.0.1:8000/v1", description="API root, e.g. https://api.openai.com/v1")
    endpoints: list[str] = Field(
        default_factory=list, description="replica roots to spread over with failover (comma-separated)"
    )
    served_model: str | None = Field(None, description="model name on the server (default: the model's name)")
    mode: Literal["chat", "completions"] = "chat"
    api_key_env: str | None = Field(None, description="name of the environment variable holding the API key")
    concurrency: int = Field(8, ge=1, le=1024)
    timeout_s: float = Field(600.0, gt=0)
    max_attempts: int = Field(6, ge=1, le=100)
    backoff_s: float = Field(1.0, ge=0, allow_inf_nan=False, description="first retry's backoff ceiling (doubles)")
    backoff_max_s: float = Field(
        60.0, ge=0, allow_inf_nan=False,
        description="longest wait before a retry, a server's Retry-After included (inf or a far date is capped)",
    )
    requests_per_minute: float | None = Field(None, gt=0)
    tokens_per_minute: float | None = Field(None, gt=0)
    price_input_per_mtok: float | None = Field(None, ge=0, description="USD per million prompt tokens")
    price_output_per_mtok: float | None = Field(None, ge=0, description="USD per million completion tokens")
    extra_body: dict[str, Any] = Field(default_factory=dict, description="extra JSON fields, e.g. {\"top_k\": 1}")

    @field_validator("endpoints", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("base_url", "endpoints")
    @classmethod
    def _http(cls, value: Any) -> Any:
        for url in [value] if isinstance(value, str) else value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value


@dataclass
class Usage:
    """Token and cost accounting over one invocation (written to the manifest)."""

    requests: int = 0
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failed: int = 0

    def cost_usd(self, options: OpenAIOptions) -> float | None:
        if options.price_input_per_mtok is None and options.price_output_per_mtok is None:
            return None
        return (
            self.prompt_tokens * (options.price_input_per_mtok or 0.0)
            + self.completion_tokens * (options.price_output_per_mtok or 0.0)
        ) / 1e6


def served_model_name(context: RunnerContext, options: OpenAIOptions) -> str:
    """The model name sent to the server: the `served_model` option, else the model's own name."""
    return options.served_model or context.model.name


@dataclass(frozen=True)
class Answer:
    """What a 200 response says, checked: the text, how it ended, and the token counts (None when
    the server's `usage` is missing or not whole non-negative numbers)."""

    text: str
    finish: Literal["stop", "length"]
    prompt_tokens: int | None
    completion_tokens: int | None


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def read_answer(raw: bytes, mode: Literal["chat", "completions"]) -> Answer:
    """Check a 200 response's body; anything but what the API promises raises a retryable
    MalformedResponse naming the problem (the server may do better next time)."""

    def malformed(problem: str) -> ApiError:
        return ApiError("MalformedResponse", problem, True)

    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise malformed(f"response is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except (ValueError, RecursionError) as exc:
        raise malformed(f"response is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise malformed(f"response is {_json_type(data)}, not an object")
    choices = data.get("choices")
    if choices is None:
        raise malformed("`choices` is missing")
    if not isinstance(choices, list):
        raise malformed(f"`choices` is {_json_type(choices)}, not a list")
    if not choices:
        raise malformed("`choices` is an empty list")
    choice = choices[0]
    if not isinstance(choice, dict):
        raise malformed(f"`choices[0]` is {_json_type(choice)}, not an object")
    if mode == "chat":
        message = choice.get("message")
        if not isinstance(message, dict):
            raise malformed(f"`choices[0].message` is {_json_type(message)}, not an object")
        field, content = "choices[0].message.content", message.get("content")
    else:
        field, content = "choices[0].text", choice.get("text")
    reason = choice.get("finish_reason")
    finish = FINISH_REASONS.get(reason) if reason is None or isinstance(reason, str) else None
    if finish is None:
        raise malformed(f"unknown finish_reason {json.dumps(reason)}")
    if content is None and finish == "length":
        content = ""  # a reasoning model spent its whole budget before answering
    if not isinstance(content, str):
        raise malformed(f"`{field}` is {_json_type(content)}, not a string")
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    return Answer(content, finish, _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens")))


class _Done:
    """End-of-stream marker on the completion queue."""


class _Background:
    """One `generate` call's asyncio loop on its own thread, stoppable from the caller's thread:
    Ctrl-C (or a consumer that stops reading) cancels every request in flight rather than waiting
    for the slowest one, so an interrupted run exits in moments."""

    def __init__(self, work: Coroutine[Any, Any, None], finished: Callable[[], None]) -> None:
        self.loop = asyncio.new_event_loop()
        self.task = self.loop.create_task(work)
        self.failure: BaseException | None = None
        self._finished = finished
        self.thread = threading.Thread(target=self._run, name="lc-bench-openai", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self.task)
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self.failure = exc
        finally:
            try:
                self.loop.run_until_complete(self.loop.shutdown_default_executor())
            finally:
                self.loop.close()
                self._finished()

    def stop(self) -> None:
        """Cancel the work (nothing to do once it ended) and give its thread STOP_WAIT_S to end."""
        with contextlib.suppress(RuntimeError):  # the loop has already closed
            self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(STOP_WAIT_S)


STREAM_AHEAD = 4  # requests built ahead per concurrent slot: the endpoint never waits, memory stays bounded


class _Feeder:
    """Takes requests from a stream on a daemon thread of its own, so building the next samples
    never blocks the event loop (requests in flight keep being answered and timed), at most `window`
    requests ahead of their answers (`slots`). The stream runs in a copy of the caller's context
    (the run's fixture-warning bookkeeping), and an interrupted run does not wait for it."""

    def __init__(self, source: Iterator[Request], loop: asyncio.AbstractEventLoop, window: int) -> None:
        self.source = source
        self.loop = loop
        self.slots = threading.Semaphore(window)
        self.queue: asyncio.Queue[Request | BaseException | None] = asyncio.Queue()
        self.context = contextvars.copy_context()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="lc-bench-build", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()

    async def next(self) -> Request | None:
        item = await self.queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def _put(self, item: Request | BaseException | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: the run is over
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)

    def _run(self) -> None:
        try:
            while not self.stopped.is_set():
                while not self.slots.acquire(timeout=0.2):
                    if self.stopped.is_set():
                        return
                request = self.context.run(next, self.source, None)
                self._put(request)
                if request is None:
                    return
        except BaseException as exc:  # noqa: BLE001 - bad input found while building: raised in the run
            self._put(exc)


@RUNNERS.register("openai")
class OpenAIRunner(RunnerDefaults):
    """OpenAI-compatible chat or completions API: concurrency, retries, rate limits, failover."""

    name: ClassVar[str] = "openai"
    options_model: ClassVar[type[RunnerOptions]] = OpenAIOptions
    streams_requests: ClassVar[bool] = True  # requests go out while later samples are being built
    # Options that change how requests travel, not what the model answers: changing them resumes.
    volatile_options: ClassVar[tuple[str, ...]] = (
        "base_url", "endpoints", "api_key_env", "concurrency", "timeout_s", "max_attempts", "backoff_s",
        "backoff_max_s", "requests_per_minute", "tokens_per_minute", "price_input_per_mtok",
        "price_output_per_mtok",
    )

    @classmethod
    def served_by(cls, context: RunnerContext, options: OpenAIOptions) -> str | None:
        """The served model name at its hosts: two servers answering to one name are two models
        (replicas of one run are listed together with --endpoints)."""
        hosts = sorted({urlparse(url).hostname or url for url in (options.endpoints or [options.base_url])})
        return f"{served_model_name(context, options)}@{','.join(hosts)}"

    def __init__(self, context: RunnerContext, options: OpenAIOptions) -> None:
        self.context = context
        self.options = options
        api_key = self._read_key(options.api_key_env)
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._scrub = Scrubber([api_key or "", *secret_values(options.model_dump(mode="json"))])
        self.pool = EndpointPool(options.endpoints or [options.base_url])
        self.usage = Usage()
        self._backoff = Backoff(options.backoff_s, options.backoff_max_s, retry_after_cap_s=options.backoff_max_s)
        self._rng = random.Random()
        self._worker: _Background | None = None

    @staticmethod
    def _read_key(variable: str | None) -> str | None:
        """The key, checked before any request: a control character (a key file's newline) would
        make every request fail in the HTTP layer instead of saying what is wrong."""
        if variable is None:
            return None
        value = os.environ.get(variable)
        if not value:
            raise UsageError(f"runner openai: environment variable {variable} (api_key_env) is not set")
        position = control_character_at(value)
        if position is not None:
            raise UsageError(
                f"runner openai: the API key in {variable} (api_key_env) has a control character or line break "
                f"(character {position + 1} of {len(value)}); remove it"
            )
        return value

    @property
    def served_model(self) -> str:
        return served_model_name(self.context, self.options)

    @classmethod
    def identity_of(cls, context: RunnerContext, options: OpenAIOptions) -> dict[str, Any]:
        """The name the server is asked for decides the answers, even when left to its default."""
        return {**super().identity_of(context, options), "served_model": served_model_name(context, options)}

    def usage_summary(self) -> dict[str, Any]:
        summary = dict(vars(self.usage))
        cost = self.usage.cost_usd(self.options)
        if cost is not None:
            summary["cost_usd"] = round(cost, 8)
        return self._scrub.json(summary)

    def close(self) -> None:
        """Cancel whatever is still in flight (an interrupted run) without waiting for it."""
        if self._worker is not None:
            self._worker.stop()

    # -- request shaping -------------------------------------------------------------------------

    def payload(self, request: Request) -> tuple[str, dict[str, Any]]:
        """The path and JSON body of one request."""
        body: dict[str, Any] = {
            "model": self.served_model,
            "max_tokens": request.max_new_tokens,
            "temperature": request.params.temperature,
            "top_p": request.params.top_p,
            "seed": request.params.seed,
        }
        if request.stop:
            body["stop"] = list(request.stop)
        if self.options.mode == "completions":
            tokenizer = self.context.tokenizer
            body["prompt"] = tokenizer.render(request.messages, request.use_chat_template, request.answer_prefix)
            path = "/completions"
        else:
            messages = [message.model_dump() for message in request.messages]
            if request.answer_prefix:
                last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
                # RULER's API client sends input + answer_prefix as one user message; the prefix's own
                # leading space separates them
                messages[last_user]["content"] = messages[last_user]["content"] + request.answer_prefix
            body["messages"] = messages
            path = "/chat/completions"
        body.update(self.options.extra_body)
        return path, body

    def _completion(self, request: Request, answer: Answer) -> Completion:
        """The answer as recorded: scrubbed (a model can be made to echo its request's key), then
        cut at the first stop string."""
        text, stopped = cut_at_stop(self._scrub(answer.text), request.stop)
        if request.stop_tokens:  # no API stops on a token id, and none can forbid it as the first token
            text, token_stopped = cut_at_stop_token_text(text, request.stop_tokens, request.min_new_tokens)
            stopped = stopped or token_stopped
        return Completion(
            key=request.key,
            text=text,
            finish_reason="length" if answer.finish == "length" and not stopped else "stop",
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
        )

    def _message(self, error: ApiError) -> str:
        """An error's recorded message: scrubbed while whole, then one line of MESSAGE_CHARS."""
        return " ".join(self._scrub(str(error)).split())[:MESSAGE_CHARS]

    # -- one request, with retries ---------------------------------------------------------------

    async def _attempt(self, session: Any, request: Request, path: str, body: dict[str, Any]) -> Completion:
        import aiohttp

        url = self.pool.pick()
        try:
            async with session.post(url + path, json=body, headers=self._headers) as response:
                raw = await response.read()
                status, retry_after = response.status, response.headers.get("Retry-After")
        except TimeoutError:
            raise ApiError("Timeout", f"no answer within {self.options.timeout_s:g} s", True) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            self.pool.mark_down(url)
            raise ApiError("ConnectionError", f"{type(exc).__name__}: {exc}", True) from None
        except aiohttp.ClientError as exc:  # not HTTP at all (a bad status line or header)
            raise ApiError("MalformedResponse", f"{type(exc).__name__}: {exc}", True) from None
        self.pool.mark_up(url)
        if status != 200:
            raise classify_status(status, raw.decode("utf-8", errors="replace"), retry_after)
        return self._completion(request, read_answer(raw, self.options.mode))

    async def _complete(
        self, session: Any, request: Request, gate: asyncio.Semaphore, limits: RateLimits
    ) -> Completion:
        """One request to its one completion, retried as retry.py decides.

        `latency_s` is the final attempt's own time, from sending it to its answer (or failure), so
        it measures the server, not this client's queue; `queue_s` is the time spent before sending:
        waiting for a concurrency slot, and on every attempt for the rate limits. Backoff sleeps
        between attempts are in neither (`attempts` tells there were some).
        """
        waiting = time.perf_counter()
        async with gate:
            queue_s = time.perf_counter() - waiting
            path, body = self.payload(request)  # here, not before the slot: at most `concurrency` held
            last: ApiError | None = None
            latency_s = 0.0
            for attempt in range(1, self.options.max_attempts + 1):
                waiting = time.perf_counter()
                await limits.acquire((request.input_tokens or 0) + request.max_new_tokens)
                sent = time.perf_counter()
                queue_s += sent - waiting
                self.usage.attempts += 1
                try:
                    completion = await self._attempt(session, request, path, body)
                except ApiError as exc:
                    latency_s = time.perf_counter() - sent
                    last = exc
                    if not exc.retryable or attempt == self.options.max_attempts:
                        break
                    rested = exc.kind == "ConnectionError" and len(self.pool.down) < len(self.pool.urls)
                    wait = 0.0 if rested else self._backoff.wait_s(attempt, exc.retry_after_s, self._rng)
                    await asyncio.sleep(wait)
                    continue
                latency_s = time.perf_counter() - sent
                self.usage.requests += 1
                self.usage.prompt_tokens += completion.prompt_tokens or 0
                self.usage.completion_tokens += completion.completion_tokens or 0
                return completion.model_copy(
                    update={"latency_s": round(latency_s, 4), "queue_s": round(queue_s, 4), "attempts": attempt}
                )
        self.usage.failed += 1
        assert last is not None
        return Completion(
            key=request.key,
            finish_reason="error",
            latency_s=round(latency_s, 4),
            queue_s=round(queue_s, 4),
            attempts=attempt,
            error=GenerationError(type=last.kind, message=self._message(last)),
        )

    async def _run_all(self, requests: Iterable[Request], out: queue.Queue) -> None:
        import aiohttp

        gate = asyncio.Semaphore(self.options.concurrency)
        limits = RateLimits(self.options.requests_per_minute, self.options.tokens_per_minute)
        connector = aiohttp.TCPConnector(limit=self.options.concurrency, limit_per_host=0)
        timeout = aiohttp.ClientTimeout(total=self.options.timeout_s)
        if isinstance(requests, Sequence):
            # Longest prompts first, as the local runners do: a context-length problem shows at once.
            requests = sorted(requests, key=lambda r: -(r.input_tokens or 0))
        loop = asyncio.get_running_loop()
        window = max(2, STREAM_AHEAD * self.options.concurrency)  # requests held at once, in flight or waiting
        feeder = _Feeder(iter(requests), loop, window)
        tasks: set[asyncio.Future[Completion]] = set()

        async def answered(request: Request) -> Completion:
            try:
                return await self._complete(session, request, gate, limits)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a request that cannot even be sent is its own error record
                return error_completion(request.key, exc)
            finally:
                feeder.slots.release()

        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                feeder.start()
                while (request := await feeder.next()) is not None:
                    task = asyncio.ensure_future(answered(request))
                    task.add_done_callback(lambda done: done.cancelled() or out.put(done.result()))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                while tasks:
                    await asyncio.wait(tasks)
        finally:
            feeder.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def generate(self, requests: Iterable[Request]) -> Iterator[Completion]:
        if isinstance(requests, Sequence) and not requests:
            return
        out: queue.Queue[Completion | _Done] = queue.Queue()
        worker = self._worker = _Background(self._run_all(requests, out), lambda: out.put(_Done()))
        try:
            while not isinstance(item := out.get(), _Done):
                yield item
        finally:
            worker.stop()  # at once when the caller stopped early (Ctrl-C lands here, in out.get)
        if worker.failure is not None:
            raise worker.failure
