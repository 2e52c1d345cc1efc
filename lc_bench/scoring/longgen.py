"""Long-generation scores: LongBench-Write's length score, shape checks shared by every long
output, and the rule-based checks of LongGenBench-style structured outputs.

`count_words` and `length_score` are LongWriter's (evaluation/pred.py and eval_length.py):
English words are runs of ASCII letters between word boundaries (so "don't" is two words and
numbers are not words), plus one per CJK character in U+4E00..U+9FFF. The score is asymmetric:
overshoot is tolerated up to 4x the required length, undershoot down to 1/3. One deviation: an
empty reply divides by zero in the original; here it scores 0, the limit of the formula.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

_CJK = re.compile(r"[\u4e00-\u9fff]")
_ENGLISH_WORD = re.compile(r"\b[a-zA-Z]+\b")
_TOKEN = re.compile(r"[\u4e00-\u9fff]|[^\W_]+", re.UNICODE)  # for n-gram checks: words and CJK characters


def count_words(text: str) -> int:
    """LongWriter's length: English words plus Chinese characters."""
    return len(_CJK.findall(text)) + len(_ENGLISH_WORD.findall(text))


def length_score(required: float, produced: float) -> float:
    """S_l = 100*max(0, 1-(y/x-1)/3) when y > x, else 100*max(0, 1-(x/y-1)/2); x required, y produced."""
    if produced > required:
        return 100.0 * max(0.0, 1.0 - (produced / required - 1.0) / 3.0)
    if produced <= 0:
        return 0.0
    return 100.0 * max(0.0, 1.0 - (required / produced - 1.0) / 2.0)


def ngrams(units: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(units[i:i + n]) for i in range(len(units) - n + 1)]


def shape_checks(text: str) -> dict[str, float]:
    """Length and degeneration of any long output: words (LongWriter's count), characters, the
    share of 4-grams that repeat an earlier one (x100; loops push it toward 100) and distinct-2
    (unique bigrams over bigrams, x100; low means repetitive)."""
    units = [unit.lower() for unit in _TOKEN.findall(text)]
    fours, twos = ngrams(units, 4), ngrams(units, 2)
    repeated = sum(count - 1 for count in Counter(fours).values())
    return {
        "words": float(count_words(text)),
        "chars": float(len(text)),
        "repeated_4gram": 100.0 * repeated / len(fours) if fours else 0.0,
        "distinct_2": 100.0 * len(set(twos)) / len(twos) if twos else 0.0,
    }


# -- structured outputs (LongGenBench, Wu et al.) -------------------------------------------------


def split_units(text: str, unit: str) -> dict[int, str]:
    """Blocks of a structured output by their `#*# Unit k` headers (first block per number wins)."""
    pattern = re.compile(rf"#\*#\s*{re.escape(unit)}\s+(\d+)", re.IGNORECASE)
    blocks: dict[int, str] = {}
    matches = list(pattern.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        blocks.setdefault(int(match.group(1)), text[match.end():end])
    return blocks


def mentions(block: str, keyword: str) -> bool:
    """Whether a unit's text contains the check's keyword (case-insensitive, whitespace-tolerant)."""
    words = keyword.lower().split()
    return re.search(r"\s+".join(map(re.escape, words)), block.lower()) is not None


# -- many questions in one prompt (LongGenBench, Liu et al.) --------------------------------------


def parse_numbered_answers(text: str) -> dict[int, str]:
    """`Answer_k: ...` lines of a combined reply: the first answer given for each k."""
    answers: dict[int, str] = {}
    for match in re.finditer(r"Answer_(\d+)\s*:\s*([^\n]*)", text):
        answers.setdefault(int(match.group(1)), match.group(2).strip())
    return answers


def final_number(text: str) -> str | None:
    """The last number in an answer (commas dropped), as GSM8K-style scoring reads it."""
    numbers = re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
    return numbers[-1] if numbers else None
