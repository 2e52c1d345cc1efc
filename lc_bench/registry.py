"""Tasks and runners registered by name; lookups fail with a one-line "did you mean" error.

Built-ins register when their modules are imported. Other installed packages add tasks and
runners through the entry-point groups `lc_bench.tasks` and `lc_bench.runners`:

    [project.entry-points."lc_bench.tasks"]
    my_plugin = "my_package.tasks"              # a module: importing it runs @TASKS.register
    my_task = "my_package.tasks:MyTask"         # an object: registered under the entry point's name

Plugins load lazily: only when a name is not among the built-ins, or when every name is listed,
so a broken or slow plugin costs nothing to a run that does not use it. A plugin that fails to
load is a one-line UsageError naming it, raised only when it is needed.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

from lc_bench.errors import UsageError

T = TypeVar("T")


def close_matches(word: str, choices: Iterable[str], n: int = 3, cutoff: float = 0.5) -> list[str]:
    """The choices closest to a misspelt `word`, best first (difflib, ignoring case)."""
    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(str(choice).casefold(), str(choice))
    found = difflib.get_close_matches(str(word).casefold(), list(by_folded), n=n, cutoff=cutoff)
    return [by_folded[folded] for folded in found]


def did_you_mean(word: str, choices: Iterable[str], prefix: str = "; ", n: int = 3) -> str:
    """`prefix` + "did you mean A, B?" for the closest choices, or "" when none is close.
    Every "unknown NAME" message uses it: tasks, runners, suites, options, parameters, keys."""
    close = close_matches(word, choices, n=n)
    return f"{prefix}did you mean {', '.join(close)}?" if close else ""


def one_error_per_field(errors: Iterable[dict]) -> list[dict]:
    """A pydantic error list with one error per field, in order: of a union's alternatives
    (`int | "auto"`), the fixed-choice one when the bad value is close to a choice, else the first."""
    chosen: dict[object, dict] = {}
    for error in errors:
        head = error["loc"][0] if error["loc"] else ""
        choices = re.findall(r"'([^']*)'", str((error.get("ctx") or {}).get("expected", "")))
        helpful = error["type"] == "literal_error" and bool(close_matches(str(error.get("input")), choices))
        if head not in chosen or helpful:
            chosen[head] = error
    return list(chosen.values())


class Registry(Generic[T]):
    """A name -> class map filled by decorators, from built-in modules and then from plugins."""

    def __init__(self, kind: str, builtin_modules: tuple[str, ...], entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._builtin_modules = builtin_modules
        self._entries: dict[str, T] = {}
        self._builtins_loaded = False
        self._plugins_loaded = False
        self._plugin_failures: list[str] = []

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(entry: T) -> T:
            if name in self._entries and self._entries[name] is not entry:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return decorate

    def names(self) -> list[str]:
        """Every registered name, plugins included: listing them all needs every plugin."""
        self._load_builtins()
        failures = self._load_plugins()
        if failures:
            raise UsageError(failures[0])
        return sorted(self._entries)

    def get(self, name: str) -> T:
        if name not in self._entries:
            self._load_indexed(name)
        if name not in self._entries:
            self._load_builtins()
        failures = self._load_plugins() if name not in self._entries else []
        if name in self._entries:
            return self._entries[name]
        if failures:  # the name may be the broken plugin's: say so rather than guess
            raise UsageError(f"unknown {self.kind} {name!r}, and {failures[0]}")
        hint = did_you_mean(name, self._entries)
        raise UsageError(f"unknown {self.kind} {name!r}{hint} (known: {', '.join(sorted(self._entries))})")

    def _load_indexed(self, name: str) -> None:
        """Import only the built-in module that registered `name` last time (`name_index`), when the
        package's sources are unchanged since; a miss leaves the full import to `_load_builtins`."""
        if self._builtins_loaded:
            return
        from lc_bench import name_index

        for package in self._builtin_modules:
            module = name_index.read_index(package).get(name)
            if module is not None:
                importlib.import_module(module)
                return

    def _load_builtins(self) -> None:
        """Import the built-in modules; a package means every module in it, so a new family is one
        new module in lc_bench/tasks and no list to edit. The name -> module index is refreshed
        from what they registered."""
        if not self._builtins_loaded:
            self._builtins_loaded = True
            for name in self._builtin_modules:
                module = importlib.import_module(name)
                for found in pkgutil.iter_modules(getattr(module, "__path__", [])):
                    importlib.import_module(f"{name}.{found.name}")
            self._store_index()

    def _store_index(self) -> None:
        """Write each built-in package's name -> defining module map when it differs from the stored one."""
        from lc_bench import name_index

        for package in self._builtin_modules:
            prefix = f"{package}."
            names = {name: module for name, entry in self._entries.items()
                     if isinstance(module := getattr(entry, "__module__", None), str) and module.startswith(prefix)}
            if names and names != name_index.read_index(package):
                name_index.write_index(package, names)

    def _load_plugins(self) -> list[str]:
        """Import this registry's entry points once per process; one line per plugin that failed."""
        if not self._plugins_loaded and self.entry_point_group is not None:
            self._plugins_loaded = True
            for entry_point in entry_points(group=self.entry_point_group):
                failure = self._load_plugin(entry_point)
                if failure:
                    self._plugin_failures.append(failure)
        return self._plugin_failures

    def _load_plugin(self, entry_point: EntryPoint) -> str | None:
        """Import one plugin (and register it, for a `module:Object` entry point); the failure as one line."""
        try:
            loaded = entry_point.load()
            if entry_point.attr is not None:
                # records carry the class's own name: one that differs would never be found again
                declared = getattr(loaded, "name", entry_point.name)
                if declared != entry_point.name:
                    raise ValueError(f"the entry point's name differs from the object's name {declared!r}")
                self.register(entry_point.name)(loaded)
        except Exception as exc:  # noqa: BLE001 - whatever a plugin raises, the user gets one line
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            detail = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
            return f"{self.kind} plugin {entry_point.name!r} ({entry_point.value}) failed to load: {detail}"
        return None


TASKS: Registry = Registry("task", ("lc_bench.tasks",), entry_point_group="lc_bench.tasks")
RUNNERS: Registry = Registry("runner", ("lc_bench.runners",), entry_point_group="lc_bench.runners")
