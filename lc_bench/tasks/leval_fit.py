"""Fitting an L-Eval document to a length: the original's cut (truncation=paper) and lc_bench's
exact ones (document, middle).

* `paper` (Baselines/*-test.py, every script the same): `max_length = k_to_number(max_length) -
  max_new_tokens`, i.e. n * 1000 - 512 for an n-k setting, and while `tokenizer(document)` (special
  tokens counted; the document alone, not the prompt) has more tokens than that, the document
  becomes its first `max_length - cnt` words of `document.split(" ")` (codeU: its last ones), with
  `cnt` growing by 250 each round. So the prompt around the document, the system prompt and the chat
  template are not counted (the 512 margin is meant to hold them and the answer); a rendered prompt
  that then exceeds the length is kept and counted on stderr.
* `document` (lc_bench's default): the document's tokens are cut on the side the original cuts
  (the end; codeU: the beginning) so that the rendered prompt (system prompt, user turn, chat
  template) + the output budget fills the length exactly (within a token or two of re-tokenising).
* `middle`: the document keeps its first and last halves of the room instead (LongBench's cut).

A document that already fits is kept whole: L-Eval's documents are not padded to a length.
"""

from __future__ import annotations

from collections.abc import Callable

from lc_bench.tasks.longbench import raw_prompt_ids
from lc_bench.tokenizers import ModelTokenizer

WORD_STEP = 250  # the original's `cnt += 250`
MAX_ROUNDS = 100_000
# tokens that joining the document to the prompt can save at its two seams, far more than merges
# save in practice: a document longer than the room by more than this is cut without rendering it whole
SEAM_SLACK = 16


def paper_max_length(length: int, max_new_tokens: int) -> int:
    """k_to_number(n + "k") - max_new_tokens: n * 1000 - 512 at an n-k length (lc_bench's n-k is
    n * 1024 tokens); a length that is not a whole number of k is taken as it is."""
    tokens = length // 1024 * 1000 if length % 1024 == 0 else length
    return tokens - max_new_tokens


def paper_cut(tokenizer: ModelTokenizer, document: str, max_length: int, keep_end: bool) -> tuple[str, bool]:
    """The original's word-chunk loop (see the module docstring); (document, whether it was cut)."""
    count = len(raw_prompt_ids(tokenizer, document))
    cnt, cut, rounds = 0, False, 0
    while count > max_length:
        words = document.split(" ")
        shorter = " ".join(words[cnt - max_length :] if keep_end else words[: max_length - cnt])
        cnt += WORD_STEP
        rounds += 1
        if rounds > MAX_ROUNDS:  # the original would loop for ever; say so instead
            raise ValueError(f"the original's cut does not bring the document under {max_length} tokens")
        document, cut = shorter, True
        count = len(raw_prompt_ids(tokenizer, document))
    return document, cut


def fit_document(
    tokenizer: ModelTokenizer,
    render: Callable[[str], int],
    document: str,
    ids: list[int],
    budget: int,
    keep_end: bool,
    middle: bool,
) -> tuple[str, int, bool] | None:
    """(document, rendered prompt tokens, cut) with the prompt at most `budget` tokens; `render`
    counts the rendered prompt holding a document; `ids` are the document's tokens. None:
    even an empty document does not fit."""
    fixed = render("")
    if fixed + len(ids) <= budget + SEAM_SLACK:  # maybe whole: measure it (a long one is not rendered whole)
        count = render(document)
        if count <= budget:
            return document, count, False
    if fixed > budget:
        return None
    keep = budget - fixed
    for _ in range(8):  # re-tokenising at the cut can add a token or two: shrink and retry
        if keep <= 0:
            return None
        if middle:
            head = keep // 2
            text = tokenizer.decode(ids[:head]) + tokenizer.decode(ids[len(ids) - (keep - head) :])
        else:
            text = tokenizer.decode(ids[len(ids) - keep :] if keep_end else ids[:keep])
        count = render(text)
        if count <= budget:
            return text, count, True
        keep -= count - budget
    return None
