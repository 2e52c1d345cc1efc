"""What the long-generation tasks share: output budgets that use the whole window, a warning when
the window cannot hold the requested output, and the shape checks in every record's scores."""

from __future__ import annotations

import math
import sys

from lc_bench.lengths import format_length
from lc_bench.schema import ChatMessage
from lc_bench.tasks.base import BuildContext

TOKENS_PER_WORD = 1.3  # English prose with BPE tokenizers; a CJK character is about one to 1.5
DEFAULT_MAX_OUTPUT_TOKENS = 32768


def output_budget(
    context: BuildContext, task: str, messages: tuple[ChatMessage, ...], length: int, cap: int
) -> tuple[int, int] | None:
    """(input tokens, output budget) for a prompt at a length: everything the window has left,
    up to `cap` (or --max-new-tokens); None, counted as skipped, when the prompt itself does not fit."""
    input_tokens = context.tokenizer.count(messages)
    room = length - input_tokens
    if room <= 0:
        context.report_skipped(task, length, 1)
        return None
    limit = context.max_new_tokens or cap
    return input_tokens, min(room, limit)


def needed_tokens(required_words: float) -> int:
    return math.ceil(required_words * TOKENS_PER_WORD)


def warn_small_windows(task: str, length: int, short: int, total: int) -> None:
    """Say so when requested outputs cannot fit: their scores then measure the window."""
    if short:
        print(f"lc-bench: warning: {task}: {short} of {total} prompts at {format_length(length)} ask for more "
              f"output than the window can hold (~{TOKENS_PER_WORD} tokens per word); their scores measure the "
              "window, not the model", file=sys.stderr)


def requested_label(words: float) -> str:
    """Requested output length for tables: 500, 2k, 20k (words; k = 1000)."""
    return f"{words / 1000:g}k" if words >= 1000 else f"{words:g}"
