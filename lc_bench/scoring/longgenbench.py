"""LongGenBench's scoring (Wu et al., ICLR 2025; github.com/mozhu621/LongGenBench, Evalution/).

What the published code does, rebuilt here (file:line in that repository):

* the scored text is the output prefix (`#*# Week 1 (...):`) followed by the generation
  (inference.py:77), cut into blocks on `#*#` (inference.py:21);
* a block belongs to unit k when `re.search(f"{type} (\\d+)", block)` finds k in it; the first
  block of each number wins (eval.py:27-37). The search is case-sensitive and unanchored;
* Completion Rate: the share of the units 1..number that have a block, x100, averaged over samples
  (eval.py:82-87, 125-127);
* a check (unit -> event) is asked only when its unit has a block (eval.py:40-49): the checks whose
  unit is missing are in no denominator. The judge sees "Context: <block>### Instruction: Does this
  context include the <event>? Please answer with 'yes' or 'no' only." (eval.py:46) and a reply
  counts as yes when "yes" appears anywhere in it, lower-cased (eval.py:55-58);
* Accuracy Once / Range / Periodic pool the verdicts over every sample: all the yes verdicts of a
  kind over all the checks of that kind that were asked (eval.py:144-146); Average Accuracy is the
  mean of the three (eval.py:69).

Pooling cannot be a mean of per-sample scores (a sample's weight is its count of asked checks,
which depends on the other outputs), so each sample carries its counts: `<kind>_yes` and
`<kind>_checked` (asked) and `<kind>_checks` (in the prompt). The published accuracy of a kind is
sum(yes) / sum(checked) over the samples (equivalently mean(yes) / mean(checked)), and
static.ipynb's yes/checks ratio is sum(yes) / sum(checks). The per-sample rates (`once`, `range`,
`periodic`: yes / checked x100, absent when nothing of that kind was asked) and their mean
(`average`, the primary score; 0 when nothing was asked) are lc_bench's per-sample view; the
accuracies are x100 where the published CSV keeps fractions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lc_bench.scoring.longgen import mentions

KINDS = ("once", "range", "periodic")
SEPARATOR = "#*#"
STOP = "*** finished"  # inference.py:65, vLLM's stop string
# eval.py:46, character for character
JUDGE_TEMPLATE = (
    "Context: {block}### Instruction: Does this context include the {event}? Please answer with 'yes' or 'no' only."
)


def full_text(prefix: str, output: str) -> str:
    """What the published code scores: the output prefix, then the generation (inference.py:77)."""
    return prefix + output


def parse_blocks(text: str, unit_type: str) -> dict[int, str]:
    """Unit number -> its block: blocks split on `#*#`, numbered by the first `{type} N` in each."""
    pattern = re.compile(rf"{re.escape(unit_type)} (\d+)")  # eval.py leaves it unescaped: same for its types
    found: dict[int, str] = {}
    for block in text.split(SEPARATOR):
        match = pattern.search(block)
        if match:
            found.setdefault(int(match.group(1)), block)
    return found


def completion_rate(blocks: Mapping[int, str], number: int) -> float:
    """The share of units 1..number that have a block, x100 (numbers outside the range do not count)."""
    return 100.0 * len(set(blocks) & set(range(1, number + 1))) / number


def asked_checks(checks: Mapping[str, str], blocks: Mapping[int, str]) -> list[tuple[str, str]]:
    """(unit, event) of the checks whose unit has a block, in the prompt's order: the judge's questions."""
    return [(unit, event) for unit, event in checks.items() if int(unit) in blocks]


def judge_prompt(block: str, event: str) -> str:
    return JUDGE_TEMPLATE.format(block=block, event=event)


def says_yes(reply: str) -> bool:
    """eval.py's verdict: "yes" anywhere in the lower-cased reply (so "yesterday" counts too)."""
    return "yes" in reply.strip().lower()


def check_questions(text: str, metadata: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(kind, unit, event, judge prompt) for every asked check of a sample, once, range, periodic."""
    blocks = parse_blocks(text, metadata["type"])
    return [(kind, unit, event, judge_prompt(blocks[int(unit)], event))
            for kind in KINDS for unit, event in asked_checks(metadata[f"checks_{kind}"], blocks)]


def longgenbench_scores(
    text: str, metadata: Mapping[str, Any], verdicts: Mapping[tuple[str, str], bool] | None = None
) -> dict[str, float]:
    """Completion, the counts of each kind and lc_bench's per-sample rates, for the full text
    (prefix + output). `verdicts[(kind, unit)]` are a judge's answers; without them an event counts
    when its unit's block contains the event's wording (case-insensitive), a stand-in for the judge."""
    blocks = parse_blocks(text, metadata["type"])
    scores: dict[str, float] = {"completion": completion_rate(blocks, int(metadata["number"]))}
    rates = []
    for kind in KINDS:
        checks = metadata[f"checks_{kind}"]
        asked = asked_checks(checks, blocks)
        yes = sum(
            1 for unit, event in asked
            if (verdicts[(kind, unit)] if verdicts is not None else mentions(blocks[int(unit)], event))
        )
        scores.update({f"{kind}_checks": float(len(checks)), f"{kind}_checked": float(len(asked)),
                       f"{kind}_yes": float(yes)})
        if asked:
            scores[kind] = 100.0 * yes / len(asked)
            rates.append(scores[kind])
    scores["average"] = sum(rates) / len(rates) if rates else 0.0
    scores["word_count"] = float(len(text.split()))  # inference.py:22
    return scores


def pooled_accuracy(samples: list[Mapping[str, float]]) -> dict[str, float]:
    """The published accuracies from per-sample counts: sum(yes) / sum(checked) per kind x100 (0
    when nothing was asked, as eval.py), their mean, and the mean completion rate."""
    result = {}
    for kind in KINDS:
        checked = sum(sample[f"{kind}_checked"] for sample in samples)
        result[kind] = 100.0 * sum(sample[f"{kind}_yes"] for sample in samples) / checked if checked else 0.0
    result["average"] = sum(result[kind] for kind in KINDS) / len(KINDS)
    result["completion"] = sum(sample["completion"] for sample in samples) / len(samples) if samples else 0.0
    return result
