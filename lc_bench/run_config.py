"""Run options and a suite's values resolved into one RunConfig: the library side of `lc-bench run`.

The command line and Python callers (`lc_bench.evaluate`) both come through `resolve_run_config`,
so they share one precedence rule: explicit options over a run file's values (`--config run.yaml`,
lc_bench/run_file.py) over the suite's values over the built-in defaults. Options keep the command
line's names and text forms ("1k:8k", "0:100:11", "NAME=VALUE"); Python callers may also pass lists
and already-parsed dicts. An option is "not given" when it is None (or, for names, lengths and
depths, empty); runner and task options are mappings that each layer updates.
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
from lc_bench.run_file import RunFile, load_run_file
from lc_bench.suites.loader import Suite, load_suite

DEFAULT_TASKS = ("niah",)
DEFAULT_LENGTHS = "1k,2k,4k"
DEFAULT_DEPTHS = "0,50,100"
DEFAULT_RUNNER = "hf"
DEFAULT_OUT = Path("results")


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
    allow_fixtures: bool | None = None,
    out: str | Path | None = None,
    name: str | None = None,
    runner_options: Mapping[str, Any] | None = None,
    task_params: Mapping[str, Mapping[str, Any]] | None = None,
    config_file: str | Path | None = None,
) -> RunConfig:
    """Explicit options over the run file's values over the suite's over the built-in defaults,
    as one RunConfig.

    `runner_opt` / `task_opt` are the command line's "NAME=VALUE" / "TASK.NAME=VALUE" strings;
    `runner_options` / `task_params` are the same, already parsed, and win over them. `config_file`
    is a run file (lc_bench/run_file.py): its values fill every option not given here, its suite
    included. A suite's (or the file's) runner options apply only when its runner is the one used;
    the file's task options for tasks left out by an explicit `tasks` are dropped, as a suite's are.
    `haystack` becomes the `haystack` parameter of every task whose default haystack is the essay
    corpus, unless that task's haystack is given explicitly. Raises UsageError on bad input.
    """
    file = load_run_file(config_file) if config_file is not None else RunFile()
    given = file.as_options()
    tasks, lengths, depths = _as_text(tasks), _as_text(lengths), _as_text(depths)
    explicit_runner = runner or file.runner
    suite = suite or given["suite"]
    chosen = load_suite(suite) if suite else Suite(tasks=list(DEFAULT_TASKS))
    task_text = tasks or given["tasks"] or ",".join(chosen.tasks)
    task_names = tuple(t.strip() for t in task_text.split(",") if t.strip())
    if not task_names:
        raise UsageError("--tasks is empty")
    samples = _first(samples, given["samples"])
    samples_per_cell = samples if samples is not None else (chosen.samples or 1)
    if samples_per_cell < 1:
        raise UsageError("--samples must be at least 1")
    depth_text = depths or given["depths"] or chosen.depths or DEFAULT_DEPTHS

    # a suite's parameters for tasks left out with --tasks are not an error (the user's own are);
    # nor are the run file's when --tasks overrides the file's task list
    params = {task: dict(values) for task, values in chosen.task_params.items() if task in task_names}
    from_file = {task: values for task, values in file.task_options.items() if not tasks or task in task_names}
    for source in (from_file, parse_task_options(task_opt), task_params or {}):
        for task, values in source.items():
            params.setdefault(task, {}).update(values)
    haystack = haystack or given["haystack"]
    if haystack:
        for task in task_names:
            fields = TASKS.get(task).params_model.model_fields
            if "haystack" in fields and fields["haystack"].default == "essay":
                params.setdefault(task, {}).setdefault("haystack", haystack)

    options = dict(chosen.runner_options) if not explicit_runner or explicit_runner == chosen.runner else {}
    if not runner or runner == file.runner:
        options.update(file.runner_option_values())
    options.update(parse_key_values(runner_opt, "--runner-opt"))
    options.update(runner_options or {})
    seed = _first(seed, given["seed"], chosen.seed, 0)
    out = _first(out, given["out"], DEFAULT_OUT)
    return RunConfig(
        tasks=task_names,
        task_params=params,
        lengths=tuple(parse_lengths(lengths or given["lengths"] or chosen.lengths or DEFAULT_LENGTHS)),
        depths=() if depth_text.strip() == "random" else tuple(parse_depths(depth_text)),
        samples_per_cell=samples_per_cell,
        seed=seed,
        runner=explicit_runner or chosen.runner or DEFAULT_RUNNER,
        runner_options=options,
        model=_first(model, given["model"]),
        tokenizer=_first(tokenizer, given["tokenizer"]),
        max_new_tokens=_first(max_new_tokens, given["max_new_tokens"], chosen.max_new_tokens),
        temperature=_first(temperature, given["temperature"], chosen.generation.temperature),
        top_p=_first(top_p, given["top_p"], chosen.generation.top_p),
        protocol=chosen.protocol or DEFAULT_PROTOCOL,
        allow_fixtures=bool(_first(allow_fixtures, given["allow_fixtures"], False)),
        out_dir=Path(out),
        run_name=_first(name, given["name"]),
    )


def _first(*values: Any) -> Any:
    """The first value that is given (not None): explicit, run file, suite, default."""
    return next((value for value in values if value is not None), None)
