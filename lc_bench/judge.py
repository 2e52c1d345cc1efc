"""`lc-bench judge RUN`: an optional quality stage that asks another model to grade long outputs.

LongBench-Write's judge (LongWriter evaluation/judge.txt and eval_quality.py): the request and
the response go into its prompt; the judge answers JSON with six dimensions scored 1-5 (Relevance,
Accuracy, Coherence, Clarity, Breadth and Depth, Reading Experience), told to ignore length. A
dimension maps to (score - 1) * 25 and quality is their mean, which equals the published total
(mean over dimensions of (mean score - 1) * 25). Parsing follows eval_quality.py: the ```json
block when there is one, newlines removed, every dimension required; a verdict that does not parse
is counted as a failure and left unscored (the original retries up to five times, then drops it).

Any runner can judge (an API model through `openai`, a local one through `hf` or `vllm`). Each
judged sample gets a new record line with the same key (the latest wins, the earlier line stays):
its scores gain `quality` and `quality_<dimension>`, and `judge` keeps the runner, model, prompt,
raw verdict and parse result. Rerunning skips samples this judge already graded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lc_bench.errors import UsageError
from lc_bench.schema import ChatMessage, GenerationParams, Record, Request
from lc_bench.store import RunStore, iter_records, latest_by_key

DIMENSIONS = ("Relevance", "Accuracy", "Coherence", "Clarity", "Breadth and Depth", "Reading Experience")
JUDGED_TASKS = ("longwrite",)
JUDGE_MAX_NEW_TOKENS = 1024
JUDGE_KEY_SUFFIX = "#judge"

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


@dataclass(frozen=True)
class JudgeSummary:
    judged: int
    failures: int
    skipped: int


def judge_run(run_dir: Path, runner: Any, judge_model: str, tasks: tuple[str, ...] = JUDGED_TASKS) -> JudgeSummary:
    """Grade every not-yet-judged successful sample of `tasks` in a run with `runner`."""
    store = RunStore(run_dir)
    manifest = store.open_for_update()
    identity = {"runner": runner.name, "model": judge_model}
    judged = failures = 0
    try:
        latest = latest_by_key(iter_records(store.records_path))
        pending = {
            key: record for key, record in latest.items()
            if record.get("task") in tasks and not (record.get("completion") or {}).get("error")
            and not _already_judged(record, identity)
        }
        skipped = sum(1 for record in latest.values() if record.get("task") in tasks) - len(pending)
        prompts = {key: judge_prompt(_request_of(record), record["completion"]["text"])
                   for key, record in pending.items()}
        requests = [
            Request(key=key + JUDGE_KEY_SUFFIX, messages=(ChatMessage(role="user", content=prompt),),
                    use_chat_template=True, max_new_tokens=JUDGE_MAX_NEW_TOKENS, params=GenerationParams())
            for key, prompt in prompts.items()
        ]
        for completion in runner.generate(requests) if requests else ():
            key = completion.key.removesuffix(JUDGE_KEY_SUFFIX)
            record = pending[key]
            verdict = None if completion.error else parse_verdict(completion.text)
            failures += verdict is None
            judged += verdict is not None
            scores = {name: value for name, value in record.get("scores", {}).items() if not name.startswith("quality")}
            if verdict is not None:
                scores.update(quality_scores(verdict))
            store.append(Record.model_validate({
                **record, "scores": scores, "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "judge": {**identity, "prompt": prompts[key], "verdict": completion.text, "parsed": verdict,
                          "error": completion.error.model_dump() if completion.error else None},
            }))
    finally:
        manifest.invocations.append({"judge": {**identity, "judged": judged, "failures": failures,
                                               "ended": datetime.now(UTC).isoformat(timespec="seconds")}})
        store.close(manifest)
    return JudgeSummary(judged=judged, failures=failures, skipped=skipped)


def _already_judged(record: dict[str, Any], identity: dict[str, str]) -> bool:
    judge = record.get("judge") or {}
    return judge.get("runner") == identity["runner"] and judge.get("model") == identity["model"] and \
        judge.get("parsed") is not None


def _request_of(record: dict[str, Any]) -> str:
    request = (record.get("metadata") or {}).get("request")
    if not isinstance(request, str):
        raise UsageError(f"record {record.get('key')} has no stored request to show the judge (rerun the task)")
    return request

