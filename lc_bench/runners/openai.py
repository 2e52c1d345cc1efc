"""`openai`: any OpenAI-compatible endpoint (hosted APIs, vllm serve, SGLang, TGI, llama.cpp).

`--model` still names the model's tokenizer (an HF folder or hub id, or the embedded default), so
prompts are fitted to exact lengths with the model's own tokens; `served_model` is the name the
server knows it by. Two modes:

* `chat` (default): /chat/completions; the server applies its chat template. The answer prefix
  cannot start the assistant turn through this API, so it ends the last user message instead.
* `completions`: /completions with the prompt rendered here (chat template and answer prefix
  included), so the server sees exactly the tokens lc_bench measured.

Requests run on an asyncio loop in a background thread with bounded concurrency; completions are
yielded as they finish. Each attempt that fails is classified (see retry.py); every sample ends as
one completion: text, or a typed error with the number of attempts it took.

The API key is read from the environment variable the user names (`api_key_env`) and lives only in
the request header: it is never stored in options, records, the manifest, logs or error messages.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import random
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from lc_bench.errors import UsageError
from lc_bench.registry import RUNNERS
from lc_bench.runners.base import RunnerContext, RunnerDefaults, RunnerOptions, cut_at_stop
from lc_bench.runners.endpoints import EndpointPool
from lc_bench.runners.ratelimit import RateLimits
from lc_bench.runners.retry import ApiError, Backoff, classify_status
from lc_bench.schema import Completion, GenerationError, Request


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
    backoff_s: float = Field(1.0, ge=0)
    backoff_max_s: float = Field(60.0, ge=0)
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


class _Done:
    """End-of-stream marker on the completion queue."""


@RUNNERS.register("openai")
class OpenAIRunner(RunnerDefaults):
    """OpenAI-compatible chat or completions API: concurrency, retries, rate limits, failover."""

    name: ClassVar[str] = "openai"
    options_model: ClassVar[type[RunnerOptions]] = OpenAIOptions
    # Options that change how requests travel, not what the model answers: changing them resumes.
    volatile_options: ClassVar[tuple[str, ...]] = (
        "base_url", "endpoints", "api_key_env", "concurrency", "timeout_s", "max_attempts", "backoff_s",
        "backoff_max_s", "requests_per_minute", "tokens_per_minute", "price_input_per_mtok",
        "price_output_per_mtok",
    )

    def __init__(self, context: RunnerContext, options: OpenAIOptions) -> None:
        self.context = context
        self.options = options
        self._api_key = self._read_key(options.api_key_env)
        self.pool = EndpointPool(options.endpoints or [options.base_url])
        self.usage = Usage()
        self._backoff = Backoff(options.backoff_s, options.backoff_max_s)
        self._rng = random.Random()

    @staticmethod
    def _read_key(variable: str | None) -> str | None:
        if variable is None:
            return None
        value = os.environ.get(variable)
        if not value:
            raise UsageError(f"runner openai: environment variable {variable} (api_key_env) is not set")
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
        return summary

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
                messages[last_user]["content"] = messages[last_user]["content"] + "\n" + request.answer_prefix
            body["messages"] = messages
            path = "/chat/completions"
        body.update(self.options.extra_body)
        return path, body

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _scrub(self, text: str) -> str:
        """Error text can echo a request back; the key must never reach a record."""
        return text.replace(self._api_key, "[redacted]") if self._api_key else text

    def _parse(self, request: Request, data: Any) -> Completion:
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] if self.options.mode == "chat" else choice["text"]
            finish = choice.get("finish_reason")
        except (KeyError, IndexError, TypeError) as exc:
            raise ApiError("MalformedResponse", f"unexpected response shape: {exc!r}", True) from None
        text = text or ""
        text, stopped = cut_at_stop(text, request.stop)
        usage = data.get("usage") or {}
        return Completion(
            key=request.key,
            text=text,
            finish_reason="length" if finish == "length" and not stopped else "stop",
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
        )

    # -- one request, with retries ---------------------------------------------------------------

    async def _attempt(self, session: Any, request: Request) -> Completion:
        import aiohttp

        path, body = self.payload(request)
        url = self.pool.pick()
        try:
            async with session.post(url + path, json=body, headers=self._headers()) as response:
                text = await response.text()
                status, retry_after = response.status, response.headers.get("Retry-After")
        except TimeoutError:
            raise ApiError("Timeout", f"no answer within {self.options.timeout_s:g} s", True) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            self.pool.mark_down(url)
            raise ApiError("ConnectionError", f"{type(exc).__name__}: {exc}", True) from None
        self.pool.mark_up(url)
        if status != 200:
            raise classify_status(status, text, retry_after)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ApiError("MalformedResponse", f"response is not JSON: {exc}", True) from None
        return self._parse(request, data)

    async def _complete(
        self, session: Any, request: Request, gate: asyncio.Semaphore, limits: RateLimits
    ) -> Completion:
        started = time.perf_counter()
        last: ApiError | None = None
        attempt = 0
        async with gate:
            for attempt in range(1, self.options.max_attempts + 1):
                await limits.acquire((request.input_tokens or 0) + request.max_new_tokens)
                self.usage.attempts += 1
                try:
                    completion = await self._attempt(session, request)
                except ApiError as exc:
                    last = exc
                    if not exc.retryable or attempt == self.options.max_attempts:
                        break
                    rested = exc.kind == "ConnectionError" and len(self.pool.down) < len(self.pool.urls)
                    wait = 0.0 if rested else self._backoff.wait_s(attempt, exc.retry_after_s, self._rng)
                    await asyncio.sleep(wait)
                    continue
                self.usage.requests += 1
                self.usage.prompt_tokens += completion.prompt_tokens or 0
                self.usage.completion_tokens += completion.completion_tokens or 0
                return completion.model_copy(
                    update={"latency_s": round(time.perf_counter() - started, 4), "attempts": attempt}
                )
        self.usage.failed += 1
        assert last is not None
        return Completion(
            key=request.key,
            finish_reason="error",
            latency_s=round(time.perf_counter() - started, 4),
            attempts=attempt,
            error=GenerationError(type=last.kind, message=self._scrub(str(last))[:500]),
        )

    async def _run_all(self, requests: Sequence[Request], out: queue.Queue, stop: threading.Event) -> None:
        import aiohttp

        gate = asyncio.Semaphore(self.options.concurrency)
        limits = RateLimits(self.options.requests_per_minute, self.options.tokens_per_minute)
        connector = aiohttp.TCPConnector(limit=self.options.concurrency, limit_per_host=0)
        timeout = aiohttp.ClientTimeout(total=self.options.timeout_s)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            # Longest prompts first, as the local runners do: a context-length problem shows at once.
            ordered = sorted(requests, key=lambda r: -(r.input_tokens or 0))
            tasks = [asyncio.ensure_future(self._complete(session, r, gate, limits)) for r in ordered]
            try:
                for finished in asyncio.as_completed(tasks):
                    out.put(await finished)
                    if stop.is_set():
                        break
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    def generate(self, requests: Sequence[Request]) -> Iterator[Completion]:
        if not requests:
            return
        out: queue.Queue = queue.Queue()
        stop = threading.Event()
        failure: list[BaseException] = []

        def loop() -> None:
            try:
                asyncio.run(self._run_all(requests, out, stop))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                failure.append(exc)
            finally:
                out.put(_Done())

        worker = threading.Thread(target=loop, name="lc-bench-openai", daemon=True)
        worker.start()
        try:
            while True:
                item = out.get()
                if isinstance(item, _Done):
                    break
                yield item
        finally:
            stop.set()
            worker.join(timeout=10)
        if failure:
            raise failure[0]
