"""The text of `lc-bench tasks`, cached until the code that decides it changes.

Building it imports every task class with its pydantic parameter model (about 0.3 s on two cores,
three times Python's own start-up with typer). The listing depends only on lc_bench's source files
and on the installed task plugins, so it is kept in the cache folder, as structured entries (one
per task, so `--family` and `--search` filter without importing anything), under a key made of
those files' sizes and modification times and the plugin entry points; any change rebuilds it.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import lc_bench
from lc_bench.source_cache import read_keyed, source_key, write_keyed

CACHE_NAME = "tasks-listing.json"
PLUGIN_GROUP = "lc_bench.tasks"


def listing_entries() -> list[dict[str, Any]]:
    """Every registered task (plugins included): name, family, description, metric, output budget
    and parameters (name, type, default, one-line description)."""
    from lc_bench.registry import TASKS
    from lc_bench.tasks.base import describe_params

    entries = []
    for name in TASKS.names():
        task_class = TASKS.get(name)
        fields = task_class.params_model.model_fields
        entries.append({
            "name": name,
            "family": str(getattr(task_class, "family", "")),
            "description": str(task_class.description),
            "metric": str(task_class.primary_metric),
            "max_new_tokens": task_class.default_max_new_tokens,
            "params": [
                [param, kind, default, _one_line(fields[param].description if param in fields else None)]
                for param, kind, default in describe_params(task_class)
            ],
        })
    return entries


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def render_listing(entries: list[dict[str, Any]]) -> str:
    """The listing as `lc-bench tasks` prints it: a task per line, then its parameters indented."""
    lines = []
    for entry in entries:
        lines.append(
            f"{entry['name']}: {entry['description']} "
            f"(metric {entry['metric']}, max_new_tokens {entry['max_new_tokens']})"
        )
        for param, kind, default, description in entry["params"]:
            hint = f"  # {description}" if description else ""
            lines.append(f"    {param}: {kind} = {default}{hint}")
    return "\n".join(lines) + "\n"


def listing_text() -> str:
    """Every registered task (plugins included) with its metric, output budget and parameters."""
    return render_listing(listing_entries())


def families(entries: list[dict[str, Any]]) -> list[str]:
    return sorted({entry["family"] for entry in entries if entry["family"]})


def filter_entries(
    entries: list[dict[str, Any]], family: str | None = None, search: str | None = None
) -> list[dict[str, Any]]:
    """The tasks of `family` (an unknown one is a UsageError naming the closest) whose name, family,
    description or parameters (names and descriptions) contain `search` (ignoring case)."""
    from lc_bench.errors import UsageError
    from lc_bench.registry import did_you_mean

    chosen = entries
    if family is not None:
        known = families(entries)
        wanted = family.strip().casefold()
        if wanted not in {name.casefold() for name in known}:
            raise UsageError(f"unknown task family {family!r}{did_you_mean(family, known)} "
                             f"(families: {', '.join(known)})")
        chosen = [entry for entry in chosen if entry["family"].casefold() == wanted]
    if search is not None:
        needle = search.strip().casefold()

        def haystack(entry: dict[str, Any]) -> str:
            params = " ".join(f"{param[0]} {param[3]}" for param in entry["params"])
            return f"{entry['name']} {entry['family']} {entry['description']} {params}".casefold()

        chosen = [entry for entry in chosen if needle in haystack(entry)]
    return chosen


def _plugins() -> list[str]:
    """Each task plugin as `name=value dist-version`: installing, upgrading or removing one changes it."""
    found = []
    for entry in entry_points(group=PLUGIN_GROUP):
        dist = getattr(entry, "dist", None)
        version = f"{dist.name} {dist.version}" if dist is not None else ""
        found.append(f"{entry.name}={entry.value} {version}")
    return sorted(found)


def _valid(entries: Any) -> bool:
    """A cached listing that has the shape render_listing reads (a hand-edited or foreign file does not)."""
    return isinstance(entries, list) and all(
        isinstance(entry, dict)
        and {"name", "family", "description", "metric", "max_new_tokens", "params"} <= entry.keys()
        and isinstance(entry["params"], list)
        and all(isinstance(param, list) and len(param) == 4 for param in entry["params"])
        for entry in entries
    )


def cached_entries(cache: Path) -> list[dict[str, Any]]:
    """The listing's entries from `cache` when its key still holds, else built afresh (and stored
    when the folder is writable; a read-only cache only costs the time)."""
    key = source_key(Path(lc_bench.__file__).parent, _plugins())
    path = cache / CACHE_NAME
    stored = read_keyed(path, key, "entries")
    if _valid(stored):
        return stored
    entries = listing_entries()
    write_keyed(path, key, "entries", entries)
    return entries


def footer(entries: list[dict[str, Any]]) -> str:
    return (f"{len(entries)} tasks in {len(families(entries))} families ({', '.join(families(entries))}); "
            "narrow with: lc-bench tasks --family NAME | --search TEXT\n")


def cached_listing_text(cache: Path) -> str:
    """Every task, as `lc-bench tasks` prints it, from the cache, with a closing line that says how
    to narrow it."""
    entries = cached_entries(cache)
    return render_listing(entries) + footer(entries)


def filtered_listing_text(cache: Path, family: str | None = None, search: str | None = None) -> str:
    """The tasks `filter_entries` keeps, or one line saying none matched."""
    chosen = filter_entries(cached_entries(cache), family, search)
    if not chosen:
        asked = " and ".join(
            part for part in (family and f"--family {family!r}", search is not None and f"--search {search!r}") if part
        )
        return f"no task matches {asked} (lc-bench tasks lists them all)\n"
    return render_listing(chosen)
