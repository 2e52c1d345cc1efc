"""Needle Threading scoring (Roberts, Han & Albanie, ICLR 2025).

The published evaluation (the repository's README, Single Needle with Gemini) reads the reply with
`ast.literal_eval`, then counts it correct when its first `len(answer)` characters equal the gold
value: `model_response[0:len(str(answer))] == str(answer)`. `single_value_correct` is that rule;
where `literal_eval` fails (the README would raise) the stripped reply is used, without surrounding
quotes.

The code scoring the tasks with several gold values (Multiple / Conditional Needles, Multi-Thread,
and the branched threads lc_bench adds) is not published. lc_bench reads the reply as a Python
list of strings (`literal_eval`; otherwise every UUID-shaped string in it, in order) and reports:

* `accuracy`: the share of gold values found among the listed ones (each listed value counts once);
* `all_correct`: 1 when every gold value is listed and nothing else is.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Sequence

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def single_value_correct(output: str, answer: str) -> bool:
    """The README's rule: the reply, read by `literal_eval`, starts with the gold value."""
    text = output.strip()
    parsed = _literal(text)
    reply = parsed if isinstance(parsed, str) else text.strip("'\"")
    return reply[: len(answer)] == answer


def listed_values(output: str) -> list[str]:
    """The values a reply lists: a Python list (or tuple) of strings, else the UUIDs in it."""
    text = output.strip()
    parsed = _literal(text)
    if isinstance(parsed, (list, tuple)) and all(isinstance(item, str) for item in parsed):
        return [item.strip() for item in parsed]
    if isinstance(parsed, str):
        return [parsed.strip()]
    return UUID_RE.findall(text)


def threading_scores(output: str, references: Sequence[str]) -> dict[str, float]:
    """`accuracy` (primary) and `all_correct` for a reply and its gold values, x100 as every lc_bench
    score (the leaderboard's scale)."""
    if len(references) == 1:
        correct = 100.0 * single_value_correct(output, references[0])
        return {"accuracy": correct, "all_correct": correct}
    listed = Counter(listed_values(output))
    gold = Counter(references)
    found = sum(min(count, listed[value]) for value, count in gold.items())
    return {
        "accuracy": 100.0 * found / sum(gold.values()),
        "all_correct": 100.0 * (listed == gold),
    }
