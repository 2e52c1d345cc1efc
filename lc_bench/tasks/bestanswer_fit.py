"""BestAnswer's fit by counting: the candidates' tokens summed piece by piece, one encode to check.

A BestAnswer prompt is its question, then one block per candidate, `A<k>:\\n\\n<answer>\\n\\n`, in a
fixed random order, then the closing instruction. Adding a distractor, or the start of one, inserts
a block somewhere and renumbers every block after it, so two sizes differ all along the prompt and
a measured prompt cannot be spliced into the next (fitting.py): the measured search pays a whole
encode per size tried (2.4 per sample at 32k, 4.7 at 128k). But the *set* of labels for m
candidates is always A1..Am, whatever the order, and each block starts at a pre-token boundary, so

    tokens(prompt) = fixed + seams + labels(m) + sum of the candidates' bodies

where `labels(m)` sums the pieces "A<k>:\\n\\n" (the same for every sample: counted once per build)
and a body is "<answer>\\n\\n" (the distractors counted in blocks as far as the fit reads them). The
largest whole count, the cut of one more distractor and the choice between them are made on these
sums; one encode of the chosen prompt checks the sum (the seams, learnt from the previous sample of
the length, make up the rest). Each piece is counted as it stands in a prompt (followed by a
block's "A": `in_context`), so the next size's count is as exact as the chosen one's. When the
check fails, the caller's measured search runs instead: the same choice, found by measuring (it
is the same whenever counts are additive, which the check confirms).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from lc_bench.tasks.fitting import FitMemory, PrefixCounts, _largest_within, piece_token_counts

CUT_POOL = 50  # distractors after the whole ones among which the longest is cut (the search's rule)


def predicted_choice(
    tokenizer: Any,
    render: Callable[..., str],
    distractors: list[str],
    accepted: str,
    keys: list[float],
    budget: int,
    memory: FitMemory,
    distractor_ids: Callable[[int], list[int]],
) -> tuple[int, int, int, int] | None:
    """(whole distractors, cut tokens, cut source, prompt tokens), or None to search instead."""
    count_pieces = tokenizer.encode_with_offsets
    labels = memory.get("bestanswer-labels")
    if labels is None:
        labels = memory["bestanswer-labels"] = PrefixCounts(
            lambda start, stop: in_context(count_pieces, [f"A{k}:\n\n" for k in range(start + 1, stop + 1)]))
    known: dict[str, int] = memory.setdefault("bestanswer-bodies", {})  # answers recur across samples

    def count_bodies(start: int, stop: int) -> list[int]:
        new = [answer for answer in dict.fromkeys(distractors[start:stop]) if answer not in known]
        known.update(zip(new, in_context(count_pieces, [answer + "\n\n" for answer in new]), strict=True))
        return [known[answer] for answer in distractors[start:stop]]

    bodies = PrefixCounts(count_bodies)
    accepted_body = in_context(count_pieces, [accepted + "\n\n"])[0]
    fixed = len(tokenizer.encode_rendered(render(0))[0]) - labels.total(1) - accepted_body  # no distractor
    seams = memory.get(("bestanswer-seams", budget), 0)

    def whole(count: int) -> int:
        return fixed + seams + labels.total(count + 1) + accepted_body + bodies.total(count)

    most = len(distractors) - 1
    start = memory.get(("bestanswer-count", budget), max(1, (budget - fixed) // 100))
    count = _largest_within(lambda c: whole(c) <= budget, most, start=max(1, min(start, most)))
    if count < 1:
        return None
    options = [(whole(count), count, 0, count)]  # (predicted tokens, whole count, cut, source)

    @cache  # one encode per (source, cut) the search reads
    def cut_body(source: int, cut: int) -> int:
        text = tokenizer.decode(distractor_ids(source)[:cut]).strip()
        return in_context(count_pieces, [text + "\n\n"])[0]

    for whole_count in (count, count - 1):
        if options[0][0] == budget or whole_count < 1:
            break
        pool_end = min(whole_count + CUT_POOL, len(distractors))
        room, longest = max((len(distractor_ids(j)), j) for j in range(whole_count, pool_end))
        if room < 2:
            continue
        base = whole(whole_count) + labels.total(whole_count + 2) - labels.total(whole_count + 1)
        cut = _largest_within(lambda c, j=longest, base=base: base + cut_body(j, c) <= budget, room - 1,
                              start=max(1, min(room - 1, budget - base)))
        if cut > 0 and base + cut_body(longest, cut) > options[0][0]:
            options.insert(0, (base + cut_body(longest, cut), whole_count, cut, longest))
    predicted, chosen_count, cut, source = options[0]
    measured = len(tokenizer.encode_rendered(render(chosen_count, cut, source))[0])
    memory[("bestanswer-seams", budget)] = seams + measured - predicted
    memory[("bestanswer-count", budget)] = count
    if measured != predicted:
        return None
    return chosen_count, cut, source, measured


def in_context(encode_with_offsets: Callable[[str], Any], pieces: list[str]) -> list[int]:
    """Token counts of pieces that end in "\n\n", as they are in a prompt: followed by a block's
    "A" (alone at the end of a text, "\n\n" is one pre-token; before a letter, two)."""
    return piece_token_counts(encode_with_offsets, [*pieces, "A"])[:-1]
