"""`lc-bench judge RUN`: an optional stage that asks another model to grade a run's outputs.

A task opts in by declaring a `judge_plan` (lc_bench/tasks/base.py: the prompts to ask per record,
and the scores the replies give); this module only runs plans, so it names no task. The
long-generation tasks' plans (LongBench-Write's quality judge, LongGenBench's per-unit check) live
in lc_bench/tasks/generation_judges.py.

Any runner can judge (an API model through `openai`, a local one through `hf` or `vllm`). Each
judged sample gets a new record line with the same key (the latest wins, the earlier line stays):
its scores gain the plan's scores, and `judge` keeps the runner, model, prompts, raw verdicts and
parse result. A verdict that does not parse is counted as a failure and the sample stays unjudged.
Rerunning skips samples this judge already graded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lc_bench.errors import UsageError
from lc_bench.metrics.catalog import manifest_tasks
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, GenerationParams, Record, Request
from lc_bench.store import RunStore, iter_records, latest_by_key, read_manifest
from lc_bench.tasks.base import JudgePlan

JUDGE_MAX_NEW_TOKENS = 1024
JUDGE_KEY_SUFFIX = "#judge#"


@dataclass(frozen=True)
class JudgeSummary:
    judged: int
    failures: int
    skipped: int


def judge_plans(tasks: tuple[str, ...]) -> dict[str, JudgePlan]:
    """Each named task's declared plan; a task without one is a one-line error."""
    plans = {}
    for task in tasks:
        plan = TASKS.get(task).judge_plan
        if plan is None:
            judged = [name for name in TASKS.names() if TASKS.get(name).judge_plan is not None]
            raise UsageError(f"task {task!r} declares no judge (judged tasks: {', '.join(judged)})")
        plans[task] = plan
    return plans


def judged_tasks_of(run_dir: Path) -> tuple[str, ...]:
    """The run's tasks that declare a judge plan (the default of `lc-bench judge`)."""
    manifest = read_manifest(run_dir)
    configs = [manifest.config, *(invocation.get("config") for invocation in manifest.invocations)]
    names = manifest_tasks(configs) | set(manifest.task_reports)
    return tuple(sorted(name for name in names if _plan_of(name) is not None))


def _plan_of(task: str) -> JudgePlan | None:
    """A task's judge plan; None for a task that is not installed (another plugin's failure or
    absence must not stop the judging of the tasks that are)."""
    try:
        return TASKS.get(task).judge_plan
    except UsageError:
        return None


def judge_run(run_dir: Path, runner: Any, judge_model: str, tasks: tuple[str, ...] | None = None) -> JudgeSummary:
    """Grade every not-yet-judged successful sample of `tasks` (default: every task of the run
    that declares a judge plan) in a run with `runner`."""
    plans = judge_plans(judged_tasks_of(run_dir) if tasks is None else tasks)
    tasks = tuple(plans)
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
        prompts = {key: plans[record["task"]].prompts(record) for key, record in pending.items()}
        replies: dict[str, dict[int, Any]] = {key: {} for key in pending}

        def finish(key: str) -> None:
            nonlocal judged, failures
            record, texts = pending[key], [replies[key][i] for i in range(len(prompts[key]))]
            errors = [t.error.model_dump() for t in texts if t.error]
            result = None if errors else plans[record["task"]].scores(record, [t.text for t in texts])
            failures += result is None
            judged += result is not None
            scores = dict(record.get("scores", {}))
            if result is not None:
                scores.update(result[0])
            store.append(Record.model_validate({
                **record, "scores": scores, "score": scores.get(record["primary_metric"], record.get("score")),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "judge": {**identity, "prompts": prompts[key], "verdicts": [t.text for t in texts],
                          "parsed": result[1] if result else None, "errors": errors},
            }))

        requests = [
            Request(key=f"{key}{JUDGE_KEY_SUFFIX}{index}", messages=(ChatMessage(role="user", content=prompt),),
                    use_chat_template=True, max_new_tokens=JUDGE_MAX_NEW_TOKENS, params=GenerationParams())
            for key, texts in prompts.items() for index, prompt in enumerate(texts)
        ]
        for key in [key for key, texts in prompts.items() if not texts]:
            finish(key)  # nothing to ask (a structured output with no unit blocks): judged as it stands
        for completion in runner.generate(requests) if requests else ():
            key, _, index = completion.key.rpartition(JUDGE_KEY_SUFFIX)
            replies[key][int(index)] = completion
            if len(replies[key]) == len(prompts[key]):
                finish(key)
    finally:
        manifest.invocations.append({"judge": {**identity, "tasks": list(tasks), "judged": judged,
                                               "failures": failures,
                                               "ended": datetime.now(UTC).isoformat(timespec="seconds")}})
        store.close(manifest)
    return JudgeSummary(judged=judged, failures=failures, skipped=skipped)


def _already_judged(record: dict[str, Any], identity: dict[str, str]) -> bool:
    judge = record.get("judge") or {}
    return judge.get("runner") == identity["runner"] and judge.get("model") == identity["model"] and \
        judge.get("parsed") is not None
