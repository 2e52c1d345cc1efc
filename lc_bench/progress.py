"""Run progress for `lc-bench run`: a line per task x length cell, ETAs from mean time per sample.

ETAs come from the samples finished in this invocation, never from a speed window (one sample can
take longer than any window): each record's `completion.latency_s` (plus its first stage's, for a
two-call task), or the wall time since the previous record when a runner reports none. A cell's
ETA is its remaining samples times its mean; a cell with none finished yet takes the mean of the
other tasks at its length, else a straight line through the means at the lengths measured so far
(flat while only one is); the overall ETA sums the cells. When requests overlap (an API runner's
concurrency), latencies add up to more than the wall time, and the ETAs are divided by that overlap.

In a terminal: a rich live display (the overall line and the cells still running), above which
every finished cell leaves a line. Elsewhere (a file, a CI log): plain lines without ANSI codes,
each readable on its own: one when a cell finishes, and a status line whenever `interval_s` (30 s)
passed without a line.

What happens before the first request is shown too: samples being built (per task, with its count
and seconds) and the model loading. In plain mode those lines are held back while the preparation
is younger than `interval_s` and written when the run starts (a run refused as bad input still
prints only its one error line); a longer preparation writes them as they come.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from lc_bench.lengths import format_length
from lc_bench.runloop import Progress
from lc_bench.schema import Record

STATUS_INTERVAL_S = 30.0  # plain mode: a status line when this long passed without a line
POLL_S = 1.0  # plain mode: how often the status thread looks at the clock
LIVE_CELLS = 10  # terminal: cells still running shown under the overall line

Cell = tuple[str, int]


def format_duration(seconds: float) -> str:
    """8.4s, 42s, 4m17s, 2h05m."""
    seconds = max(seconds, 0.0)
    if seconds < 9.95:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def format_rate(seconds: float) -> str:
    return f"{seconds:.2f} s/sample" if seconds < 0.995 else f"{seconds:.1f} s/sample"


@dataclass
class CellStats:
    task: str
    length: int
    total: int | None  # None: a cell the plan did not name
    done: int = 0  # recorded, by earlier invocations and this one
    finished: int = 0  # finished in this invocation
    seconds: float = 0.0  # their time
    errors: int = 0

    @property
    def label(self) -> str:
        return f"{self.task} {format_length(self.length)}"

    @property
    def remaining(self) -> int:
        return 0 if self.total is None else max(self.total - self.done, 0)

    @property
    def mean(self) -> float | None:
        return self.seconds / self.finished if self.finished else None

    def count(self) -> str:
        return f"{self.done}/{self.total}" if self.total is not None else f"{self.done} done"


class RunStats:
    """Counts and seconds per cell, and the ETAs they give; `now` comes from the caller's clock."""

    def __init__(self) -> None:
        self.cells: dict[Cell, CellStats] = {}
        self.total = 0
        self.already_done = 0
        self.started_at = 0.0
        self.last_at = 0.0
        self.current: Cell | None = None

    def plan(self, cells: dict[Cell, tuple[int, int]]) -> None:
        for (task, length), (total, recorded) in cells.items():
            self.cells[(task, length)] = CellStats(task, length, total, done=recorded)

    def start(self, total: int, already_done: int, now: float) -> None:
        self.total, self.already_done = total, already_done
        self.started_at = self.last_at = now

    def record(self, task: str, length: int, seconds: float | None, error: bool, now: float) -> CellStats:
        """One finished sample; `seconds` None: the wall time since the previous one."""
        cell = self.cells.setdefault((task, length), CellStats(task, length, None))
        cell.done += 1
        cell.finished += 1
        cell.seconds += max(now - self.last_at if seconds is None else seconds, 0.0)
        cell.errors += error
        self.last_at = now
        self.current = (task, length)
        return cell

    @property
    def finished(self) -> int:
        return sum(cell.finished for cell in self.cells.values())

    @property
    def done(self) -> int:
        return self.already_done + self.finished

    @property
    def errors(self) -> int:
        return sum(cell.errors for cell in self.cells.values())

    def mean(self) -> float | None:
        finished = self.finished
        return sum(cell.seconds for cell in self.cells.values()) / finished if finished else None

    def elapsed(self, now: float) -> float:
        return max(now - self.started_at, 0.0)

    def overlap(self) -> float:
        """How many requests ran at once on average (1 for a runner that runs them one by one)."""
        wall = self.last_at - self.started_at
        seconds = sum(cell.seconds for cell in self.cells.values())
        return max(seconds / wall, 1.0) if wall > 0 else 1.0

    def estimate(self, cell: CellStats) -> float | None:
        """Seconds per sample of a cell: its own mean; else the mean at its length (other tasks);
        else a straight line through the means at the lengths measured so far (flat while only
        one is: time grows with length, but less than in proportion while decoding dominates)."""
        if cell.finished:
            return cell.mean
        totals: dict[int, list[float]] = {}
        for other in self.cells.values():
            if other.finished:
                seconds, count = totals.setdefault(other.length, [0.0, 0])
                totals[other.length] = [seconds + other.seconds, count + other.finished]
        means = {length: seconds / count for length, (seconds, count) in totals.items()}
        if not means:
            return None
        if cell.length in means or len(means) == 1:
            return means.get(cell.length, next(iter(means.values())))
        x_mean = sum(means) / len(means)
        y_mean = sum(means.values()) / len(means)
        slope = sum((x - x_mean) * (y - y_mean) for x, y in means.items()) / sum((x - x_mean) ** 2 for x in means)
        slope = max(slope, 0.0)
        return max(y_mean + slope * (cell.length - x_mean), 0.0)

    def cell_eta(self, cell: CellStats) -> float | None:
        if not cell.remaining:
            return 0.0
        estimate = self.estimate(cell)
        return None if estimate is None else cell.remaining * estimate / self.overlap()

    def eta(self, now: float) -> float | None:
        """Seconds left for the whole run, counting down between records (never below the last
        remaining sample's share)."""
        remaining = max(self.total - self.done, 0)
        if not remaining:
            return 0.0
        mean = self.mean()
        if mean is None:
            return None
        left = 0.0
        planned = 0
        for cell in self.cells.values():
            if cell.remaining:
                cell_eta = self.cell_eta(cell)
                if cell_eta is None:
                    return None
                left += cell_eta
                planned += cell.remaining
        left += max(remaining - planned, 0) * mean / self.overlap()  # samples of cells never planned
        return max(left - (now - self.last_at), left * (remaining - 1) / remaining)


def record_seconds(record: Record) -> float | None:
    """A record's own generation time (all its calls), None when its runner reports none."""
    completion = getattr(record, "completion", None)
    latency = getattr(completion, "latency_s", None)
    if latency is None:
        return None
    stages = getattr(record, "stages", ()) or ()
    return latency + sum(stage.latency_s or 0.0 for stage in stages)


def cell_text(cell: CellStats, stats: RunStats, finished: bool = False) -> str:
    """`niah_single_1 4k: 12/20, 3.1 s/sample, ETA 25s` (finished: `niah_single_1 4k done: 20/20, ...`)"""
    parts = [f"{cell.label}{' done' * finished}: {cell.count()}"]
    if cell.mean is not None:
        parts.append(format_rate(cell.mean))
    eta = stats.cell_eta(cell)
    if cell.remaining and eta is not None:
        parts.append(f"ETA {format_duration(eta)}")
    if cell.errors:
        parts.append(plural(cell.errors, "error"))
    return ", ".join(parts)


def overall_text(stats: RunStats, now: float, cell: CellStats | None = None) -> str:
    """`37/120 samples, 2m03s elapsed, niah_single_1 4k 12/20, 3.1 s/sample, ETA 4m17s`"""
    parts = [f"{stats.done}/{stats.total} samples", f"{format_duration(stats.elapsed(now))} elapsed"]
    if cell is not None:
        parts.append(f"{cell.label} {cell.count()}")
    mean = stats.mean()
    if mean is not None:
        parts.append(format_rate(mean))
    eta = stats.eta(now)
    if stats.done < stats.total:
        parts.append(f"ETA {format_duration(eta)}" if eta is not None else "no ETA before the first sample")
    if stats.errors:
        parts.append(plural(stats.errors, "error"))
    return ", ".join(parts)


def start_text(stats: RunStats) -> str:
    cells = sum(1 for cell in stats.cells.values() if cell.remaining)
    to_run = stats.total - stats.already_done
    if not to_run:
        return f"all {stats.total} samples already recorded"
    where = f" in {plural(cells, 'task x length cell')}" if cells else ""
    if stats.already_done:
        return f"resuming: {stats.already_done} of {stats.total} samples already recorded, {to_run} to run{where}"
    return f"{plural(to_run, 'sample')} to run{where}"


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


class RichRunProgress(Progress):
    """`lc-bench run`'s progress on stderr: a rich live display in a terminal, plain lines elsewhere.

    `live`: None decides by whether the stream is a terminal. `clock`, `interval_s` and `threads`
    are for tests: with `threads=False` nothing runs in the background (no status thread, no live
    refresh) and `tick()` does the status thread's work.
    """

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        live: bool | None = None,
        console: Console | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval_s: float = STATUS_INTERVAL_S,
        poll_s: float = POLL_S,
        threads: bool = True,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live_mode = _is_terminal(self.stream) if live is None else live
        self.console = console if console is not None else Console(file=self.stream)
        self.clock = clock
        self.interval_s = interval_s
        self.poll_s = poll_s
        self.threads = threads
        self.stats = RunStats()
        self._lock = threading.RLock()
        self._began = self._last_line = clock()
        self._note: tuple[str, float] | None = None  # the step in progress before the run, since when
        self._built: list[tuple[str, int, float]] = []
        self._held: list[tuple[bool, str]] = []  # plain mode, before the run: (is a note, line)
        self._holding = True
        self._started = self._stopped = self._broken = False
        self._live: Live | None = None
        self._halt = threading.Event()
        self._ticker: threading.Thread | None = None

    # --- the Progress hooks ------------------------------------------------------------------

    def preparing(self, message: str) -> None:
        with self._lock:
            if self._stopped:
                return
            self._note = (message, self.clock())
            if not self.live_mode:
                self._prep_line(True, f"lc-bench: {message}")
        self._running()

    def building(self, task: str, count: int, seconds: float) -> None:
        with self._lock:
            if self._stopped:
                return
            self._built.append((task, count, seconds))
            if not self.live_mode:
                built = f"built {task}: {plural(count, 'sample')} in {format_duration(seconds)}"
                self._prep_line(False, f"lc-bench: {built}")
        self._running()

    def plan(self, cells: dict[Cell, tuple[int, int]]) -> None:
        with self._lock:
            self.stats.plan(cells)

    def start(self, total: int, already_done: int) -> None:
        printed: list[str] = []
        with self._lock:
            if self._stopped:
                return
            self.stats.start(total, already_done, self.clock())
            self._started = True
            self._note = None
            if self.live_mode:
                if self._built:
                    count = sum(count for _, count, _ in self._built)
                    seconds = sum(seconds for _, _, seconds in self._built)
                    tasks = ", ".join(f"{task} {count}" for task, count, _ in self._built)
                    printed.append(f"built {plural(count, 'sample')} in {format_duration(seconds)} ({tasks})")
                printed.append(start_text(self.stats))
            else:
                if self._holding:  # the notes are done by now; what was built still says something
                    for line in [line for is_note, line in self._held if not is_note]:
                        self._write(line)
                    self._holding = False
                    self._held.clear()
                self._write(f"lc-bench: {start_text(self.stats)}")
        self._print(printed)
        self._running()

    def advance(self, record: Record) -> None:
        printed: list[str] = []
        with self._lock:
            if self._stopped:
                return
            error = getattr(getattr(record, "completion", None), "error", None) is not None
            now = self.clock()
            cell = self.stats.record(record.task, record.target_length, record_seconds(record), error, now)
            if cell.total is not None and cell.done >= cell.total:
                line = cell_text(cell, self.stats, finished=True)
                if self.live_mode:  # the live overall line says the rest
                    printed.append(line)
                else:
                    rest = (
                        f"overall {overall_text(self.stats, now)}" if self.stats.done < self.stats.total
                        else f"all {self.stats.total} samples done in {format_duration(self.stats.elapsed(now))}"
                    )
                    self._write(f"lc-bench: {line}; {rest}")
        self._print(printed)

    def stop(self) -> None:
        printed: list[str] = []
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._halt.set()
            self._held.clear()  # a run refused before it started prints only its error
            stats = self.stats
            now = self.clock()
            errors = f", {plural(stats.errors, 'error')}" if stats.errors else ""
            if self._started and stats.done < stats.total:
                line = f"stopped at {stats.done}/{stats.total} samples after {format_duration(stats.elapsed(now))}"
                if self.live_mode:
                    printed.append(line + errors)
                else:
                    self._write(f"lc-bench: {line}{errors}")
            elif self._started and stats.finished and self.live_mode:  # plain mode's last cell line said it
                printed.append(f"all {stats.total} samples done in {format_duration(stats.elapsed(now))}{errors}")
            live, self._live = self._live, None
        try:
            if live is not None:
                live.stop()  # restores stdout and stderr; the transient display is erased
        finally:
            self._print(printed)

    # --- plain mode --------------------------------------------------------------------------

    def tick(self) -> None:
        """Plain mode: the held lines once the preparation is `interval_s` old, and a status line
        whenever `interval_s` passed without a line (the status thread calls this)."""
        with self._lock:
            if self._stopped or self.live_mode:
                return
            now = self.clock()
            if self._holding:
                self._release_if_due(now)
                return
            if now - self._last_line < self.interval_s:
                return
            if self._started:
                current = self.stats.cells.get(self.stats.current) if self.stats.current else None
                self._write(f"lc-bench: {overall_text(self.stats, now, current)}")
            elif self._note is not None:
                message, since = self._note
                self._write(f"lc-bench: {message} ({format_duration(now - since)} so far)")

    def _prep_line(self, is_note: bool, line: str) -> None:
        if self._holding:
            self._held.append((is_note, line))
            self._release_if_due(self.clock())
        else:
            self._write(line)

    def _release_if_due(self, now: float) -> None:
        """A preparation `interval_s` old writes what it held, and from then on as it comes."""
        if now - self._began >= self.interval_s:
            self._holding = False
            for _, line in self._held:
                self._write(line)
            self._held.clear()

    def _write(self, line: str) -> None:
        self._last_line = self.clock()
        if self._broken:
            return
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe or file: progress never stops a run
            self._broken = True

    # --- background work ---------------------------------------------------------------------

    def _running(self) -> None:
        """Start what runs in the background, once: the live display, or the status thread."""
        if self._stopped:
            return
        if self.live_mode:
            if self._live is None:
                self._live = Live(
                    self, console=self.console, transient=True, auto_refresh=self.threads, refresh_per_second=4
                )
                self._live.start()
            elif not self.threads:
                self._live.refresh()
        elif self.threads and self._ticker is None:
            self._ticker = threading.Thread(target=self._tick_loop, name="lc-bench-progress", daemon=True)
            self._ticker.start()

    def _tick_loop(self) -> None:
        while not self._halt.wait(self.poll_s):
            self.tick()

    # --- terminal mode -----------------------------------------------------------------------

    def _print(self, lines: list[str]) -> None:
        """Lines that stay, above the live display (never called holding the lock: the live
        display's refresh takes its own lock, then ours)."""
        for line in lines:
            self.console.print(Text(line), highlight=False)

    def lines(self) -> list[Text]:
        """The live display: before the run, its preparation; then the overall line and the
        cells still running (those with samples finished first)."""
        with self._lock:
            now = self.clock()
            if not self._started:
                shown = []
                if self._note is not None:
                    message, since = self._note
                    shown.append(Text(f"{message} {format_duration(now - since)}", style="bold"))
                shown += [
                    Text(f"  built {task}: {plural(count, 'sample')} in {format_duration(seconds)}")
                    for task, count, seconds in self._built
                ]
                return shown
            shown = [Text(f"lc-bench {overall_text(self.stats, now)}", style="bold")]
            running = [cell for cell in self.stats.cells.values() if cell.remaining]
            running.sort(key=lambda cell: cell.finished == 0)  # stable: plan order otherwise
            shown += [Text(f"  {cell_text(cell, self.stats)}") for cell in running[:LIVE_CELLS]]
            if len(running) > LIVE_CELLS:
                shown.append(Text(f"  ... and {len(running) - LIVE_CELLS} more cells", style="dim"))
            return shown

    def __rich__(self) -> Group:
        return Group(*self.lines())
