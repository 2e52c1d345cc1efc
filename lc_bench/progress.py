"""A rich progress bar for runs: samples done / total, throughput, elapsed and ETA."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from lc_bench.runloop import Progress
from lc_bench.schema import Record


class ThroughputColumn(ProgressColumn):
    def render(self, task) -> Text:  # noqa: ANN001 - rich's Task type
        speed = task.finished_speed or task.speed
        return Text("– samples/s" if speed is None else f"{speed:.2f} samples/s", style="cyan")


class RichRunProgress(Progress):
    """Progress on stderr; on a non-terminal (CI logs) rich prints only the final state."""

    def __init__(self) -> None:
        self.console = Console(file=sys.stderr)
        self.bar = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            ThroughputColumn(),
            TextColumn("errors {task.fields[errors]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self.task_id = None
        self.errors = 0

    def start(self, total: int, already_done: int) -> None:
        if already_done:
            self.console.print(f"resuming: {already_done} of {total} samples already recorded")
        self.bar.start()
        self.task_id = self.bar.add_task("samples", total=total, completed=already_done, errors=0)

    def advance(self, record: Record) -> None:
        self.errors += record.completion.error is not None
        self.bar.update(self.task_id, advance=1, errors=self.errors)

    def stop(self) -> None:
        self.bar.stop()
