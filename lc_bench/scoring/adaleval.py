"""Ada-LEval's two tasks: answer extraction and scores, strict (default) and `compat` (published).

TSort: the reply should end "Answer: [4, 1, 3, 2]" (part 4 comes first). Strict extraction takes
the bracketed list after "Answer:", and only when exactly one distinct permutation of 1..N is given
there; otherwise the one permutation written as a list of N numbers (commas, spaces or arrows
between them) anywhere in the reply;
otherwise the reply is invalid. Compat is Ada-LEval's `TextSort.evaluate`: `json.loads` of the
text after the first "Answer:" (up to a second one), whatever JSON value it is, else (any error, a
RecursionError too) the unique permutation of the digits 1..N that is a character subsequence of
that text (the original hard-codes 1..4, its only N), else [0]*N; and its comparison walks
`zip(answer, prediction)`, so a prediction shorter than the answer is judged only on its prefix (a
one-element list that starts right scores 100; so do `[]`, `""` and `{}`, and a JSON string or
object is compared by its characters or keys, which never equal an int): published quirks kept for
comparison, never the default. One deliberate difference: a JSON number, true/false or null is not
iterable and makes the original's whole evaluation raise TypeError; compat scores that reply as
[0]*N (0). Compat's `exact` is the published number; its kendall_tau, positions and valid count
only a full permutation of ints.

BestAnswer: the reply should be "Answer: A4". Strict extraction takes the designation right after
"Answer:" (several different ones, or "A4 or A7", is no answer); failing that, a reply that
mentions exactly one designation; a reply listing several options is wrong. Compat is `StackSelect.evaluate`: the
highest-numbered `A{i}` found anywhere as a substring (so "A12" also "finds" A1), else the highest
bare number, which rewards listing options (Ada-LEval issue #5).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from math import factorial

_ANSWER = re.compile(r"answer\s*:", re.IGNORECASE)
_LIST = re.compile(r"\[([^\[\]]*)\]")
_INT = re.compile(r"\d+")
_DESIGNATION = re.compile(r"\bA(\d+)\b")
# "Answer: A4" (markdown bold allowed), and whether an alternative follows ("A4 or A7", "A4/A7")
_ANSWER_CHOICE = re.compile(r"answer\s*:\s*\**\s*A(\d+)\b(\s*(?:or|and|/|,)\s*A\d+)?", re.IGNORECASE)
# numbers written as a list: separated only by commas, spaces or arrows
_NUMBER_LIST = re.compile(r"\d+(?:\s*(?:,|->|→|>|\s)\s*\d+)+")


# -- TSort ----------------------------------------------------------------------------------------


def _permutation(values: Sequence[int], n: int) -> tuple[int, ...] | None:
    return tuple(values) if sorted(values) == list(range(1, n + 1)) else None


def extract_order(reply: str, n: int) -> tuple[int, ...] | None:
    """The order a reply gives for `n` parts (strict), or None when it gives none unambiguously."""
    answer = _ANSWER.search(reply)
    if answer is not None:
        after = reply[answer.end():]
        found = {
            order for body in _LIST.findall(after)
            if (order := _permutation([int(x) for x in _INT.findall(body)], n)) is not None
        }
        if len(found) == 1:
            return found.pop()
        if len(found) > 1:
            return None
    runs = set()
    for written in _NUMBER_LIST.findall(reply):
        numbers = [int(x) for x in _INT.findall(written)]
        runs |= {order for start in range(len(numbers) - n + 1)
                 if (order := _permutation(numbers[start:start + n], n)) is not None}
    return runs.pop() if len(runs) == 1 else None


def extract_order_compat(reply: str, n: int) -> list | str | dict | None:
    """Ada-LEval's TextSort extraction (see the module docstring); None stands for [0]*N.

    A parsed list, string or object is returned as parsed, as the original keeps it (its zip
    compares elements, characters or keys); a number, true/false or null, on which the original's
    evaluation raises, is None."""
    text = reply.split("Answer:")[1].strip() if "Answer:" in reply else reply
    try:
        parsed = json.loads(text)
    except Exception:  # noqa: BLE001 - the original's bare except (JSONDecodeError, RecursionError)
        pass
    else:
        return parsed if isinstance(parsed, list | str | dict) else None
    if n > 9:
        return None  # the published fallback works on single digits
    matches = [p for p in itertools.permutations(range(1, n + 1)) if _is_subsequence("".join(map(str, p)), text)]
    return list(matches[0]) if len(matches) == 1 else None


def _is_subsequence(needle: str, haystack: str) -> bool:
    position = 0
    for char in needle:
        position = haystack.find(char, position) + 1
        if position == 0:
            return False
    return True


def kendall_tau(truth: Sequence[int], predicted: Sequence[int]) -> float:
    """Kendall's tau between two orders of the same items: (concordant - discordant) / pairs."""
    rank = {item: index for index, item in enumerate(predicted)}
    pairs = list(itertools.combinations(truth, 2))
    if not pairs:
        return 1.0
    concordant = sum(1 for a, b in pairs if rank[a] < rank[b])
    return (2 * concordant - len(pairs)) / len(pairs)


def tsort_scores(reply: str, answer: Sequence[int], mode: str = "strict") -> dict[str, float]:
    """exact (the published metric), kendall_tau and positions (partial ability), valid; x100.

    An invalid reply scores 0 on all three (not the random expectation): failing to answer is
    not a guess."""
    n = len(answer)
    if mode == "compat":
        predicted = extract_order_compat(reply, n)
        exact = all(a == p for a, p in zip(answer, predicted if predicted is not None else [0] * n, strict=False))
        order = _permutation(predicted, n) if isinstance(predicted, list) and all(
            isinstance(x, int) for x in predicted) else None
    else:
        order = extract_order(reply, n)
        exact = order is not None and tuple(order) == tuple(answer)
    return {
        "exact": 100.0 * exact,
        "kendall_tau": 100.0 * kendall_tau(answer, order) if order is not None else 0.0,
        "positions": 100.0 * sum(a == p for a, p in zip(answer, order, strict=True)) / n if order else 0.0,
        "valid": 100.0 * (order is not None),
    }


def tsort_random_baseline(n: int) -> float:
    """Expected exact score of a uniformly random order: 100 / N!."""
    return 100.0 / factorial(n)


# -- BestAnswer -----------------------------------------------------------------------------------


def extract_choice(reply: str, candidates: int) -> int | None:
    """The designation number a reply picks (strict), or None (no answer, or several)."""
    picks = set()
    for match in _ANSWER_CHOICE.finditer(reply):
        if match.group(2):  # "Answer: A2 or A7": hedging between options is no answer
            return None
        picks.add(int(match.group(1)))
    if picks:
        return picks.pop() if len(picks) == 1 and 1 <= min(picks) <= candidates else None
    mentioned = {int(x) for x in _DESIGNATION.findall(reply) if 1 <= int(x) <= candidates}
    return mentioned.pop() if len(mentioned) == 1 else None


def extract_choice_compat(reply: str, candidates: int) -> int | None:
    """Ada-LEval's StackSelect extraction: the highest `A{i}` found as a substring, else the
    highest bare number found, else None ('???')."""
    for prefix in ("A", ""):
        for number in range(candidates, 0, -1):
            if f"{prefix}{number}" in reply:
                return number
    return None


def bestanswer_scores(reply: str, accepted: int, candidates: int, mode: str = "strict") -> dict[str, float]:
    choice = extract_choice_compat(reply, candidates) if mode == "compat" else extract_choice(reply, candidates)
    return {"accuracy": 100.0 * (choice == accepted), "valid": 100.0 * (choice is not None)}
