"""Test runners: every stage can be exercised without a model (inspect_ai's mockllm idea).

* `echo`: replies with the prompt's last user message, so retrieval tasks score 100.
* `constant`: replies with a fixed text, so retrieval tasks score 0.
Both take `delay_s` (simulate slow generation) and `fail_every` (every Nth request errors).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from pydantic import Field

from lc_bench.registry import RUNNERS
from lc_bench.runners.base import RunnerContext, RunnerOptions, error_completion, runner_identity
from lc_bench.schema import Completion, Request


class ScriptedOptions(RunnerOptions):
    text: str = "I do not know."
    delay_s: float = Field(0.0, ge=0.0)
    fail_every: int = Field(0, ge=0, description="every Nth request fails (0: never)")


class _ScriptedRunner:
    name: ClassVar[str] = "scripted"
    options_model: ClassVar[type[RunnerOptions]] = ScriptedOptions

    def __init__(self, context: RunnerContext, options: ScriptedOptions) -> None:
        self.context = context
        self.options = options
        self._count = 0

    def identity(self) -> dict[str, Any]:
        # delay and failures simulate infrastructure (like an API outage), not the model's output
        return runner_identity(self, volatile=("delay_s", "fail_every"))

    def reply(self, request: Request) -> str:
        raise NotImplementedError

    def generate(self, requests: Sequence[Request]) -> Iterator[Completion]:
        for request in requests:
            self._count += 1
            if self.options.delay_s:
                time.sleep(self.options.delay_s)
            if self.options.fail_every and self._count % self.options.fail_every == 0:
                yield error_completion(request.key, RuntimeError(f"scripted failure #{self._count}"))
                continue
            text = self.reply(request)
            yield Completion(
                key=request.key,
                text=text,
                finish_reason="stop",
                prompt_tokens=None,
                completion_tokens=len(text.split()),
                latency_s=self.options.delay_s,
            )

    def close(self) -> None:
        pass


@RUNNERS.register("echo")
class EchoRunner(_ScriptedRunner):
    """Test runner: replies with the last user message (retrieval tasks score 100)."""

    name: ClassVar[str] = "echo"

    def reply(self, request: Request) -> str:
        users = [m.content for m in request.messages if m.role == "user"]
        return users[-1] if users else ""


@RUNNERS.register("constant")
class ConstantRunner(_ScriptedRunner):
    """Test runner: replies with a fixed text (retrieval tasks score 0)."""

    name: ClassVar[str] = "constant"

    def reply(self, request: Request) -> str:
        return self.options.text
