"""The long-generation tasks' judge plans, for `lc-bench judge` (lc_bench/judge.py runs them).

* longgen: LongGenBench's check, asked per required (event, unit): the unit's block and "Does this
  context include <event>?"; yes/no replaces the keyword rule and the scores are recomputed.
* longwrite: LongBench-Write's quality judge (LongWriter evaluation/judge.txt and eval_quality.py):
  the request and the response go into its prompt; the judge answers JSON with six dimensions scored
  1-5 (Relevance, Accuracy, Coherence, Clarity, Breadth and Depth, Reading Experience), told to
  ignore length. A dimension maps to (score - 1) * 25 and quality is their mean, which equals the
  published total (mean over dimensions of (mean score - 1) * 25). Parsing follows eval_quality.py:
  the ```json block when there is one, newlines removed, every dimension required; a verdict that
  does not parse is asked again while the setting allows more tries (LongWriter's: five in all),
  then counted as a failure and left unscored. (In eval_quality.py a JSON verdict that lacks a
  dimension uses up two of the five tries; here every unparsable reply is one try.)
* longgenbench: LongGenBench's own check (Wu et al., Evalution/eval.py): per asked (unit, event), the
  unit's block in its published wording; "yes" anywhere in the reply counts (lc_bench/scoring/longgenbench.py).

How a plan is sampled (`JudgeSampling`): `sampling` is lc_bench's setting (greedy, one try), and
`paper_sampling` the original's, used for records made under a paper protocol (lc_bench/judge.py):
LongWriter's quality judge samples at temperature 0.5 with up to 1024 new tokens and tries up to
five times while the verdict does not parse (evaluation/eval_quality.py:18, 68); LongGenBench's
judge is Llama-3.1-8B-Instruct fed the raw prompt (no chat template) at temperature 0.95, top-p 0.95,
seed 42, 50 new tokens (eval.py:130-136).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lc_bench.errors import UsageError
from lc_bench.scoring.longgenbench import KINDS, check_questions, full_text, longgenbench_scores, says_yes


@dataclass(frozen=True)
class JudgeSampling:
    """How a judge plan's prompts are generated: decoding, output budget, chat template, and how
    many tries a record gets in all while its verdicts do not parse (a runner error is never retried).
    Each further try samples with the next seed."""

    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    max_new_tokens: int = 1024
    use_chat_template: bool = True
    attempts: int = 1


LC_BENCH_SAMPLING = JudgeSampling()

DIMENSIONS = ("Relevance", "Accuracy", "Coherence", "Clarity", "Breadth and Depth", "Reading Experience")

# LongWriter evaluation/judge.txt, verbatim
JUDGE_TEMPLATE = (
    "You are an expert in evaluating text quality. Please evaluate the quality of an AI assistant's response to a "
    "user's writing request. Be as strict as possible.\n\n"
    "You need to evaluate across the following six dimensions, with scores ranging from 1 to 5. The scoring "
    "criteria from 5 to 1 for each dimension are as follows:\n\n"
    "1. Relevance: From content highly relevant and fully applicable to the user's request to completely "
    "irrelevant or inapplicable.\n\n"
    "2. Accuracy: From content completely accurate with no factual errors or misleading information to content "
    "with numerous errors and highly misleading.\n\n"
    "3. Coherence: From clear structure with smooth logical connections to disorganized structure with no "
    "coherence.\n\n"
    "4. Clarity: From clear language, rich in detail, and easy to understand to confusing expression with minimal "
    "details.\n\n"
    "5. Breadth and Depth: From both broad and deep content with a lot of information to seriously lacking breadth "
    "and depth with minimal information.\n\n"
    "6. Reading Experience: From excellent reading experience, engaging and easy to understand content to very poor "
    "reading experience, boring and hard to understand content.\n\n"
    "Please evaluate the quality of the following response to a user's request according to the above "
    "requirements.\n\n<User Request>\n\n$INST$\n\n</User Request>\n\n<Response>\n\n$RESPONSE$\n\n</Response>\n\n"
    "Please evaluate the quality of the response. You must first provide a brief analysis of its quality, then "
    "give a comprehensive analysis with scores for each dimension. The output must strictly follow the JSON "
    'format: {"Analysis": ..., "Relevance": ..., "Accuracy": ..., "Coherence": ..., "Clarity": ..., '
    '"Breadth and Depth": ..., "Reading Experience": ...}. You do not need to consider whether the response '
    "meets the user's length requirements in your evaluation. Ensure that only one integer between 1 and 5 is "
    "output for each dimension score."
)


def judge_prompt(request: str, response: str) -> str:
    return JUDGE_TEMPLATE.replace("$INST$", request).replace("$RESPONSE$", response)


def parse_verdict(text: str) -> dict[str, float] | None:
    """The six dimension scores of a verdict (1-5), or None when it does not parse."""
    if "```json" in text:
        match = re.search(r"```json\n(.*?)\n```", text, re.DOTALL)
        text = match.group(1) if match else text
    try:
        verdict = json.loads(text.replace("\n", ""))
    except json.JSONDecodeError:
        return None
    if not isinstance(verdict, dict):
        return None
    scores = {}
    for dimension in DIMENSIONS:
        value = verdict.get(dimension)
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        if not 1 <= number <= 5:
            return None
        scores[dimension] = number
    return scores


def quality_scores(verdict: dict[str, float]) -> dict[str, float]:
    """(score - 1) * 25 per dimension, and their mean as `quality`."""
    mapped = {f"quality_{d.lower().replace(' ', '_')}": (verdict[d] - 1.0) * 25.0 for d in DIMENSIONS}
    return {"quality": sum(mapped.values()) / len(mapped), **mapped}


# LongGenBench's check, asked of one unit's block (its judge answers yes or no per event)
CHECK_TEMPLATE = "Context: $BLOCK$\n\nDoes this context include {event}? Answer only yes or no."


def parse_yes_no(text: str) -> bool | None:
    word = re.match(r"\W*(yes|no)\b", text.strip(), re.IGNORECASE)
    return None if word is None else word.group(1).lower() == "yes"


class LongWriteQuality:
    """longwrite: one six-dimension verdict per sample; adds `quality` scores."""

    sampling = LC_BENCH_SAMPLING
    # LongWriter evaluation/eval_quality.py: temperature=0.5, max_new_tokens=1024 (line 18), and
    # `while scores is None and trys < 5` (line 68): five tries at most
    paper_sampling = JudgeSampling(temperature=0.5, max_new_tokens=1024, attempts=5)

    def prompts(self, record: dict[str, Any]) -> list[str]:
        return [judge_prompt(_request_of(record), record["completion"]["text"])]

    def scores(self, record: dict[str, Any], replies: list[str]) -> tuple[dict[str, float], Any] | None:
        verdict = parse_verdict(replies[0])
        return None if verdict is None else (quality_scores(verdict), verdict)


class LongGenChecks:
    """longgen: a yes/no per (event, unit) on that unit's block, replacing the keyword rule."""

    sampling = LC_BENCH_SAMPLING
    paper_sampling = None  # lc_bench's own design: no published setting

    def _pairs(self, record: dict[str, Any]) -> list[tuple[int, int, str]]:
        from lc_bench.scoring.longgen import split_units

        metadata = record["metadata"]
        blocks = split_units(record["completion"]["text"], metadata["unit"])
        return [(index, unit, CHECK_TEMPLATE.replace("$BLOCK$", blocks[unit].strip()).format(event=check["event"]))
                for index, check in enumerate(metadata["checks"]) for unit in check["units"] if unit in blocks]

    def prompts(self, record: dict[str, Any]) -> list[str]:
        return [prompt for _, _, prompt in self._pairs(record)]

    def scores(self, record: dict[str, Any], replies: list[str]) -> tuple[dict[str, float], Any] | None:
        from lc_bench.tasks.longgen import longgen_scores

        answers = [parse_yes_no(reply) for reply in replies]
        if any(answer is None for answer in answers):
            return None
        verdicts = {(i, u): bool(a) for (i, u, _), a in zip(self._pairs(record), answers, strict=True)}
        metadata = record["metadata"]
        judged = longgen_scores(record["completion"]["text"], metadata["unit"], int(metadata["units"]),
                                metadata["checks"], verdicts)
        return judged, {f"{i}:{u}": v for (i, u), v in verdicts.items()}


class LongGenBenchChecks:
    """longgenbench: LongGenBench's yes/no question per asked (unit, event), on the unit's block of
    the prefixed output; the verdicts replace the stand-in rule and the scores are recomputed. A
    reply always parses ("yes" anywhere, else no), so nothing is retried."""

    sampling = JudgeSampling(max_new_tokens=50)
    paper_sampling = JudgeSampling(temperature=0.95, top_p=0.95, seed=42, max_new_tokens=50, use_chat_template=False)

    def _questions(self, record: dict[str, Any]) -> list[tuple[str, str, str, str]]:
        metadata = record["metadata"]
        return check_questions(full_text(metadata["prefix"], record["completion"]["text"]), metadata)

    def prompts(self, record: dict[str, Any]) -> list[str]:
        return [prompt for _, _, _, prompt in self._questions(record)]

    def scores(self, record: dict[str, Any], replies: list[str]) -> tuple[dict[str, float], Any] | None:
        questions = self._questions(record)
        verdicts = {(kind, unit): says_yes(reply) for (kind, unit, _, _), reply in zip(questions, replies, strict=True)}
        metadata = record["metadata"]
        judged = longgenbench_scores(full_text(metadata["prefix"], record["completion"]["text"]), metadata, verdicts)
        # eval.py's results_once / results_range / results_periodic: unit -> "yes" | "no"
        parsed = {kind: {unit: "yes" if verdicts[(k, unit)] else "no" for k, unit, _, _ in questions if k == kind}
                  for kind in KINDS}
        return judged, parsed


def _request_of(record: dict[str, Any]) -> str:
    request = (record.get("metadata") or {}).get("request")
    if not isinstance(request, str):
        raise UsageError(f"record {record.get('key')} has no stored request to show the judge (rerun the task)")
    return request
