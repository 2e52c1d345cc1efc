"""The report axes of L-Eval's tasks (lc_bench/axes.py): the document's length class for every
task (L-Eval publishes no length classes of its own, so the whole document's token count, the
model's tokenizer, k = 1024), sci_fi's part (loyalty / fact) and topic retrieval's position
(first / second / third topic); the open-ended tasks' secondary columns (ROUGE-1/2, output words,
the judge's win rate once `lc-bench judge` has run)."""

from __future__ import annotations

from lc_bench.axes import LabelAxis, ReportAxes, ScoreColumn
from lc_bench.tasks.leval_config import CLOSED_ENDED, OPEN_METRIC

BUCKETS = ((4096, "0-4k"), (8192, "4k-8k"), (16384, "8k-16k"), (32768, "16k-32k"))
LENGTH_CLASS = LabelAxis(
    title="L-Eval document length (tokens, whole document)",
    field="length_class",
    order=("0-4k", "4k-8k", "8k-16k", "16k-32k", "32k+"),
    note="L-Eval: the whole document's token count (the model's tokenizer); L-Eval publishes no length classes",
)
TOPIC_POSITIONS = ("first", "second", "third")


def length_class(tokens: int) -> str:
    return next((label for bound, label in BUCKETS if tokens <= bound), "32k+")


def report_axes(subtask: str) -> ReportAxes:
    labels: tuple[LabelAxis, ...] = (LENGTH_CLASS,)
    if subtask == "sci_fi":
        labels += (
            LabelAxis(
                title="L-Eval SFiction part",
                field="part",
                order=("loyalty", "fact"),
                note="auto_eval.py: the mean of loyalty and fact",
            ),
        )
    if subtask == "topic_retrieval_longchat":
        labels += (
            LabelAxis(
                title="L-Eval TopicRet position",
                field="position",
                order=TOPIC_POSITIONS,
                note="auto_eval.py: the first / second / third topic retrieved",
            ),
        )
    if subtask in CLOSED_ENDED:
        return ReportAxes(labels=labels)
    columns = (ScoreColumn(header="words", source="output_words", format="count"),)
    if OPEN_METRIC[subtask] == "rouge":
        columns = (
            ScoreColumn(header="ROUGE-1", source="rouge_1"),
            ScoreColumn(header="ROUGE-2", source="rouge_2"),
            *columns,
        )
    judged = (ScoreColumn(header="judge win %", source="judge_win_rate"),)
    return ReportAxes(labels=labels, secondary=columns + judged)
