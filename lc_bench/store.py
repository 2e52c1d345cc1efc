"""Append-only run storage: results/<run>/records.jsonl + manifest.json.

Records are written one line at a time, so a killed process loses at most the line it was
writing. That torn tail is moved aside to records.torn (never silently discarded) before new
lines are appended. Resume skips keys that already have a successful record; a key's latest
record wins in every view, so a retried error is superseded by its success. A line that is not a
record (hand-edited, pasted from elsewhere) is skipped and counted, never a reason to stop. A write
that fails (disk full) takes its partial line back and leaves no .tmp file: a rerun resumes.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from pydantic import ValidationError

from lc_bench.config import describe_validation_error
from lc_bench.errors import UsageError
from lc_bench.schema import Completion, Record, RunManifest

RECORDS = "records.jsonl"
MANIFEST = "manifest.json"
TORN = "records.torn"
STAGES = "stages.jsonl"  # first-call outputs of multi-call tasks, so a resume does not redo them
IDENTITY_FIELDS = ("model", "runner", "tokenizer", "chat_template_sha256")


def check_writable(run_dir: Path) -> None:
    """Fail before writing anything when the run dir (or its nearest existing parent) is read-only."""
    probe = run_dir
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise UsageError(f"output dir {run_dir} is not a directory ({probe} is a file)")
    try:  # os.access says yes to root everywhere; a real probe file tells the truth
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError:
        raise UsageError(f"output dir {run_dir} is not writable") from None


def json_lines(path: Path) -> Iterator[Any]:
    """The JSON value of each complete, non-blank line; None for a line that is not JSON (not
    UTF-8, cut, or nested past the parser's depth). A torn tail from a killed writer ends it."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                return  # torn tail from a killed writer
            if not raw.strip():
                continue
            try:
                yield json.loads(raw)
            except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                yield None


def is_record(value: Any) -> bool:
    """What resume relies on: an object with a text `key` and a `completion` object."""
    return isinstance(value, dict) and isinstance(value.get("key"), str) and isinstance(value.get("completion"), dict)


def is_stage(value: Any) -> bool:
    """A stages.jsonl line: a whole Completion (resume hands it to the task's second call)."""
    if not isinstance(value, dict) or not isinstance(value.get("key"), str):
        return False
    try:
        Completion.model_validate(value)
    except ValidationError:
        return False
    return True


def iter_records(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the complete records of a records.jsonl; a torn, corrupt or foreign line is skipped."""
    return (value for value in json_lines(path) if is_record(value))


def latest_by_key(records: Iterator[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        latest[record["key"]] = record
    return latest


def move_torn_tail(path: Path) -> int:
    """If the file ends mid-line, move the partial line to records.torn; return its byte count."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with path.open("rb+") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 1))
        if handle.read(1) == b"\n":
            return 0
        position = size
        chunk = 65536
        while position > 0:
            start = max(0, position - chunk)
            handle.seek(start)
            block = handle.read(position - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                cut = start + newline + 1
                break
            position = start
        else:
            cut = 0
        handle.seek(cut)
        tail = handle.read()
        with (path.parent / TORN).open("ab") as torn:
            torn.write(tail + b"\n")
        handle.truncate(cut)
    return len(tail)


def write_error(path: Path, exc: OSError) -> UsageError:
    """A failed write as one line; a full disk says so, since freeing space and rerunning resumes."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return UsageError(f"disk full writing {path} ({exc.strerror}): free some space and rerun to resume")
    return UsageError(f"cannot write {path}: {exc.strerror or exc}")


def write_fully(handle: BinaryIO, data: bytes) -> None:
    """All of `data` through an unbuffered file (one write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[handle.write(view) :]


def append_line(handle: BinaryIO, path: Path, line: str) -> None:
    """Append one line; if the write fails, cut the file back to where it was, so no torn line is
    left behind (should that fail too, the next open moves the torn tail aside)."""
    start = os.fstat(handle.fileno()).st_size
    try:
        write_fully(handle, (line + "\n").encode("utf-8"))
    except OSError as exc:
        with suppress(OSError):
            handle.truncate(start)
        raise write_error(path, exc) from None


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write through a .tmp file and rename; a failed write removes the .tmp and keeps the old file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        with tmp.open("wb", buffering=0) as handle:
            write_fully(handle, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))
        os.replace(tmp, path)
    except OSError as exc:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise write_error(path, exc) from None


class RunStore:
    """One run folder, held with an exclusive lock while a process appends to it."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.records_path = run_dir / RECORDS
        self.manifest_path = run_dir / MANIFEST
        self._handle: BinaryIO | None = None
        self._stages: BinaryIO | None = None
        self._lock: TextIO | None = None
        self.torn_bytes = 0
        self._foreign: dict[str, int] = {}  # file name -> lines in it that are not records
        # file name -> (its inode, size and mtime when read, the latest lines, the foreign lines)
        self._readings: dict[str, tuple[tuple[int, int, int], dict[str, dict[str, Any]], int]] = {}

    @property
    def foreign_lines(self) -> int:
        """Lines of records.jsonl / stages.jsonl that were skipped as not records (for a warning):
        their samples are not done, so this run generates them again."""
        return sum(self._foreign.values())

    def open(self, manifest: RunManifest) -> RunManifest:
        """Create or reopen the run; refuse a run folder made for another model or runner."""
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create run dir {self.run_dir}: {exc.strerror}") from None
        self._take_lock()
        if self.manifest_path.exists():
            manifest = self._merge_manifest(manifest)
        write_json_atomic(self.manifest_path, manifest.model_dump(mode="json"))
        self._open_appending()
        return manifest

    def open_for_update(self) -> RunManifest:
        """Lock an existing run to append records to it (a judge stage) without changing its identity."""
        manifest = read_manifest(self.run_dir)
        self._take_lock()
        self._open_appending()
        return manifest

    def _take_lock(self) -> None:
        self._lock = (self.run_dir / ".lock").open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"run dir {self.run_dir} is in use by another lc-bench process") from None

    def _open_appending(self) -> None:
        """Move torn tails aside, then open records.jsonl for appending (stages.jsonl on first use)."""
        try:
            self.torn_bytes = move_torn_tail(self.records_path)
            move_torn_tail(self.run_dir / STAGES)
            self._handle = self.records_path.open("ab", buffering=0)
        except OSError as exc:
            raise write_error(self.records_path, exc) from None

    def _merge_manifest(self, new: RunManifest) -> RunManifest:
        old = read_manifest(self.run_dir)
        for field in IDENTITY_FIELDS:
            if getattr(old, field) != getattr(new, field):
                raise UsageError(
                    f"run dir {self.run_dir} holds a run with {field}={getattr(old, field)!r}, "
                    f"not {getattr(new, field)!r}: choose another --out or --name"
                )
        return old.model_copy(update={
            "invocations": old.invocations + new.invocations, "ended": None,
            "task_reports": {**old.task_reports, **new.task_reports},
            # a folder written before fingerprints learns its model's (run_identity checked it first)
            "model_fingerprint": old.model_fingerprint or new.model_fingerprint,
        })

    def done_keys(self) -> set[str]:
        """Keys whose latest record succeeded: resume skips exactly these."""
        latest = self._latest(self.records_path, is_record)
        return {key for key, record in latest.items() if not record["completion"].get("error")}

    def stage_outputs(self) -> dict[str, Completion]:
        """Successful first-call completions by sample key (latest wins)."""
        latest = self._latest(self.run_dir / STAGES, is_stage)
        return {key: Completion.model_validate(row) for key, row in latest.items() if not row.get("error")}

    def _latest(self, path: Path, accept: Callable[[Any], bool]) -> dict[str, dict[str, Any]]:
        """Each key's latest accepted line; the others are counted in `foreign_lines`. A file this
        store read before and unchanged since (same inode, size and modification time) is not
        parsed again: a run plans with its store's reading and reads again after taking the lock."""
        try:
            status = path.stat()
            state: tuple[int, int, int] | None = (status.st_ino, status.st_size, status.st_mtime_ns)
        except OSError:
            state = None
        kept = self._readings.get(path.name)
        if state is not None and kept is not None and kept[0] == state:
            self._foreign[path.name] = kept[2]
            return dict(kept[1])
        latest = {}
        foreign = 0
        for value in json_lines(path):
            if accept(value):
                latest[value["key"]] = value
            else:
                foreign += 1
        self._foreign[path.name] = foreign
        if state is not None:
            self._readings[path.name] = (state, dict(latest), foreign)
        return latest

    def append_stage(self, completion: Completion) -> None:
        if self._stages is None:
            try:
                self._stages = (self.run_dir / STAGES).open("ab", buffering=0)
            except OSError as exc:
                raise write_error(self.run_dir / STAGES, exc) from None
        append_line(self._stages, self.run_dir / STAGES, completion.model_dump_json())

    def append(self, record: Record) -> None:
        assert self._handle is not None, "store is not open"
        append_line(self._handle, self.records_path, record.model_dump_json())

    def close(self, manifest: RunManifest) -> None:
        """Close the files and write the manifest; the lock is released even if that write fails."""
        try:
            for handle in (self._handle, self._stages):
                if handle is not None:
                    handle.close()
            self._handle = self._stages = None
            write_json_atomic(self.manifest_path, manifest.model_dump(mode="json"))
        finally:
            if self._lock is not None:
                self._lock.close()
                self._lock = None


def read_manifest(run_dir: Path) -> RunManifest:
    path = run_dir / MANIFEST
    if not path.exists():
        raise UsageError(f"{run_dir} is not a run folder (no {MANIFEST})")
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise _corrupt_manifest(path, exc.strerror) from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise _corrupt_manifest(path, "not JSON") from None
    if not isinstance(data, dict):
        raise _corrupt_manifest(path, "not a JSON object")
    try:
        return RunManifest.model_validate_json(text)
    except ValidationError as exc:
        raise _corrupt_manifest(path, describe_validation_error(exc, {})) from None


def _corrupt_manifest(path: Path, reason: str) -> UsageError:
    return UsageError(
        f"{path} is unreadable ({reason}): restore it, or start a new run with another --name or --out"
    )
