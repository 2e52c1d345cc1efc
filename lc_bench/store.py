"""Append-only run storage: results/<run>/records.jsonl + manifest.json.

Records are flushed one line at a time, so a killed process loses at most the line it was
writing. That torn tail is moved aside to records.torn (never silently discarded) before new
lines are appended. Resume skips keys that already have a successful record; a key's latest
record wins in every view, so a retried error is superseded by its success.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

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


def iter_records(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the complete records of a records.jsonl; a torn or corrupt line is skipped."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                return  # torn tail from a killed writer
            try:
                yield json.loads(raw)
            except json.JSONDecodeError:
                continue


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


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class RunStore:
    """One run folder, held with an exclusive lock while a process appends to it."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.records_path = run_dir / RECORDS
        self.manifest_path = run_dir / MANIFEST
        self._handle: TextIO | None = None
        self._stages: TextIO | None = None
        self._lock: TextIO | None = None
        self.torn_bytes = 0

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
        self.torn_bytes = move_torn_tail(self.records_path)
        move_torn_tail(self.run_dir / STAGES)
        self._handle = self.records_path.open("a", encoding="utf-8")

    def _merge_manifest(self, new: RunManifest) -> RunManifest:
        old = RunManifest.model_validate_json(self.manifest_path.read_text(encoding="utf-8"))
        for field in IDENTITY_FIELDS:
            if getattr(old, field) != getattr(new, field):
                raise UsageError(
                    f"run dir {self.run_dir} holds a run with {field}={getattr(old, field)!r}, "
                    f"not {getattr(new, field)!r}: choose another --out or --name"
                )
        return old.model_copy(update={
            "invocations": old.invocations + new.invocations, "ended": None,
            "task_reports": {**old.task_reports, **new.task_reports},
        })

    def done_keys(self) -> set[str]:
        """Keys whose latest record succeeded: resume skips exactly these."""
        latest = latest_by_key(iter_records(self.records_path))
        return {key for key, record in latest.items() if not record["completion"].get("error")}

    def stage_outputs(self) -> dict[str, Completion]:
        """Successful first-call completions by sample key (latest wins)."""
        latest = latest_by_key(iter_records(self.run_dir / STAGES))
        return {key: Completion.model_validate(row) for key, row in latest.items() if not row.get("error")}

    def append_stage(self, completion: Completion) -> None:
        if self._stages is None:
            self._stages = (self.run_dir / STAGES).open("a", encoding="utf-8")
        self._stages.write(completion.model_dump_json() + "\n")
        self._stages.flush()

    def append(self, record: Record) -> None:
        assert self._handle is not None, "store is not open"
        self._handle.write(record.model_dump_json() + "\n")
        self._handle.flush()

    def close(self, manifest: RunManifest) -> None:
        for handle in (self._handle, self._stages):
            if handle is not None:
                handle.close()
        self._handle = self._stages = None
        write_json_atomic(self.manifest_path, manifest.model_dump(mode="json"))
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def read_manifest(run_dir: Path) -> RunManifest:
    path = run_dir / MANIFEST
    if not path.exists():
        raise UsageError(f"{run_dir} is not a run folder (no {MANIFEST})")
    try:
        return RunManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UsageError(f"{path} is unreadable: {str(exc).splitlines()[0]}") from None
