"""Tasks and runners registered by name; lookups fail with a one-line "did you mean" error."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import Generic, TypeVar

from lc_bench.errors import UsageError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> factory map filled by decorators when the builtin modules are imported."""

    def __init__(self, kind: str, builtin_modules: tuple[str, ...]) -> None:
        self.kind = kind
        self._builtin_modules = builtin_modules
        self._entries: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(entry: T) -> T:
            if name in self._entries and self._entries[name] is not entry:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return decorate

    def _load_builtins(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self._builtin_modules:
                importlib.import_module(module)

    def names(self) -> list[str]:
        self._load_builtins()
        return sorted(self._entries)

    def get(self, name: str) -> T:
        self._load_builtins()
        if name in self._entries:
            return self._entries[name]
        close = difflib.get_close_matches(name, self._entries, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"unknown {self.kind} {name!r}{hint} (known: {', '.join(self.names())})")


TASKS: Registry = Registry(
    "task", ("lc_bench.tasks.niah", "lc_bench.tasks.synthetic", "lc_bench.tasks.qa", "lc_bench.tasks.longbench",
             "lc_bench.tasks.longbench_v2", "lc_bench.tasks.tsort", "lc_bench.tasks.bestanswer",
             "lc_bench.tasks.longwrite", "lc_bench.tasks.longgen", "lc_bench.tasks.manyq")
)
RUNNERS: Registry = Registry(
    "runner", ("lc_bench.runners.testing", "lc_bench.runners.hf", "lc_bench.runners.openai", "lc_bench.runners.vllm",
                "lc_bench.runners.ray")
)
