"""The task declarations a leaderboard is built from, read from the runs' manifests.

Each run's manifest holds, per task, the family and report axes its code declared when it ran
(`lc_bench.axes.TaskReport`). Manifests written before that field existed (release 0.1) name
their tasks only: a caller may pass `fallback`, which answers for such a task (the Python API
asks the task registry); a task nobody declares gets no extra tables and its name as family.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lc_bench.axes import LabelAxis, OutputLengthAxis, ReportAxes, TaskReport
from lc_bench.store import read_manifest

Fallback = Callable[[str], TaskReport | None]


@dataclass(frozen=True)
class Catalog:
    """Task name -> its declaration, in (family, task) order so tables come out in a stable order."""

    reports: dict[str, TaskReport] = field(default_factory=dict)

    def family(self, task: str) -> str:
        report = self.reports.get(task)
        return report.family if report is not None else task

    def axes(self, task: str) -> ReportAxes:
        report = self.reports.get(task)
        return report.axes if report is not None else ReportAxes()

    def _ordered(self) -> list[tuple[str, ReportAxes]]:
        return [(task, report.axes) for task, report in sorted(self.reports.items(), key=lambda i: (i[1].family, i[0]))]

    def label_fields(self) -> tuple[str, ...]:
        """Metadata keys read as labels, in first-declared order."""
        return tuple(dict.fromkeys(f for _, axes in self._ordered() for f in axes.metadata_labels()))

    def number_fields(self) -> tuple[str, ...]:
        """Metadata keys read as numbers (baselines, requested output lengths)."""
        return tuple(dict.fromkeys(f for _, axes in self._ordered() for f in axes.metadata_numbers()))

    def label_axes(self) -> list[tuple[LabelAxis, list[str]]]:
        """Each distinct label axis with the tasks declaring it, in first-declared order."""
        found: dict[LabelAxis, list[str]] = {}
        for task, axes in self._ordered():
            for axis in axes.labels:
                found.setdefault(axis, []).append(task)
        return list(found.items())

    def output_axes(self) -> list[tuple[OutputLengthAxis, list[str]]]:
        found: dict[OutputLengthAxis, list[str]] = {}
        for task, axes in self._ordered():
            if axes.output_length is not None:
                found.setdefault(axes.output_length, []).append(task)
        return list(found.items())

    def baseline_fields(self) -> dict[str, str]:
        """Task -> the metadata key of its random-guess score."""
        return {task: axes.baseline_field for task, axes in self._ordered() if axes.baseline_field}

    def secondary(self) -> dict[str, tuple]:
        """Task -> its secondary score columns."""
        return {task: axes.secondary for task, axes in self._ordered() if axes.secondary}

    def secondary_groups(self) -> list[tuple[tuple, list[str]]]:
        """(columns, the tasks declaring exactly them): one secondary table each."""
        groups: dict[tuple, list[str]] = {}
        for task, columns in self.secondary().items():
            groups.setdefault(columns, []).append(task)
        return list(groups.items())


def manifest_tasks(invocation_configs: Iterable[dict]) -> set[str]:
    return {str(task) for config in invocation_configs for task in (config or {}).get("tasks", ())}


def read_catalog(run_dirs: list[Path], fallback: Fallback | None = None) -> Catalog:
    """The declarations of every task the runs hold; a later run's declaration wins."""
    reports: dict[str, TaskReport] = {}
    undeclared: set[str] = set()
    for run_dir in run_dirs:
        manifest = read_manifest(run_dir)
        reports.update(manifest.task_reports)
        configs = [manifest.config, *(invocation.get("config") for invocation in manifest.invocations)]
        undeclared |= manifest_tasks(configs) - set(manifest.task_reports)
    return with_fallback(Catalog(reports), undeclared - set(reports), fallback)


def with_fallback(catalog: Catalog, tasks: Iterable[str], fallback: Fallback | None) -> Catalog:
    """The catalog plus what `fallback` declares for `tasks` it lacks."""
    if fallback is None:
        return catalog
    added = {task: report for task in sorted(set(tasks) - set(catalog.reports)) if (report := fallback(task))}
    return Catalog({**catalog.reports, **added}) if added else catalog
