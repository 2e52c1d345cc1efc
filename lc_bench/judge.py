"""`lc-bench judge RUN`: an optional stage that asks another model to grade a run's outputs.

A task opts in by declaring a `judge_plan` (lc_bench/tasks/base.py: the prompts to ask per record,
and the scores the replies give); this module only runs plans, so it names no task. The
long-generation tasks' plans (LongBench-Write's quality judge, LongGenBench's per-unit check) live
in lc_bench/tasks/generation_judges.py.

Any runner can judge (an API model through `openai`, a local one through `hf` or `vllm`). Each
judged sample gets a new record line with the same key (the latest wins, the earlier line stays):
its scores gain the plan's scores, and `judge` keeps the runner, model, prompts, raw verdicts and
parse result. A verdict that does not parse is asked again while its plan allows more tries (the
earlier replies are kept in `judge.earlier_verdicts`); then it is counted as a failure and the
sample stays unjudged. Rerunning skips samples this judge already graded under the same setting.

A plan may declare how it is sampled: `sampling` (lc_bench's setting) and `paper_sampling` (the
original benchmark's: temperature, top_p, seed, output budget, chat template, tries). Records made
under a paper protocol (a `*-paper` suite) are judged with the published setting unless `setting`
says otherwise; the record's `judge.setting` and `judge.sampling` say which was used.
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
DEFAULT_PROTOCOL = "lc_bench"  # a record's protocol when made under lc_bench's own settings (Record.protocol)
SETTINGS = ("auto", "paper", DEFAULT_PROTOCOL)
# what a plan's sampling leaves out: greedy, the judge's usual budget, the chat template, one try
DEFAULT_SAMPLING: dict[str, Any] = {"temperature": 0.0, "top_p": 1.0, "seed": 0, "max_new_tokens": JUDGE_MAX_NEW_TOKENS,
                                    "use_chat_template": True, "attempts": 1}


@dataclass(frozen=True)
class JudgeSummary:
    judged: int
    failures: int
    skipped: int
    retried: int = 0  # tries asked again because a verdict did not parse


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


def judge_run(
    run_dir: Path, runner: Any, judge_model: str, tasks: tuple[str, ...] | None = None, setting: str = "auto"
) -> JudgeSummary:
    """Grade every not-yet-judged successful sample of `tasks` (default: every task of the run
    that declares a judge plan) in a run with `runner`. `setting` picks each plan's sampling:
    `paper` its published one (`paper_sampling`), `lc_bench` its own (`sampling`), `auto` the
    published one for records made under a paper protocol and lc_bench's otherwise. A record whose
    verdicts do not parse is asked again, with the next seed, until its plan's `attempts` are used."""
    if setting not in SETTINGS:
        raise UsageError(f"judge setting {setting!r} is not one of {', '.join(SETTINGS)}")
    plans = judge_plans(judged_tasks_of(run_dir) if tasks is None else tasks)
    tasks = tuple(plans)
    store = RunStore(run_dir)
    manifest = store.open_for_update()
    identity = {"runner": runner.name, "model": judge_model}
    judged = failures = retried = 0
    try:
        latest = latest_by_key(iter_records(store.records_path))
        chosen = {key: sampling_of(plans[record["task"]], record, setting) for key, record in latest.items()
                  if record.get("task") in tasks}
        pending = {
            key: record for key, record in latest.items()
            if record.get("task") in tasks and not (record.get("completion") or {}).get("error")
            and not _already_judged(record, identity, chosen[key][0])
        }
        skipped = sum(1 for record in latest.values() if record.get("task") in tasks) - len(pending)
        prompts = {key: plans[record["task"]].prompts(record) for key, record in pending.items()}
        # a plan's system prompt (`system_prompt`), sent as a system message before each prompt
        systems = {key: getattr(plans[record["task"]], "system_prompt", None) for key, record in pending.items()}
        earlier: dict[str, list[list[str]]] = {key: [] for key in pending}

        def settle(key: str, texts: list[Any], attempt: int) -> bool:
            """Record the verdicts of a try; False when they do not parse and another try is due."""
            nonlocal judged, failures
            record = pending[key]
            name, sampling = chosen[key]
            errors = [t.error.model_dump() for t in texts if t.error]
            result = None if errors else plans[record["task"]].scores(record, [t.text for t in texts])
            if result is None and not errors and attempt < sampling["attempts"]:
                earlier[key].append([t.text for t in texts])
                return False
            failures += result is None
            judged += result is not None
            scores = dict(record.get("scores", {}))
            if result is not None:
                scores.update(result[0])
            verdict = {**identity, "setting": name, "sampling": sampling, "system": systems[key],
                       "prompts": prompts[key], "verdicts": [t.text for t in texts],
                       "parsed": result[1] if result else None,
                       "errors": errors, "attempts": attempt}
            if earlier[key]:
                verdict["earlier_verdicts"] = earlier[key]
            store.append(Record.model_validate({
                **record, "scores": scores, "score": scores.get(record["primary_metric"], record.get("score")),
                "created": datetime.now(UTC).isoformat(timespec="seconds"), "judge": verdict,
            }))
            return True

        for key in [key for key, texts in prompts.items() if not texts]:
            settle(key, [], 1)  # nothing to ask (a structured output with no unit blocks): judged as it stands
        todo = [key for key, texts in prompts.items() if texts]
        attempt = 1
        while todo:
            again = []
            owner: dict[str, tuple[str, int]] = {}
            replies: dict[str, dict[int, Any]] = {key: {} for key in todo}
            for group in _request_groups(todo, prompts, systems, chosen, attempt, owner):
                for completion in runner.generate(group):
                    key, index = owner[completion.key]
                    replies[key][index] = completion
                    if len(replies[key]) == len(prompts[key]):
                        texts = [replies[key][i] for i in range(len(prompts[key]))]
                        if not settle(key, texts, attempt):
                            again.append(key)
            retried += len(again)
            todo, attempt = again, attempt + 1
    finally:
        manifest.invocations.append({"judge": {**identity, "tasks": list(tasks), "setting": setting, "judged": judged,
                                               "failures": failures, "retried": retried,
                                               "ended": datetime.now(UTC).isoformat(timespec="seconds")}})
        store.close(manifest)
    return JudgeSummary(judged=judged, failures=failures, skipped=skipped, retried=retried)


def sampling_of(plan: JudgePlan, record: dict[str, Any], setting: str = "auto") -> tuple[str, dict[str, Any]]:
    """(setting name, sampling) a plan is asked with for a record. A plan declares `sampling` (its
    lc_bench setting) and may declare `paper_sampling` (the published one); either holds
    temperature, top_p, seed, max_new_tokens, use_chat_template and attempts (see
    lc_bench/tasks/generation_judges.JudgeSampling); what a plan leaves out is greedy, one try."""
    paper = getattr(plan, "paper_sampling", None)
    made_under_paper = record.get("protocol", DEFAULT_PROTOCOL) != DEFAULT_PROTOCOL
    use_paper = paper is not None and (setting == "paper" or (setting == "auto" and made_under_paper))
    declared = paper if use_paper else getattr(plan, "sampling", None)
    values = {name: getattr(declared, name, default) for name, default in DEFAULT_SAMPLING.items()}
    return ("paper" if use_paper else DEFAULT_PROTOCOL), values


def _request_groups(
    keys: list[str], prompts: dict[str, list[str]], systems: dict[str, str | None],
    chosen: dict[str, tuple[str, dict[str, Any]]], attempt: int, owner: dict[str, tuple[str, int]],
) -> list[list[Request]]:
    """One try's requests, grouped by decoding, budget and template (a local runner batches a
    call's requests under one setting); `owner` maps each request key to (record key, prompt index).
    A plan's system prompt goes first, as a system message, as the published judges send it."""
    groups: dict[tuple[Any, ...], list[Request]] = {}
    for key in keys:
        sampling = chosen[key][1]
        params = GenerationParams(temperature=sampling["temperature"], top_p=sampling["top_p"],
                                  seed=sampling["seed"] + attempt - 1)
        for index, prompt in enumerate(prompts[key]):
            request_key = f"{key}{JUDGE_KEY_SUFFIX}{index}" + (f".{attempt}" if attempt > 1 else "")
            owner[request_key] = (key, index)
            group = (params, sampling["max_new_tokens"], sampling["use_chat_template"])
            groups.setdefault(group, []).append(Request(
                key=request_key, messages=_judge_messages(systems.get(key), prompt, sampling["use_chat_template"]),
                use_chat_template=sampling["use_chat_template"], max_new_tokens=sampling["max_new_tokens"],
                params=params,
            ))
    return list(groups.values())


def _judge_messages(system: str | None, prompt: str, templated: bool) -> tuple[ChatMessage, ...]:
    """The system prompt as a system message before the prompt; a raw (untemplated) prompt has no
    roles, so there it is the prompt's first paragraph."""
    if not system:
        return (ChatMessage(role="user", content=prompt),)
    if not templated:
        return (ChatMessage(role="user", content=f"{system}\n\n{prompt}"),)
    return (ChatMessage(role="system", content=system), ChatMessage(role="user", content=prompt))


def _already_judged(record: dict[str, Any], identity: dict[str, str], setting: str) -> bool:
    judge = record.get("judge") or {}
    return judge.get("runner") == identity["runner"] and judge.get("model") == identity["model"] and \
        judge.get("setting", DEFAULT_PROTOCOL) == setting and judge.get("parsed") is not None
