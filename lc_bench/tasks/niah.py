"""Needle in a haystack with every RULER variant, on depth x length grids at exact token lengths.

One generic task (`niah`) and RULER's eight presets. Wording follows RULER's template, including
its singular rewrite when one value is asked for. With a depth grid, the first needle of the first
queried key sits at the grid depth and every other needle at a distinct random depth from RULER's
40-point grid; with `--depths random` all needles take random grid depths, as in RULER.
Essay haystacks are cut in token space (exact lengths). The noise and distractor-needle haystacks
are built line by line, as RULER does: whole noise sentences (or distractor needles), one per line,
with each needle on a line of its own; they fit the budget to within one line.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, ClassVar, Literal

from pydantic import Field, create_model, model_validator

from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.ruler import ruler_scores
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.fitting import (
    FitMemory,
    PrefixCounts,
    counts_in_spans,
    fit_to_budget,
    piece_token_counts,
    window_encoder,
)
from lc_bench.tasks.haystack import (
    NOISE_SENTENCES,
    TokenHaystack,
    line_tokens,
    load_corpus,
    tokenize_haystack,
)
from lc_bench.tasks.words import GENERATORS
from lc_bench.tokenizers import ModelTokenizer

# a custom needle's prompt: gkamradt's NIAH test wording (the text, then the question)
CUSTOM_TEMPLATE = "{context}\n\n{question} Don't give information outside the document or repeat your findings."
TEMPLATE = (
    "Some special magic {kind} are hidden within the following text. Make sure to memorize it. "
    "I will quiz you about the {kind} afterwards.\n{context}\n"
    "What are all the special magic {kind} for {query} mentioned in the provided text?"
)
ANSWER_PREFIX = " The special magic {kind} for {query} mentioned in the provided text are"
NEEDLE = "One of the special magic {kind} for {key} is: {value}."
RULER_DEPTHS = tuple(sorted({round(100 * i / 39) for i in range(40)}))


class NiahParams(TaskParams):
    haystack: str = Field("essay", description="essay | noise | needles | folder of .txt | FILE.jsonl:FIELD | hf:ID")
    key_type: Literal["words", "numbers", "uuids"] = "words"
    value_type: Literal["numbers", "words", "uuids"] = "numbers"
    num_keys: int = Field(1, ge=1, le=64, description="needles with distinct keys")
    num_values: int = Field(1, ge=1, le=64, description="values per key")
    num_queries: int = Field(1, ge=1, le=64, description="keys asked for")
    answer_prefix: bool = Field(True, description="start the answer for the model (off for reasoning models)")
    repeat_haystack: bool = Field(True, description="repeat the corpus when it is shorter than the length")
    # a needle of the user's own, as the original NIAH test (gkamradt) and needlehaystack allow:
    # the sentence hidden, the question asked after the text and the answer scored (substring)
    needle: str | None = Field(None, min_length=1, description="custom needle sentence (needs question, answer)")
    question: str | None = Field(None, min_length=1, description="question about the custom needle")
    answer: str | None = Field(None, min_length=1, description="expected answer, a part of the custom needle")

    @model_validator(mode="after")
    def _custom_needle_is_whole(self) -> NiahParams:
        given = [name for name in ("needle", "question", "answer") if getattr(self, name) is not None]
        if given and len(given) < 3:
            missing = sorted({"needle", "question", "answer"} - set(given))
            raise ValueError(f"a custom needle needs needle, question and answer (missing: {', '.join(missing)})")
        if given:
            if self.answer.lower() not in self.needle.lower():  # type: ignore[union-attr]
                raise ValueError("the answer must be part of the needle (it is scored by substring match)")
            if max(self.num_keys, self.num_values, self.num_queries) > 1 or self.haystack == "needles":
                raise ValueError("a custom needle is one needle: num_keys, num_values and num_queries must be 1")
        return self


def singular(kind: str) -> str:
    return kind[:-1]


def wording(params: NiahParams) -> tuple[str, str, str]:
    """(template, answer prefix, kind), with RULER's rewrite when one value is asked for."""
    template, prefix, kind = TEMPLATE, ANSWER_PREFIX, params.value_type
    if params.num_queries * params.num_values == 1:
        for old, new in (("Some", "A"), ("are all", "is"), ("are", "is")):
            template, prefix = template.replace(old, new), prefix.replace(old, new)
        kind = singular(kind)
    return template, prefix, kind


class Niah(TaskBase):
    """Generic needle in a haystack; presets below fix RULER's thirteen-task settings."""

    name: ClassVar[str] = "niah"
    description: ClassVar[str] = "needle in a haystack, any RULER variant (keys, values, queries, haystack)"
    params_model: ClassVar[type[TaskParams]] = NiahParams
    family: ClassVar[str] = "ruler"
    primary_metric: ClassVar[str] = "string_match_all"
    default_max_new_tokens: ClassVar[int] = 128
    # each sample is seeded by (seed, task, params, length, depth, index) only: resume keys come
    # from that specification, so a rerun skips recorded samples without building them
    grid_task: ClassVar[bool] = True
    grid_depths: ClassVar[bool] = True
    builds_indices: ClassVar[bool] = True

    def __init__(self, params: NiahParams) -> None:
        self.params = params

    # -- building -------------------------------------------------------------------------

    def build(self, context: BuildContext) -> list[Sample]:
        max_new = context.max_new_tokens or self.default_max_new_tokens
        haystack = self._token_haystack(context)
        memory: FitMemory = self.fit_memory(context)  # each first guess learns from the last sample's fit
        return [
            self._sample(context, haystack, cell.rng, cell.length, cell.budget, cell.depth, cell.sample_id, max_new,
                         memory)
            for cell in self.depth_cells(context, max_new)
        ]

    def _token_haystack(self, context: BuildContext) -> TokenHaystack | None:
        """The token-space haystack; None for the line-based ones (noise, needles)."""
        if self.params.haystack in ("noise", "needles"):
            return None
        text = load_corpus(self.params.haystack)
        return tokenize_haystack(context.tokenizer, text, max(context.lengths), self.params.repeat_haystack)

    def _needles(self, rng: random.Random) -> tuple[list[str], list[str], str, list[str]]:
        """(needle sentences with the queried one first, answers, query text, all keys)."""
        params = self.params
        num_keys = max(params.num_keys, params.num_queries)
        keys: list[str] = []
        while len(keys) < num_keys:
            key = GENERATORS[params.key_type](rng)
            if key not in keys:
                keys.append(key)
        values = [[GENERATORS[params.value_type](rng) for _ in range(params.num_values)] for _ in keys]
        queried = rng.sample(range(num_keys), params.num_queries)
        kind = params.value_type
        first = NEEDLE.format(kind=kind, key=keys[queried[0]], value=values[queried[0]][0])
        others = [
            NEEDLE.format(kind=kind, key=key, value=value)
            for key, key_values in zip(keys, values, strict=True)
            for value in key_values
        ]
        others.remove(first)
        rng.shuffle(others)
        answers = [value for i in queried for value in values[i]]
        names = [keys[i] for i in queried]
        query = names[0] if len(names) == 1 else ", ".join(names[:-1]) + ", and " + names[-1]
        return [first, *others], answers, query, keys

    def _sample(
        self,
        context: BuildContext,
        haystack: TokenHaystack | None,
        rng: random.Random,
        length: int,
        budget: int,
        depth: float | None,
        sample_id: str,
        max_new: int,
        memory: FitMemory | None = None,
    ) -> Sample:
        tokenizer = context.tokenizer
        needles, answers, query, keys = self._needles(rng)
        other_depths = rng.sample(RULER_DEPTHS, len(needles))
        needle_depths = [depth if depth is not None else other_depths[0], *other_depths[1:]]
        template, prefix_text, kind = wording(self.params)
        prefix = prefix_text.format(kind=kind, query=query) if self.params.answer_prefix else ""
        params = self.params
        if params.needle is not None:
            needles, answers, query = [params.needle], [params.answer or ""], params.question or ""
            template, prefix = CUSTOM_TEMPLATE, ""

        def messages_for(hay: str) -> tuple[ChatMessage, ...]:
            return (ChatMessage(role="user", content=template.format(kind=kind, query=query, context=hay,
                                                                     question=query)),)

        min_unit_tokens: int | Callable[[int], int] = 0  # a token of an essay: no floor
        encode: Callable[[str], tuple[list[int], list[int]]] = tokenizer.encode_rendered
        learns = False  # True when `encode` reads the lines' counts off each measured prompt
        # what n units cost counted alone (fitting.py): a haystack token is one token, a line its own count
        pieces: Callable[[int], int]
        if haystack is not None:
            context_text = _token_context(tokenizer.decode, haystack, needles, needle_depths)
            max_units, unit_tokens = len(haystack.ids), 1.0

            def pieces(n: int) -> int:
                return n
        elif self.params.haystack == "noise":
            # RULER: `[noise] * n`, needles inserted as lines of their own, joined by newlines; a noise
            # line is never shorter than ~15 tokens
            lines = [NOISE_SENTENCES] * (budget // 10 + 16)
            context_text = _line_context(lines, needles, needle_depths)
            max_units, unit_tokens = len(lines), 22.0
            min_unit_tokens = line_tokens(tokenizer, NOISE_SENTENCES)
            per_line = piece_token_counts(tokenizer.encode_with_offsets, [NOISE_SENTENCES, "\n" + NOISE_SENTENCES])[1]

            def pieces(n: int) -> int:
                return n * per_line
        else:
            lines = _distractor_lines(rng, self.params, keys, budget)
            context_text = _line_context(lines, needles, needle_depths)
            max_units, unit_tokens = len(lines), 20.0
            counted = PrefixCounts(lambda start, stop, lines=lines: piece_token_counts(
                tokenizer.encode_with_offsets, ["\n" + line for line in lines[start:stop]]))
            encode, learns = _learning_encode(tokenizer, lines, needles, needle_depths, counted), True

            def min_unit_tokens(n: int, lines: list[str] = lines) -> int:  # n -> n + 1 adds line n
                return line_tokens(tokenizer, lines[n]) if n < len(lines) else 0

            def pieces(n: int, counted: PrefixCounts = counted) -> int:
                return counted.total(n)

        context_text = lru_cache(maxsize=4)(context_text)  # the fitted size is rendered once, reused below
        fitted = fit_to_budget(
            render=lambda n: tokenizer.render(messages_for(context_text(n)), answer_prefix=prefix),
            encode=encode,
            budget=budget,
            max_units=max_units,
            unit_tokens=unit_tokens,
            # lines of many tokens: counts grow with every line, so the fit is the same whatever the
            # first guess and may learn it from the previous sample; a token-space cut may not (a seam can
            # add 0 or 2 tokens), so it starts from the same guess every time
            memory=memory if haystack is None else None,
            key=budget,
            probe=haystack is None,
            min_unit_tokens=min_unit_tokens,
            pieces=pieces,
            pieces_learnt=learns,
            # a templated prompt gets no special tokens beyond its text: its end may be re-encoded alone
            encode_window=window_encoder(tokenizer),
        )
        hay = context_text(fitted.units)
        hay_start = fitted.text.index(hay)
        needle_char = fitted.text.index(needles[0])
        needle_stop = needle_char + len(needles[0])
        first, needle_end, last = (
            bisect_left(fitted.offsets, char) for char in (hay_start, needle_stop, hay_start + len(hay))
        )
        # the token holding the needle's first character (a BPE token may start with the space before it)
        needle_token = bisect_right(fitted.offsets, needle_char) - 1
        overhead = tokenizer.count(messages_for(""), answer_prefix=prefix)
        other_tokens = last - first - (needle_end - needle_token)  # the context without the needle
        return Sample(
            task=self.name,
            sample_id=sample_id,
            messages=messages_for(hay),
            references=tuple(answers),
            target_length=length,
            input_tokens=len(fitted.ids),
            template_overhead=overhead,
            max_new_tokens=max_new,
            answer_prefix=prefix,
            depth=needle_depths[0],
            needle_token_position=needle_token,
            focus_excerpt=focus_excerpt(fitted.text, needle_char, needle_stop),
            metadata={
                "query": query,
                "haystack": self.params.haystack,
                "haystack_units": fitted.units,
                "haystack_repeats": _repeats(haystack, self.params.haystack, fitted.units),
                "needle_depths": needle_depths,
                # the share of the other context tokens that come before the needle: 0 at the start,
                # 100 when nothing follows it
                "actual_depth": round(100.0 * (needle_token - first) / max(1, other_tokens), 2),
            },
        )

    def score(self, output: str, references: Sequence[str], metadata: dict[str, Any]) -> dict[str, float]:
        return ruler_scores(output, references)


def _token_context(
    decode: Callable[[Sequence[int]], str],
    haystack: TokenHaystack,
    needles: list[str],
    depths: list[float],
) -> Callable[[int], str]:
    """A function n -> haystack of n tokens with each needle at the sentence start nearest its depth."""

    def render(n: int) -> str:
        # depth 100 is the end of the haystack, after its last token (the nearest sentence start
        # can lie hundreds of tokens earlier); other depths take the nearest sentence start
        points = [n if d >= 100 else haystack.boundary_near(round(n * d / 100.0), n) for d in depths]
        order = sorted(range(len(needles)), key=lambda i: (points[i], i))
        parts, last = [], 0
        for i in order:
            piece = decode(haystack.ids[last : points[i]]).strip()
            if piece:
                parts.append(piece)
            parts.append(needles[i])
            last = points[i]
        tail = decode(haystack.ids[last:n]).strip()
        if tail:
            parts.append(tail)
        return " ".join(parts)

    return render


FOCUS_CHARS = 300  # characters of the prompt kept either side of the needle in each record


def focus_excerpt(prompt: str, start: int, stop: int) -> str:
    """The needle with FOCUS_CHARS of its surroundings, the needle itself marked [>>> <<<]."""
    before, after = prompt[max(0, start - FOCUS_CHARS) : start], prompt[stop : stop + FOCUS_CHARS]
    lead = "..." if start > FOCUS_CHARS else ""
    trail = "..." if stop + FOCUS_CHARS < len(prompt) else ""
    return f"{lead}{before}[>>>{prompt[start:stop]}<<<]{after}{trail}"


def _repeats(haystack: TokenHaystack | None, source: str, units: int) -> int:
    """How many times the sample's haystack text repeats: copies of an essay corpus beyond the
    first, or RULER's noise line (one sentence group, repeated by design) beyond its first line."""
    if haystack is not None:
        return haystack.repeats_within(units)
    return max(0, units - 1) if source == "noise" else 0


class DistractorLines(Sequence[str]):
    """RULER's `needle` haystack: needle-shaped lines with other keys and values, drawn in order
    from the sample's generator only as far as a fit reads them (a 128k budget allows ~11k lines,
    a uuid haystack fits ~1.6k): the same lines as drawing them all, since nothing draws after."""

    def __init__(self, rng: random.Random, params: NiahParams, keys: list[str], budget: int) -> None:
        self.rng, self.params, self.taken = rng, params, set(keys)
        self.size = budget // 12 + 16  # a distractor line is never shorter than ~12 tokens
        self.drawn: list[str] = []

    def __len__(self) -> int:
        return self.size

    def _draw_through(self, stop: int) -> None:
        key_of, value_of = GENERATORS[self.params.key_type], GENERATORS[self.params.value_type]
        while len(self.drawn) < min(stop, self.size):
            key = key_of(self.rng)
            while key in self.taken:
                key = key_of(self.rng)
            self.drawn.append(NEEDLE.format(kind=self.params.value_type, key=key, value=value_of(self.rng)))

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(self.size)
            self._draw_through(max(start, stop))
            return self.drawn[index]
        position = index + self.size if index < 0 else index
        if not 0 <= position < self.size:
            raise IndexError(index)
        self._draw_through(position + 1)
        return self.drawn[position]


def _distractor_lines(rng: random.Random, params: NiahParams, keys: list[str], budget: int) -> DistractorLines:
    return DistractorLines(rng, params, keys, budget)


def _line_context(lines: list[str], needles: list[str], depths: list[float]) -> Callable[[int], str]:
    def render(n: int) -> str:
        placed = list(lines[:n])
        positions = sorted(((round(n * d / 100.0), i) for i, d in enumerate(depths)), reverse=True)
        for position, i in positions:
            placed.insert(position, needles[i])
        return "\n".join(placed)

    return render


def _learning_encode(
    tokenizer: ModelTokenizer, lines: list[str], needles: list[str], depths: list[float], counted: PrefixCounts
) -> Callable[[str], tuple[list[int], list[int]]]:
    """`encode_rendered` that also reads each distractor line's tokens off the measured prompt (a
    line's piece is the newline before it and the line), so the fit's next sizes are counted from
    that one encode instead of encoding those lines again."""

    def encode(text: str) -> tuple[list[int], list[int]]:
        ids, offsets = tokenizer.encode_rendered(text)
        n, starts = _line_starts(text, lines, needles, depths)
        if n:
            spans = [(start - (1 if text[start - 1 : start] == "\n" else 0), start + len(line))
                     for start, line in zip(starts, lines, strict=False)]
            counted.learn(counts_in_spans(offsets, spans))
        return ids, offsets

    return encode


def _line_starts(text: str, lines: list[str], needles: list[str], depths: list[float]) -> tuple[int, list[int]]:
    """(n, where each of the first n lines starts in `text`) for a prompt holding `_line_context`'s
    n lines; (0, []) when the layout is not found (the fit then counts lines by encoding them)."""
    first = text.find(needles[0]) if needles else -1
    if first < 0:
        return 0, []
    # n is the count whose layout puts the lines and needles where they are: recover it from the
    # haystack's span (from the first line or needle to the last line or needle)
    begin = min(i for i in (text.find(lines[0] + "\n"), first) if i >= 0)
    for n in _candidate_counts(text, lines, begin):
        placed: list[tuple[int, str]] = [(i, line) for i, line in enumerate(lines[:n])]
        for position, i in sorted(((round(n * d / 100.0), i) for i, d in enumerate(depths)), reverse=True):
            placed.insert(position, (-1, needles[i]))
        starts, at = [], begin
        for index, piece in placed:
            if index >= 0:
                starts.append(at)
            at += len(piece) + 1
        if text.startswith("\n".join(piece for _, piece in placed), begin):
            return n, starts
    return 0, []


def _candidate_counts(text: str, lines: list[str], begin: int) -> list[int]:
    """The line count n whose last line ends the haystack: the largest n with lines[n - 1] in the text."""
    low, high, probe = 0, len(lines), 1
    while probe <= high and text.find(lines[probe - 1], begin) >= 0:  # gallop: lines are drawn as read
        low, probe = probe, probe * 2
    high = min(high, probe - 1)
    while low < high:  # lines are distinct and placed in order, so "line k is in the text" holds for k < n
        middle = (low + high + 1) // 2
        if text.find(lines[middle - 1], begin) >= 0:
            low = middle
        else:
            high = middle - 1
    return [low] if low else []


def _preset(name: str, description: str, **defaults: Any) -> type[Niah]:
    fields: dict[str, Any] = {
        field: (NiahParams.model_fields[field].annotation, value) for field, value in defaults.items()
    }
    params_model = create_model(f"{name}_params", __base__=NiahParams, **fields)
    preset = type(name, (Niah,), {"name": name, "description": description, "params_model": params_model})
    return TASKS.register(name)(preset)


TASKS.register("niah")(Niah)
_preset("niah_single_1", "RULER S-NIAH-1: passkey, one number in noise", haystack="noise")
_preset("niah_single_2", "RULER S-NIAH-2: one number in essays")
_preset("niah_single_3", "RULER S-NIAH-3: one uuid in essays", value_type="uuids")
_preset("niah_multikey_1", "RULER MK-NIAH-1: 4 keys in essays", num_keys=4)
_preset("niah_multikey_2", "RULER MK-NIAH-2: the haystack is distractor needles", haystack="needles")
_preset(
    "niah_multikey_3", "RULER MK-NIAH-3: uuid -> uuid among distractor needles",
    haystack="needles", key_type="uuids", value_type="uuids",
)
_preset("niah_multivalue", "RULER MV-NIAH: one key with 4 values", num_values=4)
_preset("niah_multiquery", "RULER MQ-NIAH: 4 keys asked at once", num_keys=4, num_queries=4)
