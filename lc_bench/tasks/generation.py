"""What the long-generation tasks share: output budgets that use the whole window, a warning when
the window cannot hold the requested output, and the requested length every sample carries (the
leaderboard's output-length axis)."""

from __future__ import annotations

import math
import sys
from typing import Any

from lc_bench.axes import OutputLengthAxis, ScoreColumn
from lc_bench.lengths import format_length
from lc_bench.schema import ChatMessage, Sample
from lc_bench.tasks.base import BuildContext

TOKENS_PER_WORD = 1.3  # English prose with BPE tokenizers; a CJK character is about one to 1.5
DEFAULT_MAX_OUTPUT_TOKENS = 32768

# The long-generation tasks' table: the primary score by requested output length, with the shared
# checks every record's scores carry (shape_checks) and, after `lc-bench judge`, the quality score.
OUTPUT_LENGTH = OutputLengthAxis(
    note="Long-generation tasks: the primary score by the output length asked for (words; k = 1000), next to the "
         "input length. words: LongWriter's count (English words + CJK characters); cut: share of outputs stopped "
         "by the output budget; rep-4: share of repeated 4-grams; dist-2: distinct bigrams; quality: the "
         "LongBench-Write judge score, after `lc-bench judge`.",
    unit="words",
    columns=(
        ScoreColumn(header="words", source="words", format="count"),
        ScoreColumn(header="tokens", source="output_tokens", format="count"),
        ScoreColumn(header="cut %", source="cut"),
        ScoreColumn(header="rep-4 %", source="repeated_4gram"),
        ScoreColumn(header="dist-2 %", source="distinct_2"),
        ScoreColumn(header="quality", source="quality"),
    ),
)


def requested_label(words: float) -> str:
    """Requested output length for tables: 500, 2k, 20k (words; k = 1000)."""
    return f"{words / 1000:g}k" if words >= 1000 else f"{words:g}"


class GenerationSamples:
    """One length's samples of a long-generation task.

    Each prompt gets everything the window has left after it as its output budget, up to `cap` (or
    --max-new-tokens); a prompt that does not fit at all is counted as skipped. `finish` says how
    many requests ask for more output than their budget holds: their scores measure the window,
    not the model."""

    def __init__(self, context: BuildContext, task: str, length: int, cap: int) -> None:
        self.context, self.task, self.length = context, task, length
        self.limit = context.max_new_tokens or cap
        self.samples: list[Sample] = []
        self.asked = self.short = 0

    def add(
        self, messages: tuple[ChatMessage, ...], requested_words: float, sample_id: str,
        references: tuple[str, ...], metadata: dict[str, Any], stop: tuple[str, ...] = (),
    ) -> None:
        self.asked += 1
        input_tokens = self.context.tokenizer.count(messages)
        room = self.length - input_tokens
        if room <= 0:
            self.context.report_skipped(self.task, self.length, 1)
            return
        max_new = min(room, self.limit)
        fits = max_new >= math.ceil(requested_words * TOKENS_PER_WORD)
        self.short += not fits
        self.samples.append(Sample(
            task=self.task, sample_id=f"{self.task}/{format_length(self.length)}/{sample_id}", messages=messages,
            references=references, target_length=self.length, input_tokens=input_tokens, max_new_tokens=max_new,
            stop=stop,
            metadata={**metadata, "requested_length": float(requested_words),
                      "requested_label": requested_label(requested_words), "window_holds_request": fits},
        ))

    def finish(self) -> list[Sample]:
        if self.short:
            print(f"lc-bench: warning: {self.task}: {self.short} of {self.asked} prompts at "
                  f"{format_length(self.length)} ask for more output than the window can hold "
                  f"(~{TOKENS_PER_WORD} tokens per word); their scores measure the window, not the model",
                  file=sys.stderr)
        return self.samples
