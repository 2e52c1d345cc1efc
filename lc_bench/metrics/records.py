"""Records to a compact per-sample table, streamed: a million records in seconds, bounded memory.

Only the fields the leaderboard needs are kept (numbers and dictionary-encoded names, about 40
bytes a sample), never the records themselves. The fast path is Arrow's multithreaded JSON reader
with an explicit schema, in 4 MiB blocks; files it cannot read (a corrupt line, records written
before the flat `score` field existed) go through a line-by-line path with the same result.

A key's latest record wins, across all runs given, in order: a retried error is superseded by its
success and a re-run copy of a folder does not count twice.
"""

from __future__ import annotations

import io
import json
import math
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json
from pandas.api.types import union_categoricals

from lc_bench.errors import UsageError
from lc_bench.metrics.catalog import Catalog
from lc_bench.schema import GenerationError, Record
from lc_bench.store import RECORDS, read_manifest

BLOCK_BYTES = 4 << 20  # measured: larger blocks raise peak memory, smaller ones cost time
# Record fields the frame keeps (their Arrow types are derived from `Record`), plus the error flag
# (completion.error) and the metadata keys the tasks declared as report axes (`Catalog`).
RECORD_COLUMNS = ("key", "task", "family", "model", "runner", "target_length", "depth", "input_tokens",
                  "truncated", "score", "settings")
CATEGORIES = ("model", "runner", "family", "task", "settings")
LABEL_PREFIX = "label:"  # frame column of a declared metadata label
NUMBER_PREFIX = "number:"  # frame column of a declared metadata number


def label_column(field: str) -> str:
    return LABEL_PREFIX + field


def number_column(field: str) -> str:
    return NUMBER_PREFIX + field


_ARROW_TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}


def _arrow_type(annotation: Any) -> pa.DataType:
    """The Arrow type of a Record field's annotation (`X | None` reads as X, nullable)."""
    members = [member for member in typing.get_args(annotation) if member is not type(None)] or [annotation]
    return _ARROW_TYPES[members[0]]


def arrow_schema(labels: tuple[str, ...] = (), numbers: tuple[str, ...] = ()) -> pa.Schema:
    """The explicit schema of the streaming reader, derived from `Record` and the declared axes."""
    hints = typing.get_type_hints(Record)
    error_type = typing.get_type_hints(GenerationError)["type"]
    fields = [(name, _arrow_type(hints[name])) for name in RECORD_COLUMNS]
    fields.append(("completion", pa.struct([("error", pa.struct([("type", _arrow_type(error_type))]))])))
    metadata = [(field, pa.string()) for field in labels] + [(field, pa.float64()) for field in numbers]
    if metadata:
        fields.append(("metadata", pa.struct(metadata)))
    return pa.schema(fields)


def _complete_length(path: Path) -> int:
    """Bytes up to and including the last newline: a torn tail from a killed writer is left out."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        position = size
        while position > 0:
            step = min(1 << 16, position)
            position -= step
            handle.seek(position)
            chunk = handle.read(step)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                return position + cut + 1
    return 0


class _LimitedReader(io.RawIOBase):
    """A binary file read only up to `limit` bytes, for Arrow's streaming reader."""

    def __init__(self, path: Path, limit: int) -> None:
        self._handle = path.open("rb")
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: self._left]
        count = self._handle.readinto(view)
        self._left -= count
        return count

    def close(self) -> None:
        self._handle.close()
        super().close()


def _has_flat_score(path: Path) -> bool:
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        return "score" in json.loads(first)
    except (json.JSONDecodeError, TypeError):
        return False


def _hash_keys(keys: np.ndarray) -> np.ndarray:
    return pd.util.hash_array(np.asarray(keys, dtype=object), categorize=False)


def _hash_arrow_keys(keys: pa.Array) -> np.ndarray:
    """64-bit identities of the keys; the store's 32-hex-digit keys are read without a Python loop."""
    keys = keys.cast(pa.large_binary()) if keys.null_count == 0 else None
    if keys is not None:
        offsets = np.frombuffer(keys.buffers()[1], dtype=np.int64)[keys.offset : keys.offset + len(keys) + 1]
        if len(keys) and np.all(np.diff(offsets) == 32):
            data = np.frombuffer(keys.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
            words = pd.DataFrame(data.reshape(-1, 32).copy().view(np.uint64))  # 4 words of 8 key bytes
            return pd.util.hash_pandas_object(words, index=False).to_numpy()
        return _hash_keys(keys.to_numpy(zero_copy_only=False))
    raise pa.ArrowInvalid("a record without a key")


def _arrow_batches(path: Path, limit: int, catalog: Catalog) -> Iterator[pa.RecordBatch]:
    """Compact Arrow batches (hashed keys, dictionary-encoded names); converted to pandas once."""
    labels, numbers = catalog.label_fields(), catalog.number_fields()
    reader = pa_json.open_json(
        pa.PythonFile(_LimitedReader(path, limit), mode="r"),
        read_options=pa_json.ReadOptions(block_size=BLOCK_BYTES),
        parse_options=pa_json.ParseOptions(
            explicit_schema=arrow_schema(labels, numbers), unexpected_field_behavior="ignore"
        ),
    )
    for batch in reader:
        if batch.column("completion").null_count:
            raise pa.ArrowInvalid("a record without a completion")  # a foreign line: the tolerant path counts it
        columns = {"key_hash": pa.array(_hash_arrow_keys(batch.column("key")))}
        for name in CATEGORIES:
            columns[name] = batch.column(name).fill_null("").dictionary_encode()
        for field in labels:
            columns[label_column(field)] = batch.column("metadata").field(field).fill_null("").dictionary_encode()
        for name in ("target_length", "depth", "input_tokens", "score"):
            columns[name] = batch.column(name).cast(pa.float64())
        for field in numbers:
            columns[number_column(field)] = batch.column("metadata").field(field)
        columns["truncated"] = batch.column("truncated").fill_null(False)
        columns["error"] = batch.column("completion").field("error").field("type").is_valid()
        yield pa.RecordBatch.from_pydict(columns)


def _arrow_frame(path: Path, limit: int, catalog: Catalog) -> pd.DataFrame:
    batches = list(_arrow_batches(path, limit, catalog))
    if not batches:
        return pd.DataFrame()
    frame = pa.Table.from_batches(batches).unify_dictionaries().to_pandas()
    lengths = frame["target_length"]
    if not (lengths.notna().all() and (lengths > 0).all() and (lengths == lengths.round()).all()):
        raise pa.ArrowInvalid("a record without a whole positive target_length")  # Arrow reads a missing field as null
    frame["target_length"] = lengths.astype(np.int64)
    return frame


def _number(value: Any, whole: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and (not whole or float(value).is_integer())


def _is_record(record: Any) -> bool:
    """The fields the frame reads have the Record's types: anything else is a foreign or
    type-corrupt line, skipped and counted rather than failing the whole leaderboard."""
    if not isinstance(record, dict) or not isinstance(record.get("key"), str) or not record["key"]:
        return False
    if not (_number(record.get("target_length"), whole=True) and record["target_length"] > 0):
        return False
    if not isinstance(record.get("completion"), dict) or not isinstance(record.get("metadata", {}), dict | None):
        return False
    numbers_ok = all(record.get(name) is None or _number(record[name]) for name in ("score", "depth", "input_tokens"))
    names_ok = all(record.get(name) is None or isinstance(record[name], str) for name in CATEGORIES)
    return numbers_ok and names_ok and isinstance(record.get("truncated", False), bool | None)


def _row(record: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    completion = record.get("completion") or {}
    metadata = record.get("metadata") or {}
    score = record.get("score")
    if score is None and "score" not in record:  # written before the flat field existed
        score = (record.get("scores") or {}).get(record.get("primary_metric"))
    return {
        "key": record["key"],
        **{name: record.get(name) or "" for name in CATEGORIES},
        **{label_column(field): str(metadata.get(field) or "") for field in catalog.label_fields()},
        "target_length": record["target_length"],
        "depth": record.get("depth"),
        "input_tokens": record.get("input_tokens"),
        "truncated": bool(record.get("truncated")),
        "error": completion.get("error") is not None,
        "score": score,
        **{number_column(field): metadata.get(field) for field in catalog.number_fields()},
    }


def _line_chunks(
    path: Path, limit: int, catalog: Catalog, unreadable: list[int], rows_per_chunk: int = 100_000
) -> Iterator[pd.DataFrame]:
    """The tolerant path: corrupt, foreign and type-corrupt lines are skipped and counted in
    `unreadable[0]`. Lines are numbered as `read_lines` numbers them (every non-blank line counts),
    so a drill-down finds the same record.
    """
    rows: list[dict[str, Any]] = []
    number = -1
    with path.open("rb") as handle:
        consumed = 0
        for raw in handle:
            consumed += len(raw)
            if consumed > limit:
                break
            if not raw.strip():
                continue
            number += 1
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                record = None
            if not _is_record(record):
                unreadable[0] += 1
                continue
            rows.append({"line": number, **_row(record, catalog)})
            if len(rows) >= rows_per_chunk:
                yield _rows_frame(rows, catalog)
                rows = []
    if rows:
        yield _rows_frame(rows, catalog)


def _rows_frame(rows: list[dict[str, Any]], catalog: Catalog) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["key_hash"] = _hash_keys(frame.pop("key").to_numpy())
    for name in _category_columns(catalog):
        frame[name] = frame[name].astype("category")
    for name in ("depth", "input_tokens", "score", *map(number_column, catalog.number_fields())):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(np.float64)
    return frame


def _numbered(chunks: list[pd.DataFrame]) -> list[pd.DataFrame]:
    start = 0
    for chunk in chunks:
        chunk.insert(0, "line", np.arange(start, start + len(chunk), dtype=np.int64))
        start += len(chunk)
    return chunks


def _category_columns(catalog: Catalog) -> tuple[str, ...]:
    return (*CATEGORIES, *map(label_column, catalog.label_fields()))


def _run_chunks(run_dir: Path, catalog: Catalog, unreadable: list[int]) -> list[pd.DataFrame]:
    """Compact chunks of one run's records (all of them held: they are small by construction)."""
    path = run_dir / RECORDS
    limit = _complete_length(path) if path.exists() else 0
    if limit == 0:
        return []
    if _has_flat_score(path):
        try:
            return _numbered([_arrow_frame(path, limit, catalog)])
        except pa.ArrowInvalid:
            pass  # a corrupt line (or a field of another type) somewhere: read the file the tolerant way
    return list(_line_chunks(path, limit, catalog, unreadable))


def load_samples(
    run_dirs: list[Path], catalog: Catalog | None = None, model_ids: list[str] | None = None
) -> pd.DataFrame:
    """One row per sample (its latest record) across the given runs, in compact columns.

    `run` and `line` say where the record lives, so a drill-down can fetch its text later. The
    metadata labels and numbers the catalog's tasks declare become `label:FIELD` / `number:FIELD`
    columns; records without a family (release 0.1) take the catalog's. `model_ids[i]` says which
    model run i holds (`run_facts`): a key's latest record wins only among records of one model,
    so a second checkpoint of the same name never replaces the first one's results.
    """
    catalog = catalog or Catalog()
    chunks: list[pd.DataFrame] = []
    skipped_lines: dict[int, int] = {}
    for index, run_dir in enumerate(run_dirs):
        read_manifest(run_dir)  # a clear error for a folder that is not a run
        unreadable = [0]
        run_chunks = _run_chunks(run_dir, catalog, unreadable)
        if unreadable[0]:
            skipped_lines[index] = unreadable[0]
        for chunk in run_chunks:
            chunk.insert(0, "run", np.full(len(chunk), index, dtype=np.int32))
            chunks.append(chunk)
    if not chunks:
        raise UsageError("no records found in " + ", ".join(str(d) for d in run_dirs))
    categories = _category_columns(catalog)
    unified = {name: union_categoricals([chunk[name] for chunk in chunks]) for name in categories}
    frame = pd.concat([chunk.drop(columns=list(categories)) for chunk in chunks], ignore_index=True)
    for name, values in unified.items():
        frame[name] = values
    if model_ids is not None:
        identities = pd.util.hash_array(np.asarray(model_ids, dtype=object), categorize=False)
        frame["key_hash"] = frame["key_hash"].to_numpy() ^ identities[frame["run"].to_numpy()]
    frame = frame.drop_duplicates("key_hash", keep="last").drop(columns="key_hash").reset_index(drop=True)
    missing_family = frame["family"].astype(str) == ""
    if missing_family.any():
        families = frame["family"].astype(str)
        families[missing_family] = frame.loc[missing_family, "task"].astype(str).map(catalog.family)
        frame["family"] = families.astype("category")
    frame["score"] = frame["score"].where(~frame["error"])
    frame.attrs["unreadable_lines"] = skipped_lines  # run index -> lines skipped as unreadable
    return frame


def read_lines(run_dir: Path, wanted: set[int]) -> dict[int, dict[str, Any]]:
    """The full records at the given line numbers of a run (numbered as load_samples numbers them)."""
    found: dict[int, dict[str, Any]] = {}
    path = run_dir / RECORDS
    if not wanted or not path.exists():
        return found
    last = max(wanted)
    number = 0
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            if not raw.strip():
                continue
            if number in wanted:
                try:
                    found[number] = json.loads(raw)
                except json.JSONDecodeError:
                    pass
            number += 1
            if number > last:
                break
    return found


def load_skipped(run_dirs: list[Path]) -> pd.DataFrame:
    """Samples each run's tasks left out (could not fit), per task and length: columns run, task,
    target_length, skipped. Each invocation's counts replace the earlier ones for the tasks and
    lengths it built, so a rerun with another truncation policy is not double-counted."""
    rows = []
    for index, run_dir in enumerate(run_dirs):
        counts: dict[tuple[str, int], int] = {}
        for invocation in read_manifest(run_dir).invocations:
            if "skipped_samples" not in invocation:
                continue
            config = invocation.get("config") or {}
            built = {(task, int(length)) for task in config.get("tasks", ()) for length in config.get("lengths", ())}
            counts = {cell: count for cell, count in counts.items() if cell not in built}
            for entry in invocation["skipped_samples"]:
                counts[(entry["task"], int(entry["target_length"]))] = int(entry["count"])
        rows += [(index, task, length, count) for (task, length), count in sorted(counts.items()) if count]
    return pd.DataFrame(rows, columns=["run", "task", "target_length", "skipped"])
