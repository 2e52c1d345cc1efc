"""Test runners: every stage can be exercised without a model (inspect_ai's mockllm idea).

* `echo`: replies with the prompt's last user message, so retrieval tasks score 100.
* `constant`: replies with a fixed text, so retrieval tasks score 0.
Both take `delay_s` (simulate slow generation), `fail_every` (every Nth request errors) and
`script` (a JSON file of rules `[{"contains": "...", "reply": "..."}]`: the first rule whose text is
in the last user message decides the reply; multi-call tasks are tested with it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from lc_bench.errors import UsageError
from lc_bench.registry import RUNNERS
from lc_bench.runners.base import (
    RunnerContext,
    RunnerDefaults,
    RunnerOptions,
    cut_at_stop_token_text,
    error_completion,
)
from lc_bench.schema import Completion, Request


class ScriptedOptions(RunnerOptions):
    text: str = "I do not know."
    delay_s: float = Field(0.0, ge=0.0)
    fail_every: int = Field(0, ge=0, description="every Nth request fails (0: never)")
    script: Path | None = Field(None, description='JSON rules [{"contains": TEXT, "reply": TEXT}], first match wins')


class _ScriptedRunner(RunnerDefaults):
    name: ClassVar[str] = "scripted"
    # generate() takes any iterable of requests, one at a time: the run loop streams samples into it
    streams_requests: ClassVar[bool] = True
    options_model: ClassVar[type[RunnerOptions]] = ScriptedOptions
    # delay and failures simulate infrastructure (like an API outage), not the model's output
    volatile_options: ClassVar[tuple[str, ...]] = ("delay_s", "fail_every")

    def __init__(self, context: RunnerContext, options: ScriptedOptions) -> None:
        self.context = context
        self.options = options
        self._count = 0
        self._rules = load_script(options.script) if options.script else []

    def reply(self, request: Request) -> str:
        raise NotImplementedError

    def generate(self, requests: Iterable[Request]) -> Iterator[Completion]:
        for request in requests:
            self._count += 1
            if self.options.delay_s:
                time.sleep(self.options.delay_s)
            if self.options.fail_every and self._count % self.options.fail_every == 0:
                yield error_completion(request.key, RuntimeError(f"scripted failure #{self._count}"))
                continue
            text = self._scripted(request)
            if text is None:
                text = self.reply(request)
            text, _ = cut_at_stop_token_text(text, request.stop_tokens, request.min_new_tokens)
            yield Completion(
                key=request.key,
                text=text,
                finish_reason="stop",
                prompt_tokens=None,
                completion_tokens=len(text.split()),
                latency_s=self.options.delay_s,
            )

    def _scripted(self, request: Request) -> str | None:
        users = [m.content for m in request.messages if m.role == "user"]
        for rule in self._rules:
            if users and rule["contains"] in users[-1]:
                return rule["reply"]
        return None


def load_script(path: Path) -> list[dict[str, str]]:
    """Rules of a scripted reply file; one line and exit 2 for a missing or malformed one."""
    try:
        rules = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read the reply script {path}: {exc}") from None
    if not isinstance(rules, list) or not all(
        isinstance(rule, dict) and isinstance(rule.get("contains"), str) and isinstance(rule.get("reply"), str)
        for rule in rules
    ):
        raise UsageError(f"reply script {path} must be a list of {{\"contains\": ..., \"reply\": ...}}")
    return rules


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
