"""Cutting a prompt that is longer than its budget out of its middle (InfiniteBench's truncate_input,
LongBench's cut): shared by the families whose records keep their natural length."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lc_bench.schema import ChatMessage
from lc_bench.tokenizers import ModelTokenizer


def middle_cut(
    tokenizer: ModelTokenizer,
    prompt: str,
    wrap: Callable[[str], Sequence[ChatMessage]],
    chat: bool,
    budget: int,
    ids: list[int] | None = None,
    count: int | None = None,
) -> tuple[str, int, bool] | None:
    """(prompt, rendered tokens, cut?) with the rendered prompt at most `budget` tokens: the prompt
    as is when it fits, else its first keep//2 and last keep - keep//2 tokens (truncate_input's
    `input[:n // 2] + input[-n // 2:]`), decoded together, `keep` adjusted until the rendered count
    is the budget (or the closest below it that was tried). None: nothing fits. `ids` (the
    prompt's tokens) and `count` (its rendered count) spare encodes a caller already made."""
    count = tokenizer.count(wrap(prompt), chat) if count is None else count
    if count <= budget:
        return prompt, count, False
    ids = tokenizer.encode(prompt) if ids is None else ids
    keep = budget - (count - len(ids))  # the wrapper's and template's tokens come off the budget
    best: tuple[str, int, bool] | None = None
    tried: set[int] = set()
    for _ in range(8):  # re-tokenising at the seam can move the count a token or two
        if keep <= 0 or keep >= len(ids) or keep in tried:
            break
        tried.add(keep)
        head, tail = keep // 2, keep - keep // 2
        cut = tokenizer.decode(ids[:head] + ids[len(ids) - tail :])
        measured = tokenizer.count(wrap(cut), chat)
        if measured <= budget and (best is None or measured > best[1]):
            best = (cut, measured, True)
        if measured == budget:
            break
        keep += budget - measured
    return best
