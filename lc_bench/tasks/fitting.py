"""Fit a prompt to an exact token budget by choosing how many haystack units it holds.

The caller supplies `render(n)`: the prompt text with `n` units (tokens of an essay, words of a
list, lines of noise). Token counts are close to linear in `n`: after measuring the fixed part
(`render(0)`) the first guess comes from the tokens per unit learnt from the previous sample of the
same cell (`memory`, `key`), or from a small probe render, or from the caller's estimate. Each
measurement then brackets the answer: the next guess moves by the measured gap divided by the
measured tokens per unit (interpolated between the largest fitting and the smallest overflowing
size once both are known), never one unit at a time for a gap worth several units.

The result is the largest size that fits among those tried with a larger size known to overflow
(the largest size that fits when counts grow with `n`), whatever the first guess: what is learnt
only changes how many encodes it takes, not the sample, so samples stay deterministic.

Counting at the seams (`pieces`): a task whose prompt is a run of pieces that each start at a
pre-token boundary (a space or newline before a word, a line, a document) can say what its units
cost without encoding the prompt: `pieces(n)` sums per-piece counts it measured once (one encode of
the distinct pieces, `piece_token_counts`). The fit then needs one full encode when the sum plus a
constant (the template and the seams, learnt from the previous sample) is right, and checks every
answer with that real encode: a tokenizer whose counts are not additive only costs more encodes.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from lc_bench.errors import UsageError

MAX_ROUNDS = 64  # a size whose text repeats costs no encode: flat steps (fwe) are cheap
PROBE_SHARE = 32  # a probe renders about 1/32 of the budget's units
PROBE_MIN_UNITS = 4  # no probe below this many units: the caller's estimate is good enough
SLOPE_UNITS = 8  # sizes this far apart give the local tokens per unit

PIECE_ROUNDS = 3  # seam corrections tried with the pieces' counts before the usual search takes over
PIECE_BLOCK = 16  # pieces counted past the one a fit asks for (each count is an encode call)
PIECE_SLACK = 2  # tokens by which a predicted overflow may be wrong (a seam merging or splitting)

# what a fit leaves for the next sample of its cell: (units, tokens, fixed tokens) under its key,
# and the seams' tokens of a pieces fit (beyond the fixed part and the pieces) under ("pieces", key)
FitMemory = MutableMapping[Hashable, Any]


@dataclass(frozen=True)
class Fitted:
    units: int
    text: str
    ids: list[int]
    offsets: list[int]


def fit_to_budget(
    render: Callable[[int], str],
    encode: Callable[[str], tuple[list[int], list[int]]],
    budget: int,
    max_units: int,
    unit_tokens: float = 1.0,
    fixed_tokens: int | None = None,
    memory: FitMemory | None = None,
    key: Hashable = None,
    probe: bool = False,
    min_unit_tokens: int | Callable[[int], int] = 0,
    pieces: Callable[[int], int] | None = None,
    pieces_learnt: bool = False,
    piece_slack: int = PIECE_SLACK,
    encode_window: Callable[[str], tuple[list[int], list[int]]] | None = None,
    measured: Fitted | None = None,
) -> Fitted:
    """The largest `n <= max_units` whose rendered prompt has at most `budget` tokens.

    `unit_tokens` is a first estimate of tokens per unit; it is refined from each measurement.
    `fixed_tokens` (the prompt's size with no units) is measured when not given. `memory[key]`
    holds the previous fit of the same task, length and tokenizer (read for the first guess,
    then updated); without it, `probe` measures tokens per unit on a small render first.
    `min_unit_tokens` (a number, or a function of `n`): the fewest tokens that going from `n` to
    `n + 1` units can add, seams included (0: unknown); a fit less than that short of the budget is
    final without encoding the next size to see it overflow. Memory and this floor are for units
    of several tokens, whose counts grow with every unit: then the fit is the same from any guess.
    `pieces(n)`: the tokens of the units' pieces when counted one by one (non-decreasing in `n`);
    with it the first sizes come from those counts (module docstring), and a size whose real count
    equals the predicted one, with the next size predicted to overflow, is final. `pieces_learnt`:
    `pieces` reads its counts off the prompts `encode` measured (costly to count before), so the
    first size tried is the usual guess from `memory`. `piece_slack`: tokens by which a predicted
    overflow may be wrong, so a next size predicted within it is measured; 0 where the task has
    shown (a probe of this tokenizer, the same for every build) that its pieces add up exactly
    whatever their order, so a verified size's next size is never measured. `encode_window` (plain
    text, no special tokens added): a size whose prompt differs from the last one measured in a few
    stretches is counted by encoding those stretches alone and splicing them in (`splice_encoding`);
    `measured` is a prompt measured before this fit (a previous fit of the same sample) that the
    first size may splice onto.
    """
    if fixed_tokens is None:
        fixed_tokens = len(encode(render(0))[0])
    if fixed_tokens > budget:
        raise UsageError(
            f"the prompt's fixed parts ({fixed_tokens} tokens) exceed the input budget of {budget} tokens: "
            "choose a longer length"
        )
    room = budget - fixed_tokens
    counts: dict[int, int] = {}
    by_text: dict[str, tuple[list[int], list[int]]] = {}  # a size whose text was encoded (fwe) is not again
    best: Fitted | None = None
    floor = min_unit_tokens if callable(min_unit_tokens) else (lambda n: min_unit_tokens)

    # the last prompt measured, to splice the next onto
    latest: list[tuple[str, list[int], list[int]]] = [] if measured is None else [
        (measured.text, measured.ids, measured.offsets)]

    def measure(n: int) -> int:
        nonlocal best
        text = render(n)
        if text not in by_text:
            spliced = splice_encoding(latest[0], text, encode_window) if latest and encode_window else None
            by_text[text] = spliced or encode(text)
            latest[:] = [(text, *by_text[text])]
        ids, offsets = by_text[text]
        counts[n] = len(ids)
        if len(ids) <= budget and (best is None or n > best.units):
            best = Fitted(n, text, ids, offsets)
        return len(ids)

    if pieces is not None:
        # the prompt's fixed part as measured, plus what the seams added in the previous sample
        seams_key = ("pieces", key)
        base = fixed_tokens - pieces(0)
        constant = base + (memory.get(seams_key, 0) if memory is not None else 0)
        known = memory.get(key) if memory is not None else None
        if known is None:
            # the first sample of its cell: tokens per unit from the first pieces (a few lines cost
            # what they cost: a uuid line 4x a number line), so the search counts few pieces past the answer
            probe_units = _clamp(max(PROBE_MIN_UNITS, int(room / unit_tokens / PROBE_SHARE)), max_units)
            if probe_units and pieces(probe_units) > 0:
                unit_tokens = pieces(probe_units) / probe_units
        guess = known[0] if known is not None else max(1, int(room / unit_tokens))
        if pieces_learnt and known is not None and known[0] > 0 and known[1] > known[2]:
            # pieces counted off measured prompts: measure the previous sample's size first
            first = _clamp(known[0] + math.floor((room - (known[1] - known[2])) / ((known[1] - known[2]) / known[0])),
                           max_units)
            constant = measure(first) - pieces(first)
            guess = first
        for _ in range(PIECE_ROUNDS):
            n = _largest_within(lambda k, c=constant: c + pieces(k) <= budget, max_units, start=guess)
            tokens = counts[n] if n in counts else measure(n)
            predicted = constant + pieces(n)
            if tokens == predicted:
                # final when the next size is predicted to overflow by more than a seam could be off
                # (counts that are not quite additive, e.g. ".\n\n" as one token, never end it early),
                # or, predicted to overflow by less, is measured to; a prompt of exactly the budget is
                # final as it is in the search below (a larger size re-tokenised to the same count is not
                # looked for)
                following = _next_size(pieces, n, max_units)
                if tokens <= budget and best is not None and best.units == n and (
                    n == max_units or tokens == budget or constant + pieces(following) > budget + piece_slack
                    or (constant + pieces(following) > budget and measure(following) > budget)
                ):
                    if memory is not None:
                        memory[seams_key] = constant - base
                        memory[key] = (best.units, len(best.ids), fixed_tokens)
                    return best
                break
            constant += tokens - predicted
        if memory is not None:
            memory[seams_key] = constant - base
    known = memory.get(key) if memory is not None else None
    if known is not None and known[0] > 0 and known[1] > known[2]:
        units, tokens, fixed = known
        unit_tokens = (tokens - fixed) / units
        n = units + math.floor((room - (tokens - fixed)) / unit_tokens)
    else:
        probe_units = int(room / unit_tokens / PROBE_SHARE)
        if probe and PROBE_MIN_UNITS <= probe_units < max_units:
            measured = measure(probe_units)
            if measured > fixed_tokens:
                unit_tokens = (measured - fixed_tokens) / probe_units
        n = int(room / unit_tokens)
    n = _clamp(n, max_units)
    previous: int | None = None
    for _ in range(MAX_ROUNDS):
        if n not in counts:
            measure(n)
        tokens = counts[n]
        if best is not None and (best.units == max_units or budget - len(best.ids) < max(1, floor(best.units))):
            break
        low = best.units if best is not None else -1
        over = min((k for k, t in counts.items() if t > budget and k > low), default=max_units + 1)
        if over <= low + 1:
            break  # the bracket is closed: low fits, low + 1 overflows
        # tokens per unit: the slope from the previous size when it is far enough to average out
        # seams and steps, else the average over the units
        if previous is not None and abs(n - previous) >= SLOPE_UNITS and counts[previous] != tokens:
            unit_tokens = (tokens - counts[previous]) / (n - previous)
        elif n > 0 and tokens > fixed_tokens:
            unit_tokens = (tokens - fixed_tokens) / n
        # move from the latest size by its gap in units (at least one), strictly inside the bracket
        gap = budget - tokens
        step = math.floor(gap / unit_tokens)
        following = n + (max(1, step) if gap > 0 else min(-1, step))
        following = max(low + 1, min(following, over - 1, max_units), 0)
        if following in counts:
            break
        previous, n = n, following
    if best is None:
        raise UsageError(f"could not fit the prompt into {budget} tokens")
    if memory is not None:
        memory[key] = (best.units, len(best.ids), fixed_tokens)
    return best


def _next_size(pieces: Callable[[int], int], n: int, max_units: int) -> int:
    """The first size after `n` whose pieces count more (fwe's sizes add words in lumps: sizes with
    the same count render the same text, so the next one to check is the next that adds a word)."""
    if n >= max_units or pieces(n + 1) > pieces(n):
        return min(n + 1, max_units)
    same = pieces(n)
    return min(max_units, _largest_within(lambda k: pieces(k) <= same, max_units, start=n + 1) + 1)


def _largest_within(fits: Callable[[int], bool], max_units: int, start: int = 1) -> int:
    """The largest n in [0, max_units] with fits(n), for a predicate true up to some n (0 if none).
    Galloping from `start` first, so pieces far beyond the answer are never counted."""
    low, high = 0, max_units
    probe, step = max(1, min(start, max_units)), 1
    # steps doubling from one, never more than an eighth: a start at the answer (learnt from the
    # previous sample) counts a few pieces past it, a poor start still gets there in a few dozen steps
    while probe < max_units and fits(probe):
        low, probe = probe, min(max_units, probe + min(step, max(1, probe // 8)))
        step *= 2
    if probe <= max_units and not fits(probe):
        high = probe - 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def counts_in_spans(offsets: Sequence[int], spans: Sequence[tuple[int, int]]) -> list[int]:
    """Tokens of an encode starting inside each (start, stop) character span (spans in order)."""
    counts = []
    for start, stop in spans:
        counts.append(bisect_left(offsets, stop) - bisect_left(offsets, start))
    return counts


def piece_token_counts(
    encode_with_offsets: Callable[[str], tuple[list[int], list[int]]], pieces: Sequence[str]
) -> list[int]:
    """Tokens per piece from one encode of the pieces joined: each token counts for the piece
    where it starts. Exact for pieces that start at pre-token boundaries (" word", "\nline");
    elsewhere a fit using the counts just needs more encodes (its answers are always checked)."""
    starts, position = [], 0
    for piece in pieces:
        starts.append(position)
        position += len(piece)
    counts = [0] * len(pieces)
    if not pieces:
        return counts
    _, offsets = encode_with_offsets("".join(pieces))
    for offset in offsets:
        counts[max(0, bisect_right(starts, offset) - 1)] += 1
    return counts


SPLICE_MARGIN = 16  # characters kept before the first difference: pre-tokenizers look a few characters ahead
SPLICE_SEARCH = 64  # tokens searched back for a word start to cut at
SPLICE_SHARE = 4  # splice only when the re-encoded end is at most a quarter of the prompt


SPLICE_STRETCHES = 8  # separate differing stretches spliced before the whole prompt is encoded instead
RESYNC_STEP = 256  # characters between the anchors tried after the first difference
RESYNC_ANCHOR = 64  # characters of an anchor: text after the first stretch, found again in the old prompt
RESYNC_RANGE = 4096  # how far an anchor may have moved (the first stretch grew or shrank by this at most)


def splice_encoding(
    previous: tuple[str, list[int], list[int]],
    text: str,
    encode_window: Callable[[str], tuple[list[int], list[int]]],
) -> tuple[list[int], list[int]] | None:
    """`text`'s ids and offsets from a measured prompt that differs from it in one stretch or in
    a few far apart (a needle moved to the next sentence start and the haystack's end; segment cuts
    moved to other sentence starts, and the context after the window): then the stretches are
    spliced one at a time, each through the text that has the stretches before it changed only.
    Each splice is exact on its own terms (`_splice_one`), so a wrongly guessed meeting point only
    costs a longer window, never a wrong count."""
    for _ in range(SPLICE_STRETCHES):
        whole = _splice_one(previous, text, encode_window)
        if whole is not None:
            return whole
        meeting = _resync(previous[0], text)
        if meeting is None:
            return None
        old_at, new_at = meeting
        halfway = text[:new_at] + previous[0][old_at:]
        first = _splice_one(previous, halfway, encode_window)
        if first is None:
            return None
        previous = (halfway, *first)
    return None


def _resync(old: str, new: str) -> tuple[int, int] | None:
    """Where two texts agree again after their first difference: (position in old, position in
    new) from which they share at least an anchor's worth of text, or None if no anchor within a
    quarter of the text meets again within RESYNC_RANGE characters of where it was."""
    common = common_prefix_length(old, new)
    limit = min(len(new), common + len(new) // SPLICE_SHARE)
    for anchor_at in range(common + RESYNC_STEP, limit - RESYNC_ANCHOR, RESYNC_STEP):
        anchor = new[anchor_at : anchor_at + RESYNC_ANCHOR]
        found = old.find(anchor, max(common, anchor_at - RESYNC_RANGE), anchor_at + RESYNC_RANGE + RESYNC_ANCHOR)
        if found < 0:
            continue
        shift = anchor_at - found
        at = anchor_at
        while at > common and at - shift > common and new[at - 1] == old[at - 1 - shift]:
            at -= 1
        return at - shift, at
    return None


def _splice_one(
    previous: tuple[str, list[int], list[int]],
    text: str,
    encode_window: Callable[[str], tuple[list[int], list[int]]],
) -> tuple[list[int], list[int]] | None:
    """`text`'s ids and offsets from a measured prompt that differs from it in one stretch: the
    measured tokens up to a word start shortly before the stretch, the stretch encoded alone, and
    the measured tokens from a word start shortly after it (or the rest of `text` when the two end
    differently). Exact where a space before a letter starts a pre-token (byte-level BPE, tiktoken,
    SentencePiece all split there), which each cut requires on both sides; None when no such cut is
    near or the stretch to encode is long (the caller encodes the whole prompt)."""
    previous_text, previous_ids, previous_offsets = previous
    cut = _cut_rule(encode_window)
    common = common_prefix_length(previous_text, text)
    limit = common - SPLICE_MARGIN
    if limit <= 0:
        return None
    k = _word_start_at_or_before(previous_text, previous_offsets, limit, cut)
    if k is None:
        return None
    start = previous_offsets[k]
    shift = len(text) - len(previous_text)
    # the common end, never overlapping the common beginning in either text
    tail = common_suffix_length(previous_text, text, min(len(previous_text), len(text)) - common)
    j = _word_start_at_or_after(previous_text, previous_offsets, len(previous_text) - tail + SPLICE_MARGIN, cut)
    stop = len(text) if j is None else previous_offsets[j] + shift
    if (stop - start) * SPLICE_SHARE > len(text):
        return None
    window_ids, window_offsets = encode_window(text[start:stop])
    ids = previous_ids[:k] + window_ids
    offsets = previous_offsets[:k] + [start + o for o in window_offsets]
    if j is not None:
        ids += previous_ids[j:]
        offsets += [o + shift for o in previous_offsets[j:]]
    return ids, offsets


SPLICE_PROBES = (
    "Alpha beta gamma. Delta epsilon zeta, eta theta.\n\nIota kappa lambda mu nu xi omicron pi rho.",
    "The river ran 12 miles north. It was 3.5 km wide; nobody knew why. Then it stopped.",
)
# Chinese text has no spaces: its cuts are ideographs after punctuation, safe where punctuation is a
# pre-token of its own (GPT-2-style splits), not where a letter run may take one punctuation mark
# before it (Llama 3 / Qwen style): checked per tokenizer on these
CJK_SPLICE_PROBES = (
    "海港小镇的北面悬崖上有一座红色的灯塔。每年春天，渔民们都会把船身漆成鲜艳的颜色；集市旁边有图书馆。",
    "冬天渡轮停运，小镇只靠一条山路与外界相连。议会投票决定建一所新学校！南方的商人带来无花果、盐和地毯。",
)
CutRule = Callable[[str, list[int], int], bool]


class WindowEncoder:
    """A plain encode a fit may splice with, and the cuts this tokenizer allows (`splice_safe`)."""

    def __init__(self, encode: Callable[[str], tuple[list[int], list[int]]], cjk_cuts: bool) -> None:
        self.encode = encode
        self.cjk_cuts = cjk_cuts

    def __call__(self, text: str) -> tuple[list[int], list[int]]:
        return self.encode(text)


def _cut_rule(encode_window: Any) -> CutRule:
    return _is_word_or_cjk_start if getattr(encode_window, "cjk_cuts", False) else _is_word_start


def splice_safe(
    encode_with_offsets: Callable[[str], tuple[list[int], list[int]]],
    probes: Sequence[str] = SPLICE_PROBES,
    cut: CutRule | None = None,
) -> bool:
    """Whether encoding from a cut alone gives the tokens a whole encode gives there (false for
    tokenizers that prepend a "▁" to every text they encode, e.g. legacy Llama 2 files: a splice
    would then add a token). Checked on probe sentences at every cut (`cut`: word starts)."""
    cut = cut or _is_word_start
    for probe in probes:
        ids, offsets = encode_with_offsets(probe)
        for k in range(1, len(offsets)):
            if cut(probe, offsets, k):
                tail_ids, tail_offsets = encode_with_offsets(probe[offsets[k]:])
                if tail_ids != ids[k:] or [offsets[k] + o for o in tail_offsets] != offsets[k:]:
                    return False
    return True


def window_encoder(tokenizer: Any) -> WindowEncoder | None:
    """The plain encode a fit may splice with (`fit_to_budget(encode_window=...)`), or None: a raw
    prompt may get special tokens around it, and some tokenizers cannot be spliced (`splice_safe`).
    The checks run once per tokenizer object."""
    if not getattr(tokenizer, "has_chat_template", False):
        return None
    cached = getattr(tokenizer, "_lc_bench_window_encoder", None)
    if cached is None:
        encode = tokenizer.encode_with_offsets
        if not splice_safe(encode):
            cached = False
        else:
            cached = WindowEncoder(encode, splice_safe(encode, CJK_SPLICE_PROBES, _is_cjk_start))
        tokenizer._lc_bench_window_encoder = cached
    return cached or None


def _is_word_start(text: str, offsets: list[int], k: int) -> bool:
    """Token k starts at a space before a letter, after a non-space, and is the first at its offset."""
    start = offsets[k]
    return (
        0 < start < len(text) - 1
        and offsets[k - 1] < start
        and text[start] == " "
        and text[start + 1].isalpha()
        and not text[start - 1].isspace()
    )


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def _is_cjk_start(text: str, offsets: list[int], k: int) -> bool:
    """Token k starts at an ideograph right after punctuation (not a space, letter or digit), and is
    the first at its offset."""
    start = offsets[k]
    if not (0 < start < len(text) and offsets[k - 1] < start and _is_cjk(text[start])):
        return False
    before = text[start - 1]
    return not (before.isspace() or before.isalnum())


def _is_word_or_cjk_start(text: str, offsets: list[int], k: int) -> bool:
    return _is_word_start(text, offsets, k) or _is_cjk_start(text, offsets, k)


def _word_start_at_or_before(text: str, offsets: list[int], limit: int, cut: CutRule = _is_word_start) -> int | None:
    index = bisect_right(offsets, limit) - 1
    for k in range(index, max(0, index - SPLICE_SEARCH), -1):
        if cut(text, offsets, k):
            return k
    return None


def _word_start_at_or_after(text: str, offsets: list[int], position: int, cut: CutRule = _is_word_start) -> int | None:
    index = bisect_left(offsets, position)
    for k in range(max(1, index), min(len(offsets), index + SPLICE_SEARCH)):
        if cut(text, offsets, k):
            return k
    return None


def common_suffix_length(a: str, b: str, limit: int) -> int:
    """How many trailing characters two strings share, at most `limit`."""
    low, high = 0, max(0, limit)
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle : len(a) - low] == b[len(b) - middle : len(b) - low]:
            low = middle
        else:
            high = middle - 1
    return low


def common_prefix_length(a: str, b: str) -> int:
    """How many leading characters two strings share (binary search over slices: C-speed compares)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


class PrefixCounts:
    """Running totals of per-piece token counts, the pieces counted a block at a time and only as
    far as a fit asks (`fill(start, stop)` gives the counts of pieces start..stop-1)."""

    def __init__(self, fill: Callable[[int, int], list[int]]) -> None:
        self.fill = fill
        self.totals = [0]

    def learn(self, counts: Sequence[int]) -> None:
        """Counts of the first pieces read off a measured encode (free: no piece is encoded again)."""
        if len(counts) >= len(self.totals):
            totals = [0]
            for tokens in counts:
                totals.append(totals[-1] + tokens)
            self.totals = totals

    def total(self, count: int) -> int:
        """Tokens of the first `count` pieces."""
        while len(self.totals) <= count:
            start = len(self.totals) - 1
            # a small block past the need: a fit asks one size beyond what its encodes taught (n + 1),
            # and a gallop asks far ahead in a few calls, so a block proportional to what is known
            # would count a quarter of the prompt again for the one line it needs
            stop = max(count, start + PIECE_BLOCK)
            for tokens in self.fill(start, stop):
                self.totals.append(self.totals[-1] + tokens)
        return self.totals[count]


def _clamp(n: int, max_units: int) -> int:
    return max(0, min(n, max_units))
