"""RULER's non-retrieval synthetic tasks: variable tracking, common and frequent words extraction.

Prompts, answer prefixes (with their leading space) and one-shot examples are RULER's, character
for character; sizes are fitted to the token budget by the number of units (noise lines, list
entries, coded words), so lengths land within one unit.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Callable, Hashable, MutableMapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar

from pydantic import Field

from lc_bench.errors import UsageError
from lc_bench.lengths import format_length, input_budget
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.ruler import ruler_scores
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.fitting import PIECE_SLACK, FitMemory, PrefixCounts, fit_to_budget, piece_token_counts
from lc_bench.tasks.haystack import NOISE_SENTENCES, SEAM_TOKENS, line_tokens
from lc_bench.tasks.words import common_vocabulary, distinct_random_letters, random_letters
from lc_bench.tokenizers import ModelTokenizer

VT_TEMPLATE = (
    "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\n"
    "Question: Find all variables that are assigned the value {query} in the text above."
)
VT_PREFIX = (
    " Answer: According to the chain(s) of variable assignment in the text above, {num_v} variables "
    "are assigned the value {query}, they are: "
)
CWE_TEMPLATE = (
    "Below is a numbered list of words. In these words, some appear more often than others. "
    "Memorize the ones that appear most often.\n{context}\n"
    "Question: What are the 10 most common words in the above list?"
)
CWE_PREFIX = " Answer: The top 10 words that appear most often in the list are:"
FWE_TEMPLATE = (
    "Read the following coded text and track the frequency of each coded word. Find the three most frequently "
    "appeared coded words. {context}\nQuestion: Do not provide any explanation. Please ignore the dots '....'. "
    "What are the three most frequently appeared words in the above coded text?"
)
FWE_PREFIX = " Answer: According to the coded text above, the three most frequently appeared words are:"


class UnitTask(TaskBase):
    """Shared build loop: one sample per length x repeat, fitted by a unit count."""

    grid_task: ClassVar[bool] = True  # seeded by (seed, task, params, length, index) only
    builds_indices: ClassVar[bool] = True

    name: ClassVar[str]
    description: ClassVar[str]
    params_model: ClassVar[type[TaskParams]]
    family: ClassVar[str] = "ruler"
    primary_metric: ClassVar[str] = "string_match_all"
    default_max_new_tokens: ClassVar[int]
    unit_tokens: ClassVar[float] = 4.0

    def __init__(self, params: TaskParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        max_new = context.max_new_tokens or self.default_max_new_tokens
        samples = []
        memory: FitMemory = self.fit_memory(context)  # each first guess learns from the last sample's fit
        for length in context.lengths:
            budget = input_budget(length, max_new)
            for index in context.cell_indices():
                seed = f"{context.seed}|{self.name}|{self.params!r}|{length}|{index}"
                tokenizer = context.tokenizer
                make, max_units, *extra = self.generator(seed, length, budget, tokenizer)
                floor = extra[0] if extra and extra[0] is not None else self.min_unit_tokens(tokenizer)
                pieces = extra[1] if len(extra) > 1 else None
                slack = extra[2] if len(extra) > 2 else PIECE_SLACK

                make = lru_cache(maxsize=4)(make)  # the fitted size is made once more for the sample: reused

                def render(n: int, make: Callable = make, tokenizer: Any = tokenizer) -> str:
                    content, prefix, _ = make(n)
                    return tokenizer.render((ChatMessage(role="user", content=content),), answer_prefix=prefix)

                # counts only: these fits never read offsets, so none are converted (`TokenStarts`)
                encode = tokenizer.encode_rendered_for_count
                fixed = len(encode(render(0))[0])
                fitted = fit_to_budget(
                    render, encode, budget, max_units=max_units, unit_tokens=self.unit_tokens,
                    fixed_tokens=fixed, memory=memory, key=budget, probe=True, min_unit_tokens=floor, pieces=pieces,
                    piece_slack=slack,
                )
                content, prefix, answers = make(fitted.units)
                messages = (ChatMessage(role="user", content=content),)
                samples.append(
                    Sample(
                        task=self.name,
                        sample_id=f"{self.name}/{format_length(length)}/{index}",
                        messages=messages,
                        references=tuple(answers),
                        target_length=length,
                        input_tokens=len(fitted.ids),
                        template_overhead=fixed,
                        max_new_tokens=max_new,
                        answer_prefix=prefix,
                        metadata={"units": fitted.units},
                    )
                )
        return samples

    def generator(
        self, seed: str, length: int, budget: int, tokenizer: ModelTokenizer
    ) -> tuple[Any, ...]:
        """(n -> (user content, answer prefix, answers), the largest sensible n[, n -> the fewest
        tokens that going from n to n + 1 units adds[, n -> the units' pieces counted one by one[,
        the pieces fit's slack]]])."""
        raise NotImplementedError

    def min_unit_tokens(self, tokenizer: ModelTokenizer) -> int:
        """The fewest tokens one more unit adds (0: unknown, the fit checks the next size)."""
        return 0

    def score(self, output: str, references: Sequence[str], metadata: dict[str, Any]) -> dict[str, float]:
        return ruler_scores(output, references)


# -- variable tracking ------------------------------------------------------------------------


class VariableTrackingParams(TaskParams):
    num_chains: int = Field(1, ge=1, le=16)
    num_hops: int = Field(4, ge=1, le=32)
    one_shot: bool = Field(True, description="prepend a solved small example, as RULER does")


VT_EXAMPLE_TOKENS = 500  # RULER builds its one-shot example with max_seq_length=500 ...
VT_EXAMPLE_MIN_LINES = 5  # ... searching noise-line counts upwards of 5


def _chains(
    rng: random.Random, num_chains: int, num_hops: int, name_len: int
) -> tuple[list[list[str]], list[list[str]], list[str]]:
    """(chain lines, variable names per chain, value per chain). As in RULER, values are
    10000-99998 (numpy's randint excludes its upper bound) and every `VAR X = VAR Y ` line ends
    with a space (kept in the noise haystack, where RULER's `". \n"` clean-up never matches)."""
    names: list[str] = []
    while len(names) < num_chains * (num_hops + 1):
        name = random_letters(rng, name_len, string.ascii_uppercase)
        if name not in names:
            names.append(name)
    chains, variables, values = [], [], []
    for c in range(num_chains):
        chain_names = names[c * (num_hops + 1) : (c + 1) * (num_hops + 1)]
        value = str(rng.randrange(10000, 99999))
        lines = [f"VAR {chain_names[0]} = {value}"]
        lines += [f"VAR {b} = VAR {a} " for a, b in zip(chain_names, chain_names[1:], strict=False)]
        chains.append(lines)
        variables.append(chain_names)
        values.append(value)
    return chains, variables, values


def _noise_with_chains(rng: random.Random, chains: list[list[str]], noise_lines: int) -> str:
    """RULER's layout: `noise_lines` noise lines; each chain in turn is inserted in order at random
    positions among the lines so far (so chains interleave), joined by newlines."""
    sentences = [NOISE_SENTENCES] * noise_lines
    for chain in chains:
        positions = sorted(rng.sample(range(max(len(sentences), len(chain))), len(chain)))
        for offset, (position, line) in enumerate(zip(positions, chain, strict=True)):
            sentences.insert(position + offset, line)
    return "\n".join(sentences)


def _vt_example(
    rng: random.Random, seed: str, params: VariableTrackingParams, tokenizer: ModelTokenizer
) -> str:
    """RULER's one-shot example: 3-letter names, at most 10 hops, as many noise lines (at least 5)
    as keep the example's question and answer prefix within 500 tokens, then the answer after a
    second space and a newline: "... they are:  ABC DEF GHI\n"."""
    hops = min(params.num_hops, 10)
    chains, variables, values = _chains(rng, params.num_chains, hops, 3)

    def text(n: int) -> str:
        context = _noise_with_chains(random.Random(f"{seed}|example|{n}"), chains, n)
        return VT_TEMPLATE.format(context=context, query=values[0]) + VT_PREFIX.format(
            num_v=hops + 1, query=values[0]
        )

    try:
        fitted = fit_to_budget(
            text, lambda t: (tokenizer.encode(t), []), VT_EXAMPLE_TOKENS, max_units=VT_EXAMPLE_TOKENS // 5,
            unit_tokens=22.0,
        )
        lines = max(VT_EXAMPLE_MIN_LINES, fitted.units)
    except UsageError:  # a tokenizer that spends 500 tokens on the bare example: RULER's floor
        lines = VT_EXAMPLE_MIN_LINES
    return text(lines) + " " + " ".join(variables[0]) + "\n"


@TASKS.register("vt")
class VariableTracking(UnitTask):
    """Follow a chain of variable assignments through noise (multi-hop tracing)."""

    name: ClassVar[str] = "vt"
    description: ClassVar[str] = "RULER variable tracking: chains of VAR X = VAR Y hidden in noise"
    params_model: ClassVar[type[TaskParams]] = VariableTrackingParams
    default_max_new_tokens: ClassVar[int] = 30
    unit_tokens: ClassVar[float] = 25.0

    def generator(self, seed: str, length: int, budget: int, tokenizer: ModelTokenizer):  # noqa: ANN201
        params: VariableTrackingParams = self.params  # type: ignore[assignment]
        base = random.Random(seed)
        chains, variables, values = _chains(base, params.num_chains, params.num_hops, 5)
        # RULER inserts the example, then a newline, before the question's template
        example = _vt_example(base, seed, params, tokenizer) + "\n" if params.one_shot else ""
        prefix = VT_PREFIX.format(num_v=len(variables[0]), query=values[0])

        def make(n: int) -> tuple[str, str, list[str]]:
            context = _noise_with_chains(random.Random(f"{seed}|layout"), chains, n)
            return example + VT_TEMPLATE.format(context=context, query=values[0]), prefix, variables[0]

        return make, budget // 20 + 8

    def min_unit_tokens(self, tokenizer: ModelTokenizer) -> int:
        return line_tokens(tokenizer, NOISE_SENTENCES)  # a unit is one more noise line


# -- common words extraction ------------------------------------------------------------------


class CommonWordsParams(TaskParams):
    num_common: int = Field(10, ge=1, le=100)
    freq_common: int = Field(30, ge=2, description="repeats of each common word (RULER: 30; 6 below 4k)")
    freq_uncommon: int = Field(3, ge=1, description="repeats of each other word (RULER: 3; 1 below 4k)")
    one_shot: bool = True


def _word_pool(rng: random.Random, needed: int) -> list[str]:
    """RULER's vocabulary, shuffled; past its ~8.7k words, invented 7-letter words (RULER falls
    back to another English list there, which is not shipped with any package)."""
    words = list(common_vocabulary())
    rng.shuffle(words)
    return words + distinct_random_letters(rng, needed - len(words), 7, _vocabulary_set())


def _numbered(words: Sequence[str]) -> str:
    return " ".join(f"{i + 1}. {word}" for i, word in enumerate(words))


@TASKS.register("cwe")
class CommonWords(UnitTask):
    """Find the most common words of a long numbered list (aggregation)."""

    name: ClassVar[str] = "cwe"
    description: ClassVar[str] = "RULER common words extraction: the 10 most frequent words of a numbered list"
    params_model: ClassVar[type[TaskParams]] = CommonWordsParams
    default_max_new_tokens: ClassVar[int] = 120
    unit_tokens: ClassVar[float] = 12.0

    def generator(self, seed: str, length: int, budget: int, tokenizer: ModelTokenizer):  # noqa: ANN201
        params: CommonWordsParams = self.params  # type: ignore[assignment]
        short = length < 4096
        freq_c, freq_u = (6, 1) if short else (params.freq_common, params.freq_uncommon)
        ex_size, ex_c, ex_u = (20, 3, 1) if short else (40, 10, 3)
        max_units = budget // 2 + params.num_common
        pool = _word_pool(random.Random(seed), max_units + ex_size)

        def listing(words: list[str], rep_c: int, rep_u: int, rng: random.Random) -> tuple[str, list[str]]:
            common, uncommon = words[: params.num_common], words[params.num_common :]
            entries = common * rep_c + uncommon * rep_u
            rng.shuffle(entries)
            return _numbered(entries), common

        example = ""
        if params.one_shot:
            ex_context, ex_answer = listing(pool[-ex_size:], ex_c, ex_u, random.Random(seed + "|example"))
            # RULER: the example's template and answer prefix, a space, the answer; then a newline
            example = CWE_TEMPLATE.format(context=ex_context) + CWE_PREFIX + " " + _numbered(ex_answer) + "\n"

        def floor(n: int) -> int:  # n -> n + 1 adds entries " K. word" of word pool[n], numbered from K
            if n < params.num_common or n >= len(pool):
                return 0
            entries = freq_c * params.num_common + freq_u * (n - params.num_common)
            added = (len(tokenizer.encode(f" {entries + k}. {pool[n]}")) - SEAM_TOKENS for k in range(1, freq_u + 1))
            return max(0, sum(added))

        def make(n: int) -> tuple[str, str, list[str]]:
            words = pool[: max(n, params.num_common)]
            context, answer = listing(words, freq_c, freq_u, random.Random(f"{seed}|shuffle"))
            return example + CWE_TEMPLATE.format(context=context), CWE_PREFIX, answer

        # each entry " K. word" counted as " K." plus " word": numbers are shared by every sample of
        # this tokenizer, words by every sample drawing them
        memory = self.fit_memory_for(tokenizer)
        numbers: PrefixCounts = memory.setdefault("entry numbers", PrefixCounts(
            lambda start, stop: piece_token_counts(tokenizer.encode_with_offsets,
                                                   [f" {k}." for k in range(start + 1, stop + 1)])))
        words = PrefixCounts(lambda start, stop: _word_token_counts(memory, tokenizer, pool[start:stop]))
        common = params.num_common

        def pieces(n: int) -> int:
            m = min(max(n, common), len(pool))
            entries = freq_c * common + freq_u * (m - common)
            common_tokens = words.total(common)
            return numbers.total(entries) + freq_c * common_tokens + freq_u * (words.total(m) - common_tokens)

        slack = 0 if _entries_add_up(memory, tokenizer) else PIECE_SLACK
        return make, max_units, floor, pieces, slack


# -- frequent words extraction ----------------------------------------------------------------


class FrequentWordsParams(TaskParams):
    alpha: float = Field(2.0, gt=1.0, description="zeta distribution exponent")
    word_length: int = Field(6, ge=3, le=12)
    vocab_per_tokens: int = Field(50, ge=1, description="vocabulary size = input budget // this (RULER)")


def _word_token_counts(
    memory: MutableMapping[Hashable, Any], tokenizer: ModelTokenizer, words: Sequence[str]
) -> list[int]:
    """Tokens of each " word" (a space, then the word) for this tokenizer. Words of RULER's vocabulary
    are remembered across samples; invented words (fwe's codes, cwe past the vocabulary) are counted
    for this sample only, so the memory stays bounded however many samples a run builds."""
    known: dict[str, int] = memory.setdefault("word tokens", {})
    missing = list(dict.fromkeys(word for word in words if word not in known))
    counted = dict(zip(missing, piece_token_counts(tokenizer.encode_with_offsets, [f" {w}" for w in missing]),
                       strict=True))
    vocabulary = _vocabulary_set()
    known.update((word, count) for word, count in counted.items() if word in vocabulary)
    return [known[word] if word in known else counted[word] for word in words]


@lru_cache(maxsize=1)
def _vocabulary_set() -> frozenset[str]:
    return frozenset(common_vocabulary())


@lru_cache(maxsize=8)
def _zeta(alpha: float, terms: int = 100000) -> float:
    """Riemann zeta(alpha), summed once per exponent (100k terms cost a fit's worth of time)."""
    return math.fsum(k**-alpha for k in range(1, terms)) + (terms ** (1 - alpha)) / (alpha - 1)


@TASKS.register("fwe")
class FrequentWords(UnitTask):
    """Find the three most frequent coded words of a zeta-distributed text (aggregation)."""

    name: ClassVar[str] = "fwe"
    description: ClassVar[str] = "RULER frequent words extraction: top 3 coded words, zeta(alpha) counts"
    params_model: ClassVar[type[TaskParams]] = FrequentWordsParams
    default_max_new_tokens: ClassVar[int] = 50
    unit_tokens: ClassVar[float] = 2.5

    def generator(self, seed: str, length: int, budget: int, tokenizer: ModelTokenizer):  # noqa: ANN201
        params: FrequentWordsParams = self.params  # type: ignore[assignment]
        rng = random.Random(seed)
        size = max(10, budget // params.vocab_per_tokens)  # RULER: (max_seq_length - tokens_to_generate) // 50
        vocab = distinct_random_letters(rng, size, params.word_length)
        vocab[0] = "..."  # RULER's noise word (its prompt says "ignore the dots '....'"); answers are ranks 2-4
        norm = _zeta(params.alpha)

        def make(n: int) -> tuple[str, str, list[str]]:
            words = [
                word for rank, word in enumerate(vocab, 1) for _ in range(int(n * rank**-params.alpha / norm))
            ]
            random.Random(f"{seed}|shuffle").shuffle(words)  # one shuffle seed for every size tried
            return FWE_TEMPLATE.format(context=" ".join(words)), FWE_PREFIX, vocab[1:4]

        powers = [rank**-params.alpha for rank in range(1, len(vocab) + 1)]
        word_tokens = _word_token_counts(self.fit_memory_for(tokenizer), tokenizer, vocab)

        def pieces(n: int) -> int:  # each " word" counted alone (repeats as `make` computes them), seams aside
            return sum(int(n * power / norm) * tokens for power, tokens in zip(powers, word_tokens, strict=True))

        slack = 0 if _words_add_up(self.fit_memory_for(tokenizer), tokenizer, params.word_length) else PIECE_SLACK
        return make, budget * 2, None, pieces, slack


def _sums_are_exact(
    memory: MutableMapping[Hashable, Any],
    probe_key: Hashable,
    tokenizer: ModelTokenizer,
    listings: list[tuple[str, str, list[str]]],
) -> bool:
    """Whether each (user content, answer prefix, pieces) costs the same number of tokens beyond its
    pieces counted alone (`piece_token_counts`): then a task whose prompts are such pieces in any
    order knows a size's count exactly from its pieces, and its fit never measures the next size
    to see it overflow (`fit_to_budget(piece_slack=0)`). A probe of the tokenizer, remembered with
    it: the same answer for every build, so samples never depend on what was built before (byte-level
    BPE with a pre-tokenizer that splits before every space passes; a tokenizer that merges across
    the seams keeps the measured check)."""
    if probe_key not in memory:
        distinct = list(dict.fromkeys(piece for _, _, pieces in listings for piece in pieces))
        counts = dict(zip(distinct, piece_token_counts(tokenizer.encode_with_offsets, distinct), strict=True))

        def extra(content: str, prefix: str, pieces: list[str]) -> int:
            rendered = tokenizer.render((ChatMessage(role="user", content=content),), answer_prefix=prefix)
            return len(tokenizer.encode_rendered(rendered)[0]) - sum(counts[piece] for piece in pieces)

        memory[probe_key] = len({extra(*listing) for listing in listings}) == 1
    return bool(memory[probe_key])


def _words_add_up(memory: MutableMapping[Hashable, Any], tokenizer: ModelTokenizer, word_length: int) -> bool:
    """Whether fwe's prompt costs its template plus each " word" counted alone, whatever the order:
    the noise word "..." and coded words first, last and side by side in every combination."""
    rng = random.Random(f"fwe additivity probe|{word_length}")
    coded = [random_letters(rng, word_length) for _ in range(6)]
    orders = [
        ["...", *coded[:3], "...", "..."],
        [coded[3], "...", coded[4], coded[5], "..."],
        [coded[0], coded[1], "...", coded[2]],
        ["...", "...", coded[5], coded[4], "...", coded[3], coded[0]],
    ]
    listings = [(FWE_TEMPLATE.format(context=" ".join(order)), FWE_PREFIX, [f" {w}" for w in order])
                for order in orders]
    return _sums_are_exact(memory, ("fwe words add up", word_length), tokenizer, listings)


def _entries_add_up(memory: MutableMapping[Hashable, Any], tokenizer: ModelTokenizer) -> bool:
    """Whether cwe's numbered list costs its template plus each " K." and " word" counted alone:
    RULER's words and invented ones, repeated side by side, first and last, and numbers past 1000."""
    rng = random.Random("cwe additivity probe")
    vocabulary = common_vocabulary()
    known = [vocabulary[rng.randrange(len(vocabulary))] for _ in range(4)]
    invented = [random_letters(rng, 7) for _ in range(3)]
    orders = [
        [*known, *invented, known[0], known[0]],
        [invented[2], invented[2], known[3], invented[0], known[1]],
        [known[2], invented[1], *known[:2], invented[0]],
        [rng.choice(known + invented) for _ in range(1005)],
    ]

    def pieces(words: list[str]) -> list[str]:  # the first number follows the template's newline
        return [piece for k, word in enumerate(words, 1) for piece in (f" {k}.", f" {word}")]

    listings = [(CWE_TEMPLATE.format(context=_numbered(order)), CWE_PREFIX, pieces(order)) for order in orders]
    return _sums_are_exact(memory, "cwe entries add up", tokenizer, listings)
