"""Run options and a suite's values resolved into one RunConfig: the library side of `lc-bench run`.

The command line and Python callers (`lc_bench.evaluate`) both come through `resolve_run_config`,
so they share one precedence rule: explicit options over the suite's values over the built-in
defaults. Options keep the command line's names and text forms ("1k:8k", "0:100:11",
"NAME=VALUE"); Python callers may also pass lists and already-parsed dicts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lc_bench.config import DEFAULT_PROTOCOL, RunConfig
from lc_bench.errors import UsageError
from lc_bench.grids import parse_depths
from lc_bench.lengths import parse_lengths
from lc_bench.registry import TASKS
from lc_bench.suites.loader import Suite, load_suite

DEFAULT_TASKS = ("niah",)
DEFAULT_LENGTHS = "1k,2k,4k"
DEFAULT_DEPTHS = "0,50,100"
DEFAULT_RUNNER = "hf"


def _parse_value(text: str) -> Any:
    """Strings stay strings (pydantic converts "4" or "true" where a field wants a number or a
    bool, so a string field is never turned into a number by accident); JSON lists and objects
    are parsed, since no other text form can carry them."""
    if text.strip().startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise UsageError(f"malformed JSON value {text!r}") from None
    return text


def parse_key_values(items: Sequence[str], what: str) -> dict[str, Any]:
    """["a=1", "b=x"] -> {"a": "1", "b": "x"}; `what` names the option in the error message."""
    parsed: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"malformed {what} {item!r}: use NAME=VALUE")
        parsed[name.strip()] = _parse_value(value)
    return parsed


def parse_task_options(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """["niah.haystack=noise"] -> {"niah": {"haystack": "noise"}}."""
    nested: dict[str, dict[str, Any]] = {}
    for name, value in parse_key_values(items, "--task-opt").items():
        task, dot, param = name.partition(".")
        if not dot or not task or not param:
            raise UsageError(f"malformed --task-opt {name!r}: use TASK.PARAM=VALUE")
        nested.setdefault(task, {})[param] = value
    return nested


def _as_text(value: str | Sequence[Any] | None) -> str | None:
    """A Python list of names, lengths or depths in the command line's comma form, so it goes
    through the same parser (and the same checks) as the text."""
    if value is None or isinstance(value, str):
        return value
    return ",".join(str(item) for item in value)


def resolve_run_config(
    *,
    suite: str | None = None,
    tasks: str | Sequence[str] | None = None,
    lengths: str | Sequence[int] | None = None,
    depths: str | Sequence[float] | None = None,
    samples: int | None = None,
    seed: int | None = None,
    runner: str | None = None,
    runner_opt: Sequence[str] = (),
    task_opt: Sequence[str] = (),
    haystack: str | None = None,
    model: str | None = None,
    tokenizer: str | None = None,
    max_new_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    allow_fixtures: bool = False,
    out: str | Path = Path("results"),
    name: str | None = None,
    runner_options: Mapping[str, Any] | None = None,
    task_params: Mapping[str, Mapping[str, Any]] | None = None,
) -> RunConfig:
    """Explicit options over the suite's values over the built-in defaults, as one RunConfig.

    `runner_opt` / `task_opt` are the command line's "NAME=VALUE" / "TASK.NAME=VALUE" strings;
    `runner_options` / `task_params` are the same, already parsed, and win over them. A suite's
    runner options apply only when the suite's runner is the one used. `haystack` becomes the
    `haystack` parameter of every task whose default haystack is the essay corpus, unless that
    task's haystack is given explicitly. Raises UsageError on bad input.
    """
    chosen = load_suite(suite) if suite else Suite(tasks=list(DEFAULT_TASKS))
    task_names = tuple(t.strip() for t in (_as_text(tasks) or ",".join(chosen.tasks)).split(",") if t.strip())
    if not task_names:
        raise UsageError("--tasks is empty")
    samples_per_cell = samples if samples is not None else (chosen.samples or 1)
    if samples_per_cell < 1:
        raise UsageError("--samples must be at least 1")
    depth_text = _as_text(depths) or chosen.depths or DEFAULT_DEPTHS

    # a suite's parameters for tasks left out with --tasks are not an error (the user's own are)
    params = {task: dict(values) for task, values in chosen.task_params.items() if task in task_names}
    for source in (parse_task_options(task_opt), task_params or {}):
        for task, values in source.items():
            params.setdefault(task, {}).update(values)
    if haystack:
        for task in task_names:
            fields = TASKS.get(task).params_model.model_fields
            if "haystack" in fields and fields["haystack"].default == "essay":
                params.setdefault(task, {}).setdefault("haystack", haystack)

    options = dict(chosen.runner_options) if not runner or runner == chosen.runner else {}
    options.update(parse_key_values(runner_opt, "--runner-opt"))
    options.update(runner_options or {})
    return RunConfig(
        tasks=task_names,
        task_params=params,
        lengths=tuple(parse_lengths(_as_text(lengths) or chosen.lengths or DEFAULT_LENGTHS)),
        depths=() if depth_text.strip() == "random" else tuple(parse_depths(depth_text)),
        samples_per_cell=samples_per_cell,
        seed=seed if seed is not None else (chosen.seed if chosen.seed is not None else 0),
        runner=runner or chosen.runner or DEFAULT_RUNNER,
        runner_options=options,
        model=model,
        tokenizer=tokenizer,
        max_new_tokens=max_new_tokens if max_new_tokens is not None else chosen.max_new_tokens,
        temperature=temperature if temperature is not None else chosen.generation.temperature,
        top_p=top_p if top_p is not None else chosen.generation.top_p,
        protocol=chosen.protocol or DEFAULT_PROTOCOL,
        allow_fixtures=allow_fixtures,
        out_dir=Path(out),
        run_name=name,
    )
