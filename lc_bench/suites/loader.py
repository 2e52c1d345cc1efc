"""Suites: YAML files that select and parameterise tasks (no code in YAML).

A suite names tasks and default lengths, depths, samples, task parameters, and optionally a
runner with its options; command-line
options override any of them. `--suite NAME` finds a shipped suite, `--suite FILE.yaml` a user's.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lc_bench.config import describe_error
from lc_bench.errors import UsageError
from lc_bench.registry import close_matches, did_you_mean, one_error_per_field


class SuiteGeneration(BaseModel):
    """Decoding settings a suite fixes (a paper preset samples as the paper did)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(0.0, ge=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    # the protocol the suite reproduces (e.g. a paper preset); written to every record and the
    # manifest and printed by the leaderboard. None: lc_bench's own defaults ("lc_bench").
    protocol: str | None = None
    # what the protocol changes from lc_bench's defaults, one line (README table, `lc-bench suites`)
    changes: str = ""
    tasks: list[str]
    lengths: str | None = None
    depths: str | None = None
    samples: int | None = Field(None, ge=1)
    seed: int | None = None  # a paper's own sampling seed (e.g. LongGenBench's); --seed wins
    task_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    max_new_tokens: int | None = Field(None, ge=1)  # an output budget for every task (the paper's)
    generation: SuiteGeneration = SuiteGeneration()
    # e.g. a team's CI suite that always runs against its vllm serve endpoint
    runner: str | None = None
    runner_options: dict[str, Any] = Field(default_factory=dict)


def shipped_suites() -> list[str]:
    folder = resources.files("lc_bench") / "suites"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_suite(name: str) -> Suite:
    if name.endswith((".yaml", ".yml")):
        text = _read_suite_file(Path(name))
    else:
        if name not in shipped_suites():
            hint = did_you_mean(name, shipped_suites(), prefix="")
            raise UsageError(
                f"unknown suite {name!r} ({hint + '; ' if hint else ''}shipped: {', '.join(shipped_suites())}; "
                "list them with lc-bench suites, or give a FILE.yaml)"
            )
        text = (resources.files("lc_bench") / "suites" / f"{name}.yaml").read_text(encoding="utf-8")
    return parse_suite(text, name)


def _read_suite_file(path: Path) -> str:
    return read_yaml_text(path, "suite file")


def read_yaml_text(path: Path, what: str) -> str:
    """A user's YAML file as text (`what`: "suite file", "config file"): a missing path, a folder,
    an unreadable or a binary file is one line."""
    if not path.exists():
        raise UsageError(f"{what} {path} not found")
    if not path.is_file():
        raise UsageError(f"{what} {path} is not a file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {path} is not UTF-8 text (byte {exc.start}): is it a YAML file?") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None


def parse_suite(text: str, name: str) -> Suite:
    """A suite from its YAML text; `name` says which suite in the one-line error."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"suite {name} is malformed: not valid YAML ({_yaml_problem(exc)})") from None
    keys = ", ".join(Suite.model_fields)
    if not isinstance(data, dict):
        raise UsageError(f"suite {name} is malformed: it holds {_kind(data)}, not a mapping of keys ({keys})")
    unknown = sorted(str(key) for key in set(data) - set(Suite.model_fields))
    if unknown:
        guesses = {
            key: close[0] for key in unknown if (close := close_matches(key, Suite.model_fields, n=1, cutoff=0.6))
        }
        if len(unknown) == 1 and guesses:
            hint = f"did you mean {guesses[unknown[0]]}?; "
        else:
            hint = "".join(f"{key}: did you mean {close}?; " for key, close in guesses.items())
        raise UsageError(f"suite {name} is malformed: unknown key(s) {', '.join(unknown)} ({hint}valid keys: {keys})")
    try:
        return Suite.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in one_error_per_field(exc.errors()):
            loc = error["loc"]
            if error["type"] == "extra_forbidden" and len(loc) == 2 and loc[0] == "generation":
                valid = list(SuiteGeneration.model_fields)
                hint = did_you_mean(str(loc[1]), valid, prefix="", n=1)
                problems.append(f"unknown key 'generation.{loc[1]}' ({hint + '; ' if hint else ''}valid: "
                                f"{', '.join(valid)})")
            else:
                problems.append(describe_error(error, {}))
        raise UsageError(f"suite {name} is malformed: {'; '.join(problems)}") from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's problem and where it is, on one line (its own text spans several)."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        return f"{exc.problem} at line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1}"
    return str(exc).splitlines()[0]


def _kind(data: Any) -> str:
    return "nothing" if data is None else f"a {type(data).__name__}"
