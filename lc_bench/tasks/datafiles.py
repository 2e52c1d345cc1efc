"""Reading task data the same way everywhere: JSONL files (one-line errors naming the bad line) and
the offline fallback to a shipped fixture (said once, on stderr, never silently).

Under a paper protocol the fallback is refused: a number printed as "the paper's setting" must come
from the paper's data. The run loop sets the policy (`fixture_policy`); `--allow-fixtures` lifts it
for a try-out, and the run's protocol is then labelled `NAME+fixtures`.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any, TypeVar

from lc_bench.config import shown_value
from lc_bench.errors import UsageError

T = TypeVar("T")


def read_bytes(path: Path, what: str) -> bytes:
    """A data file's bytes; a folder or an unreadable file is bad input (`what` names the file's role)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None


def decode_utf8(data: bytes, where: str) -> str:
    """UTF-8 text, or one line naming `where` (a binary or Latin-1 file is a common mistake)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where} is not UTF-8 text (byte {exc.start}): is it the right file?") from None


def numbered_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, record) for each non-blank line of a JSONL file. Lines are split on newlines
    only (not on the Unicode separators `str.splitlines` also breaks at, which JSON strings may
    hold); a line that is not UTF-8, not JSON or not a JSON object is bad input."""
    rows = []
    for number, raw in enumerate(read_bytes(path, "data file").split(b"\n"), 1):
        line = decode_utf8(raw, f"{path}:{number}")
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            raise UsageError(f"{path}:{number} is not valid JSON") from None
        if not isinstance(row, dict):
            raise UsageError(f"{path}:{number} is {_kind(row)}, not a JSON object (one record per line)")
        rows.append((number, row))
    return rows


def read_parquet(path: Path) -> list[dict[str, Any]]:
    """A parquet file's rows as plain records (numpy arrays become lists); a corrupt or foreign
    file is one line. The hub's own format: a downloaded dataset is often a folder of these."""
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid / ArrowIOError derive from these
        raise UsageError(f"{path} is not a readable parquet file: {str(exc).splitlines()[0]}") from None
    return [plain_record(row) for row in frame.to_dict("records")]


def plain_record(row: dict[str, Any]) -> dict[str, Any]:
    """Parquet gives numpy arrays for list fields; records want plain lists."""
    return {key: (value.tolist() if hasattr(value, "tolist") and not isinstance(value, str) else value)
            for key, value in row.items()}


def located_records(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(where, record) for each record of a .jsonl or .parquet file ("FILE:LINE" / "FILE: record N")."""
    if path.suffix == ".parquet":
        return [(f"{path}: record {number}", row) for number, row in enumerate(read_parquet(path), 1)]
    return [(f"{path}:{number}", row) for number, row in numbered_jsonl(path)]


def find_record_file(folders: Sequence[Path], stem: str) -> Path | None:
    """`stem`.jsonl, else `stem`.parquet, in the first folder holding either."""
    for folder in folders:
        for suffix in (".jsonl", ".parquet"):
            if (folder / f"{stem}{suffix}").is_file():
                return folder / f"{stem}{suffix}"
    return None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSONL file; blank lines are skipped, a malformed one is bad input."""
    return [row for _, row in numbered_jsonl(path)]


def read_json_list(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON file holding one list (Ada-LEval's files, LongBench v2's data.json)."""
    try:
        rows = json.loads(decode_utf8(read_bytes(path, "data file"), str(path)))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise UsageError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(rows, list):
        raise UsageError(f"{path} does not hold a JSON list of records")
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise UsageError(f"{path}: record {number} is {_kind(row)}, not a JSON object")
    return rows


def _kind(value: Any) -> str:
    """How a message names a JSON value of the wrong kind."""
    kinds = {list: "a list", dict: "an object", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return kinds.get(type(value), "null")


@dataclass(frozen=True)
class FieldKind:
    """What a record's field must hold, and how a message says it."""

    description: str
    accepts: Callable[[Any], bool]


TEXT = FieldKind("text", lambda value: isinstance(value, str))
TEXTS = FieldKind("a list of strings", lambda value: isinstance(value, list) and all(isinstance(v, str) for v in value))
TEXTS_OR_NULL = FieldKind("a list of strings or null", lambda value: value is None or TEXTS.accepts(value))
WHOLE_NUMBER = FieldKind("a whole number", lambda value: isinstance(value, int) and not isinstance(value, bool))


def layout_problem(row: dict[str, Any], layout: Mapping[str, FieldKind]) -> str | None:
    """What is wrong with a record against a dataset's field layout (None: nothing). A string
    where a list belongs would be split into characters, a null rendered as "None": both are
    refused here rather than scored."""
    missing = [name for name in layout if name not in row]
    if missing:
        return f"lacks {', '.join(missing)}"
    for name, kind in layout.items():
        if not kind.accepts(row[name]):
            return f"field {name!r} should be {kind.description}, got {shown_value(row[name])}"
    return None


def read_adaleval_file(data: str, fields: tuple[str, ...], example: str) -> tuple[Path, int, list[dict[str, Any]]]:
    """An Ada-LEval pre-built file (`textsort_8k.json`, `stackselect_1k.json`): its path, the length
    setting its name gives (8k -> 8192) and its records, each checked for `fields`."""
    from lc_bench.lengths import parse_lengths

    path = Path(data).expanduser()
    if not path.exists():
        raise UsageError(f"Ada-LEval file {path} not found (fetch_data.sh in open-compass/Ada-LEval)")
    match = re.search(r"(\d+k)", path.stem)
    if match is None:
        raise UsageError(f"cannot tell the length setting of {path.name}: expected a name like {example}")
    rows = read_json_list(path)
    if not rows:
        raise UsageError(f"{path} holds no records")
    for number, row in enumerate(rows, 1):
        if not set(fields) <= set(row):
            raise UsageError(f"{path}: record {number} lacks one of {', '.join(fields)} (Ada-LEval's layout)")
    return path, parse_lengths(match.group(1))[0], rows


@dataclass
class FixturePolicy:
    """Whether a build may fall back to shipped fixtures, and whether one did."""

    protocol: str = "lc_bench"
    allowed: bool = True
    used: list[str] = field(default_factory=list)


_POLICY: ContextVar[FixturePolicy | None] = ContextVar("fixture_policy", default=None)


@contextmanager
def fixture_policy(protocol: str, allowed: bool) -> Iterator[FixturePolicy]:
    """Build samples under a protocol's data policy; the yielded policy lists the fixtures used."""
    policy = FixturePolicy(protocol, allowed)
    token = _POLICY.set(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(token)


_RECORDING: ContextVar[list[tuple[str, str, str, str]] | None] = ContextVar("fixture_recording", default=None)
# the fallback warnings a run has printed: each is said once per run, however many tasks or chunks hit it
_RUN_WARNINGS: ContextVar[set[str] | None] = ContextVar("run_fixture_warnings", default=None)


# the first connection failure a run met reaching the hub: later hub loads in the run fail at once
_HUB_DOWN: ContextVar[list[BaseException] | None] = ContextVar("hub_down", default=None)
# exception classes (by name, anywhere in the chain) that mean the hub cannot be reached, not that a
# dataset is missing: `datasets` raises ConnectionError after its retries, huggingface_hub the others
UNREACHABLE = {"ConnectionError", "LocalEntryNotFoundError", "OfflineModeIsEnabled", "ConnectTimeout", "ReadTimeout",
               "Timeout", "gaierror", "MaxRetryError", "NewConnectionError"}


@contextmanager
def one_warning_per_run() -> Iterator[None]:
    """Within this block (a whole run) a fixture-fallback warning is printed once, not once per
    task and chunk that reads the same source (a HelloBench suite printed it six times), and the
    hub is given up on after its first connection failure (`hub_load`)."""
    token = _RUN_WARNINGS.set(set())
    down = _HUB_DOWN.set([])
    try:
        yield
    finally:
        _HUB_DOWN.reset(down)
        _RUN_WARNINGS.reset(token)


def _unreachable(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if any(kind.__name__ in UNREACHABLE for kind in type(current).__mro__):
            return True
        current = current.__cause__ or current.__context__
    return False


def hub_load(load: Callable[[], T]) -> T:
    """`load()` (a hub download), except that within a run whose earlier hub load could not reach
    the hub it fails at once with that error: offline, each of a suite's tasks would otherwise wait
    through the client's retries (about 24 s per dataset with `datasets`, 39 M4LE tasks ~16 min)
    before falling back to its fixture. A missing dataset does not count: only connection failures."""
    down = _HUB_DOWN.get()
    if down:
        raise ConnectionError(f"the hub was unreachable earlier in this run ({type(down[0]).__name__}: {down[0]})")
    try:
        return load()
    except Exception as exc:
        if down is not None and _unreachable(exc):
            down.append(exc)
        raise


def warn_fixture_fallback(source: str, exc: BaseException, fixture: str = "fixture", how: str = "") -> None:
    """data=auto could not reach the real dataset: say that the numbers come from a fixture, or,
    under a paper protocol, refuse in one line saying where the real data comes from (`how`)."""
    event = (source, type(exc).__name__, fixture, how)
    recording = _RECORDING.get()
    if recording is not None:  # inside a cached loader: replayed on every call (see `data_cache`)
        recording.append(event)
        return
    _apply_fallback(event)


def _apply_fallback(event: tuple[str, str, str, str]) -> None:
    source, problem, fixture, how = event
    policy = _POLICY.get() or FixturePolicy()
    if not policy.allowed:
        where = f": {how}" if how else ""
        raise UsageError(
            f"{source} unavailable ({problem}); the {policy.protocol} protocol needs the real data, "
            f"not the shipped {fixture}{where} (or run with --allow-fixtures to try it on the fixture)"
        )
    policy.used.append(source)
    message = (f"lc-bench: warning: {source} unavailable ({problem}); using the shipped {fixture}, not the real "
               "dataset" + (f" ({how})" if how else ""))
    said = _RUN_WARNINGS.get()
    if said is not None:
        if message in said:
            return
        said.add(message)
    print(message, file=sys.stderr)


def data_cache(maxsize: int = 8) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """`functools.lru_cache` for data loaders whose fallback to a fixture must be decided on every
    call: a cached result would otherwise skip the policy of a later run (a paper protocol)."""

    def decorate(load: Callable[..., T]) -> Callable[..., T]:
        @lru_cache(maxsize=maxsize)
        def recorded(*args: Any) -> tuple[T, tuple[tuple[str, str, str, str], ...]]:
            events: list[tuple[str, str, str, str]] = []
            token = _RECORDING.set(events)
            try:
                result = load(*args)
            finally:
                _RECORDING.reset(token)
            return result, tuple(events)

        @wraps(load)
        def call(*args: Any) -> T:
            result, events = recorded(*args)
            for event in events:
                _apply_fallback(event)
            return result

        call.cache_clear = recorded.cache_clear  # type: ignore[attr-defined]
        return call

    return decorate
