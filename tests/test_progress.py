"""Run progress: a line per task x length cell, ETAs from the mean time per sample, plain lines
(no ANSI codes) when stderr is not a terminal, a rich live display when it is, and the run loop's
hooks before the first request. A fake clock drives every timing."""

from __future__ import annotations

import io
import threading

import pytest
from rich.console import Console

import lc_bench
from lc_bench.errors import UsageError
from lc_bench.progress import RichRunProgress, RunStats, format_duration
from lc_bench.runloop import Progress, ProgressHooks
from lc_bench.schema import Completion, GenerationError, Record
from tests.helpers import HANG_GUARD_S

K4 = 4096
CELLS = {("niah_single_1", K4): (3, 0), ("vt", K4): (2, 0), ("vt", 2 * K4): (2, 0)}


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def record(task: str, length: int, latency: float | None, error: bool = False) -> Record:
    failure = GenerationError(type="RuntimeError", message="boom") if error else None
    completion = Completion(key="k", text="", latency_s=latency, error=failure)
    return Record.model_construct(task=task, target_length=length, completion=completion, stages=())


def plain(clock: FakeClock, interval_s: float = 30.0) -> tuple[RichRunProgress, io.StringIO]:
    stream = io.StringIO()
    return RichRunProgress(stream=stream, live=False, clock=clock, interval_s=interval_s, threads=False), stream


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_format_duration():
    assert [format_duration(s) for s in (0.04, 8.44, 42.4, 257, 7500)] == ["0.0s", "8.4s", "42s", "4m17s", "2h05m"]


# --- plain mode (a file, a CI log) ---------------------------------------------------------------


def test_plain_mode_writes_a_line_per_finished_cell_with_the_eta_from_mean_latency():
    clock = FakeClock()
    progress, stream = plain(clock)
    progress.plan(CELLS)
    progress.start(7, 0)
    assert lines(stream) == ["lc-bench: 7 samples to run in 3 task x length cells"]
    for latency in (10.0, 20.0, 30.0):
        clock.now += latency
        progress.advance(record("niah_single_1", K4, latency))
    # 20 s per sample at 4k, the only length measured yet: 4 samples left at 20 s
    assert lines(stream)[-1] == (
        "lc-bench: niah_single_1 4k done: 3/3, 20.0 s/sample; overall 3/7 samples, 1m00s elapsed, "
        "20.0 s/sample, ETA 1m20s"
    )
    clock.now += 5.0
    progress.advance(record("vt", K4, 5.0, error=True))
    assert len(lines(stream)) == 2  # the cell is not finished yet
    clock.now += 5.0
    progress.advance(record("vt", K4, 5.0))
    assert lines(stream)[-1] == (
        "lc-bench: vt 4k done: 2/2, 5.0 s/sample, 1 error; overall 5/7 samples, 1m10s elapsed, "
        "14.0 s/sample, ETA 28s, 1 error"
    )
    assert "\x1b" not in stream.getvalue()


def test_plain_mode_status_line_every_interval_without_a_line():
    clock = FakeClock()
    progress, stream = plain(clock, interval_s=30.0)
    progress.plan(CELLS)
    progress.start(7, 0)
    clock.now += 12.0
    progress.advance(record("niah_single_1", K4, 12.0))
    clock.now += 17.0
    progress.tick()
    assert len(lines(stream)) == 1  # 29 s since the start line
    clock.now += 1.0
    progress.tick()
    # 6 samples at 12 s: 72 s, counting down since the last sample (18 s ago) but never below the
    # last remaining sample's share (5/6 of it)
    assert lines(stream)[-1] == "lc-bench: 1/7 samples, 30s elapsed, niah_single_1 4k 1/3, 12.0 s/sample, ETA 1m00s"
    clock.now += 10.0
    progress.tick()
    assert len(lines(stream)) == 2
    clock.now += 20.0
    progress.tick()
    assert len(lines(stream)) == 3 and lines(stream)[-1].startswith("lc-bench: 1/7 samples, 1m00s elapsed")


def test_the_eta_counts_down_between_samples():
    stats = RunStats()
    stats.plan({("vt", K4): (3, 0)})
    stats.start(3, 0, now=0.0)
    assert stats.eta(now=5.0) is None
    stats.record("vt", K4, 10.0, False, now=10.0)
    assert stats.eta(now=10.0) == 20.0
    assert stats.eta(now=13.0) == 17.0
    assert stats.eta(now=25.0) == 10.0  # the last sample's share stays


def test_plain_mode_without_latency_uses_the_wall_time_between_samples():
    clock = FakeClock()
    progress, stream = plain(clock, interval_s=5.0)
    progress.plan({("vt", K4): (4, 1)})
    progress.start(4, 1)
    assert lines(stream) == ["lc-bench: resuming: 1 of 4 samples already recorded, 3 to run in 1 task x length cell"]
    clock.now += 6.0
    progress.advance(record("vt", K4, None))
    clock.now += 2.0
    progress.advance(record("vt", K4, None))
    clock.now += 1.0
    progress.tick()
    assert lines(stream)[-1] == "lc-bench: 3/4 samples, 9.0s elapsed, vt 4k 3/4, 4.0 s/sample, ETA 3.0s"
    clock.now += 3.0
    progress.advance(record("vt", K4, None))
    assert lines(stream)[-1] == "lc-bench: vt 4k done: 4/4, 4.0 s/sample; all 4 samples done in 12s"


def test_a_cell_not_started_is_estimated_from_the_lengths_measured():
    stats = RunStats()
    stats.plan({("a", 1024): (2, 0), ("b", 1024): (1, 0), ("a", 4096): (1, 0), ("a", 8192): (2, 0)})
    stats.start(6, 0, now=0.0)
    stats.record("a", 1024, 30.0, False, now=30.0)
    stats.record("a", 1024, 34.0, False, now=64.0)
    assert stats.estimate(stats.cells[("b", 1024)]) == 32.0  # the mean at its length
    assert stats.estimate(stats.cells[("a", 8192)]) == 32.0  # one length measured: flat
    stats.record("a", 8192, 74.0, False, now=138.0)
    assert stats.estimate(stats.cells[("a", 4096)]) == pytest.approx(32.0 + 42.0 * 3 / 7)  # between 1k and 8k


def test_overlapping_requests_divide_the_eta():
    stats = RunStats()
    stats.plan({("vt", K4): (10, 0)})
    stats.start(10, 0, now=0.0)
    for second in (10.0, 10.0, 10.0, 10.0):  # four 10 s requests at once, finished by second 10
        stats.record("vt", K4, second, False, now=10.0)
    assert stats.overlap() == 4.0
    assert stats.eta(now=10.0) == 6 * 10.0 / 4


def test_plain_mode_holds_preparation_lines_until_the_run_starts():
    clock = FakeClock()
    progress, stream = plain(clock)
    progress.preparing("building samples for 2 tasks ...")
    clock.now += 3.0
    progress.building("niah_single_1", 24, 3.0)
    progress.building("vt", 24, 1.5)
    progress.preparing("loading tiny with the hf runner ...")
    progress.tick()
    assert stream.getvalue() == ""
    progress.plan({("vt", K4): (48, 0)})
    progress.start(48, 0)
    assert lines(stream) == [  # the notes are over by now: what was built stays
        "lc-bench: built niah_single_1: 24 samples in 3.0s",
        "lc-bench: built vt: 24 samples in 1.5s",
        "lc-bench: 48 samples to run in 1 task x length cell",
    ]


def test_a_run_refused_while_preparing_prints_nothing():
    clock = FakeClock()
    progress, stream = plain(clock)
    progress.preparing("building samples for 1 task ...")
    progress.building("niah_single_1", 24, 3.0)
    progress.stop()
    clock.now += 100.0
    progress.tick()
    assert stream.getvalue() == ""


def test_a_long_preparation_is_written_as_it_goes():
    clock = FakeClock()
    progress, stream = plain(clock, interval_s=30.0)
    progress.preparing("building samples for 2 tasks ...")
    clock.now += 20.0
    progress.building("niah_single_1", 24, 20.0)
    assert stream.getvalue() == ""
    clock.now += 10.0
    progress.tick()
    assert lines(stream) == [
        "lc-bench: building samples for 2 tasks ...", "lc-bench: built niah_single_1: 24 samples in 20s"
    ]
    progress.preparing("loading tiny with the hf runner ...")
    assert lines(stream)[-1] == "lc-bench: loading tiny with the hf runner ..."
    clock.now += 30.0
    progress.tick()
    assert lines(stream)[-1] == "lc-bench: loading tiny with the hf runner ... (30s so far)"


def test_an_interrupted_run_says_where_it_stopped():
    clock = FakeClock()
    progress, stream = plain(clock)
    progress.plan(CELLS)
    progress.start(7, 0)
    clock.now += 3.0
    progress.advance(record("vt", K4, 3.0))
    progress.stop()
    progress.stop()
    assert lines(stream)[-1] == "lc-bench: stopped at 1/7 samples after 3.0s"
    assert len(lines(stream)) == 2


def test_the_status_thread_writes_on_its_own():
    clock = FakeClock()
    stream = io.StringIO()
    written = threading.Event()

    class Watched(io.StringIO):
        def write(self, text: str) -> int:
            stream.write(text)
            if "elapsed" in text:
                written.set()
            return len(text)

    progress = RichRunProgress(stream=Watched(), live=False, clock=clock, interval_s=30.0, poll_s=0.01)
    progress.plan(CELLS)
    progress.start(7, 0)
    clock.now += 31.0
    assert written.wait(timeout=HANG_GUARD_S)
    progress.stop()
    assert "lc-bench: 0/7 samples, 31s elapsed, no ETA before the first sample" in stream.getvalue()


# --- terminal mode ------------------------------------------------------------------------------


def terminal_console() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=120, record=True, color_system="standard")


def test_terminal_mode_renders_cell_lines_with_their_eta():
    clock = FakeClock()
    console = terminal_console()
    progress = RichRunProgress(live=True, console=console, clock=clock, threads=False)
    progress.preparing("building samples for 2 tasks ...")
    progress.building("niah_single_1", 3, 1.0)
    progress.building("vt", 4, 0.5)
    shown = terminal_console()
    shown.print(progress)
    text = shown.export_text()
    assert "building samples for 2 tasks ... 0.0s" in text and "built niah_single_1: 3 samples in 1.0s" in text
    progress.plan(CELLS)
    progress.start(7, 0)
    clock.now += 2.0
    progress.advance(record("niah_single_1", K4, 2.0))
    shown = terminal_console()
    shown.print(progress)
    text = shown.export_text()
    assert "lc-bench 1/7 samples, 2.0s elapsed, 2.0 s/sample, ETA 12s" in text
    assert "niah_single_1 4k: 1/3, 2.0 s/sample, ETA 4.0s" in text
    assert "vt 4k: 0/2, ETA 4.0s" in text and "vt 8k: 0/2, ETA 4.0s" in text
    for _ in range(2):
        clock.now += 2.0
        progress.advance(record("niah_single_1", K4, 2.0))
    progress.stop()
    kept = console.export_text()
    assert "built 7 samples in 1.5s (niah_single_1 3, vt 4)" in kept
    assert "7 samples to run in 3 task x length cells" in kept
    assert "niah_single_1 4k done: 3/3, 2.0 s/sample" in kept
    assert "stopped at 3/7 samples after 6.0s" in kept


def test_terminal_mode_leaves_a_line_per_finished_cell_and_the_total():
    clock = FakeClock()
    console = terminal_console()
    progress = RichRunProgress(live=True, console=console, clock=clock, threads=False)
    progress.plan({("vt", K4): (2, 0)})
    progress.start(2, 0)
    for _ in range(2):
        clock.now += 1.5
        progress.advance(record("vt", K4, 1.5))
    progress.stop()
    kept = console.export_text()
    assert "vt 4k done: 2/2, 1.5 s/sample" in kept and "all 2 samples done in 3.0s" in kept


def test_terminal_mode_shows_at_most_ten_running_cells():
    clock = FakeClock()
    progress = RichRunProgress(live=True, console=terminal_console(), clock=clock, threads=False)
    progress.plan({(f"task{i}", K4): (1, 0) for i in range(14)})
    progress.start(14, 0)
    shown = terminal_console()
    shown.print(progress)
    assert "... and 4 more cells" in shown.export_text()
    progress.stop()


# --- the run loop's hooks -----------------------------------------------------------------------


class Recording(Progress):
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def preparing(self, message: str) -> None:
        self.calls.append(("preparing", message))

    def building(self, task: str, count: int, seconds: float) -> None:
        assert seconds >= 0
        self.calls.append(("building", task, count))

    def plan(self, cells: dict[tuple[str, int], tuple[int, int]]) -> None:
        self.calls.append(("plan", cells))

    def start(self, total: int, already_done: int) -> None:
        self.calls.append(("start", total, already_done))

    def advance(self, record: Record) -> None:
        self.calls.append(("advance", record.task, record.target_length))

    def stop(self) -> None:
        self.calls.append(("stop",))


def evaluate(model_dir, out, progress, **options):  # noqa: ANN001, ANN003, ANN201
    return lc_bench.evaluate(model=str(model_dir), tasks="niah_single_1,vt", lengths="1k,2k", depths="0,100",
                             samples=1, runner="echo", out=out, name="r", progress=progress, write_outputs=False,
                             **options)


def test_the_run_loop_reports_building_per_task_then_the_cells(tiny_model_dir, tmp_path):
    progress = Recording()
    evaluate(tiny_model_dir, tmp_path, progress)
    names = [call[0] for call in progress.calls]
    assert progress.calls[0] == ("preparing", "building samples for 2 tasks ...")
    # grid tasks are built cell by cell as the run streams: each task's first cell is built (and
    # reported) before the run starts, so bad input or missing data is refused before any writing
    built = {call[1]: call[2] for call in progress.calls if call[0] == "building"}
    assert set(built) == {"niah_single_1", "vt"} and all(count >= 1 for count in built.values())
    plan = next(call for call in progress.calls if call[0] == "plan")
    assert plan == ("plan", {("niah_single_1", 1024): (2, 0), ("niah_single_1", 2048): (2, 0),
                             ("vt", 1024): (1, 0), ("vt", 2048): (1, 0)})
    assert names.index("plan") < names.index("start") < names.index("advance")
    assert ("start", 6, 0) in progress.calls
    assert names.count("advance") == 6 and names[-1] == "stop"
    again = Recording()
    evaluate(tiny_model_dir, tmp_path, again)  # resumed: every cell already recorded
    assert ("plan", {("niah_single_1", 1024): (2, 2), ("niah_single_1", 2048): (2, 2),
                     ("vt", 1024): (1, 1), ("vt", 2048): (1, 1)}) in again.calls
    assert again.calls[-2:] == [("start", 6, 6), ("stop",)]


def test_a_progress_object_with_only_the_first_hooks_keeps_working(tiny_model_dir, tmp_path):
    class OldStyle:  # no base class, no preparing / building / plan
        def __init__(self) -> None:
            self.advanced = 0
            self.stopped = 0

        def start(self, total: int, already_done: int) -> None:
            self.total = total

        def advance(self, record: Record) -> None:
            self.advanced += 1

        def stop(self) -> None:
            self.stopped += 1

    progress = OldStyle()
    evaluate(tiny_model_dir, tmp_path, progress)
    assert (progress.total, progress.advanced, progress.stopped) == (6, 6, 1)


def test_a_refused_run_stops_the_progress_once_and_raises_its_own_error(tiny_model_dir, tmp_path, monkeypatch):
    from lc_bench.runners.testing import EchoRunner

    def refuse(self, max_total_tokens: int) -> None:  # noqa: ANN001 - a runner refusing after the build
        raise UsageError("no room for the longest request")

    class BrokenStop(Recording):
        def stop(self) -> None:
            super().stop()
            raise RuntimeError("the display failed")

    monkeypatch.setattr(EchoRunner, "prepare", refuse)
    progress = BrokenStop()
    with pytest.raises(UsageError, match="no room"):
        evaluate(tiny_model_dir, tmp_path, progress)
    assert [call[0] for call in progress.calls] == ["preparing", "building", "building", "stop"]
    stream = io.StringIO()
    quiet = RichRunProgress(stream=stream, live=False, threads=False)
    with pytest.raises(UsageError, match="no room"):
        evaluate(tiny_model_dir, tmp_path, quiet)
    assert stream.getvalue() == ""  # the CLI's one error line stays the only one


def test_an_interrupt_survives_a_failing_stop(tiny_model_dir, tmp_path):
    class Interrupted(Recording):
        def advance(self, record: Record) -> None:
            raise KeyboardInterrupt

        def stop(self) -> None:
            raise RuntimeError("the display failed")

    with pytest.raises(KeyboardInterrupt):
        evaluate(tiny_model_dir, tmp_path, Interrupted())


def test_a_failing_stop_after_a_good_run_is_raised():
    hooks = ProgressHooks(type("Failing", (), {"stop": lambda self: 1 / 0})())
    hooks.stop()
    hooks.stop()
    assert isinstance(hooks.stop_error, ZeroDivisionError)


def test_converting_the_bundled_model_says_so_first(tmp_path, monkeypatch, capsys):
    from lc_bench import models

    try:
        models.default_gguf_folder()
    except UsageError:
        pytest.skip("the bundled model's package is not installed")

    def convert(gguf_path, target):  # noqa: ANN001 - models.convert_gguf's signature
        assert "converting the bundled model once (about a minute)" in capsys.readouterr().err
        target.mkdir(parents=True)
        (target / "config.json").write_text("{}")

    monkeypatch.setenv("LC_BENCH_CACHE", str(tmp_path))
    monkeypatch.setattr(models, "convert_gguf", convert)
    models.default_model()
    assert "converted the bundled model in" in capsys.readouterr().err
    models.default_model()  # converted already: nothing to say
    assert capsys.readouterr().err == ""
