"""How a task wants to be reported: the declarations the reporting layer builds every table from.

A task (or family) declares its report axes once, next to its samples; the run writes them into
the manifest; `lc_bench.metrics` reads them back from there and never names a benchmark. So a new
family (shipped or from a plugin) gets its own tables without touching the reporting layer:

* `LabelAxis`: a label each sample carries in its metadata (a benchmark's own length class, a
  difficulty): one table per axis, columns the labels in their published order. With
  `largest_passing` (a score threshold), each row of that table also gets a summary: the largest
  numeric label that passes (mean primary score >= threshold), by the axis's `passing_rule`.
* `baseline_field`: a metadata number, the sample's expected score under random guessing; printed
  beside every length.
* `OutputLengthAxis`: the output length a sample asked for (long generation): a pivot by requested
  length, and the declared score columns per (task, input length, requested length).
* `secondary`: per-sample scores besides the primary one that deserve a table of their own (mean
  per model x task x length).

The declarations are plain frozen data (they round-trip through JSON), so a leaderboard can be
built on a machine where the task's code is not installed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Declaration(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LabelAxis(_Declaration):
    """Scores grouped by a label from each sample's metadata."""

    title: str  # the table's heading
    field: str  # the metadata key holding the label
    order: tuple[str, ...] = ()  # published order; labels outside it follow, sorted
    note: str = ""  # where the label comes from, one clause for the section's note
    # summary per model x task x length: the largest numeric label passing this threshold (a score
    # on the leaderboard's 0-100 scale; None: no summary). Labels that are not numbers are left out.
    largest_passing: float | None = None
    # which passing label counts (labels in numeric order; a label passes when its mean >= threshold):
    # "all_below": the largest label with every smaller label passing too (None: the smallest fails);
    # "any": the largest passing label, whatever fails below it;
    # "before_last_failure": the label just before the last run of failing labels starts (the
    #   largest label when none fails; None when the smallest starts it), a rule some summarizers use
    passing_rule: Literal["all_below", "any", "before_last_failure"] = "all_below"


# Columns every record has, whatever its task: output tokens (the completion's count) and the share
# of outputs cut by the output budget (finish reason "length"). Any other source is a score name.
COMPLETION_SOURCES = ("output_tokens", "cut")


class ScoreColumn(_Declaration):
    """One column of a secondary table: a per-sample score (or a completion source) averaged."""

    header: str
    source: str  # a key of the record's `scores`, or one of COMPLETION_SOURCES
    format: Literal["score", "count"] = "score"  # one decimal, or a whole number


class OutputLengthAxis(_Declaration):
    """Scores by the output length each sample asked for."""

    title: str = "Score by requested output length"
    note: str = ""
    field: str = "requested_length"  # metadata number: the requested length
    label_field: str = "requested_label"  # metadata text shown for it (e.g. "2k")
    unit: str = ""  # appended to the pivot's column headers in the HTML page (e.g. "words")
    columns: tuple[ScoreColumn, ...] = ()


class ReportAxes(_Declaration):
    """Everything a task adds to the leaderboard beyond per-length scores."""

    labels: tuple[LabelAxis, ...] = ()
    baseline_field: str | None = None
    output_length: OutputLengthAxis | None = None
    secondary: tuple[ScoreColumn, ...] = ()

    def metadata_labels(self) -> tuple[str, ...]:
        return tuple(axis.field for axis in self.labels)

    def metadata_numbers(self) -> tuple[str, ...]:
        fields = (self.baseline_field, self.output_length.field if self.output_length else None)
        return tuple(field for field in fields if field)


class TaskReport(_Declaration):
    """What the manifest keeps per task: its family and report axes."""

    family: str
    axes: ReportAxes = ReportAxes()
