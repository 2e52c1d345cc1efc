"""Run files: one YAML file with everything `lc-bench run` takes (`lc-bench run --config run.yaml`).

    model: ./my-model
    runner: openai
    runner_options: {base_url: "http://127.0.0.1:8000/v1", concurrency: 16}
    suite: ruler
    lengths: 4k,8k            # or [4096, 8192]
    task_options: {niah_single_2: {haystack: /data/essays}}
    out: results
    name: nightly

Keys are the command line's option names with underscores (`max_new_tokens`); `runner_options`
and `task_options` are mappings (`--runner-opt NAME=VALUE`, `--task-opt TASK.NAME=VALUE`). Paths
in the file (model, suite, haystack, out) are read as on the command line: relative to the working
directory. Flags given on the command line override the file, which overrides the suite's values.
An unknown key is refused with the closest valid one ("did you mean"). Nothing here holds a secret
beyond what the user wrote: the file is only read, and runner options reach the disk only through
`runners.base.public_options`.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from lc_bench.config import describe_error
from lc_bench.errors import UsageError
from lc_bench.suites.loader import _kind, _yaml_problem, read_yaml_text

# a secret may sit in these (an API key pasted as a runner option): a message never quotes them
UNQUOTED_KEYS = frozenset({"runner_options"})


def _to_text(value: Any) -> Any:
    """A list of names or numbers, or one number, in the command line's comma-separated text form
    ("1k,2k", "0,50,100"), so it goes through the same parser as the flag's text."""
    if isinstance(value, bool) or isinstance(value, dict):
        raise ValueError("give a comma-separated text or a list")
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        if not all(isinstance(item, str | int | float) and not isinstance(item, bool) for item in value):
            raise ValueError("give a list of names or numbers")
        return ",".join(str(item) for item in value)
    return value


# text, a list or a number: kept as the command line's text form
TextList = Annotated[str | None, BeforeValidator(_to_text)]


class _Loader(yaml.SafeLoader):
    """YAML 1.1 without base-60 numbers: `depths: 10:50:5` is a depth grid, not the integer 39005."""


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in _NUMBER_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


class RunFile(BaseModel):
    """The keys of a run file; None (or absent) leaves the option to the suite or the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None
    runner: str | None = None
    runner_options: dict[str, Any] = Field(default_factory=dict)
    endpoints: TextList = None  # the openai runner's replicas (as --endpoints)
    tokenizer: str | None = None
    suite: str | None = None
    tasks: TextList = None
    lengths: TextList = None
    depths: TextList = None
    samples: int | None = None
    seed: int | None = None
    task_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    haystack: str | None = None
    max_new_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    allow_fixtures: bool | None = None
    out: str | None = None
    name: str | None = None

    def given(self) -> set[str]:
        """The keys the file sets (to a value other than null)."""
        return {key for key in self.model_fields_set if getattr(self, key) is not None}

    def as_options(self) -> dict[str, Any]:
        """The file's values in `resolve_run_config`'s terms (lists and numbers as their text forms)."""
        return {
            "model": self.model, "runner": self.runner, "tokenizer": self.tokenizer, "suite": self.suite,
            "tasks": self.tasks, "lengths": self.lengths, "depths": self.depths,
            "samples": self.samples, "seed": self.seed, "haystack": self.haystack,
            "max_new_tokens": self.max_new_tokens, "temperature": self.temperature, "top_p": self.top_p,
            "allow_fixtures": self.allow_fixtures, "out": self.out, "name": self.name,
        }

    def runner_option_values(self) -> dict[str, Any]:
        """`runner_options`, with `endpoints` folded in as --endpoints is."""
        options = dict(self.runner_options)
        if self.endpoints is not None:
            options["endpoints"] = self.endpoints
        return options


def run_file_keys() -> list[str]:
    return list(RunFile.model_fields)


def load_run_file(path: str | Path) -> RunFile:
    """A run file from disk; every problem is one UsageError line naming the file."""
    path = Path(path)
    return parse_run_file(read_yaml_text(path, "config file"), str(path))


def parse_run_file(text: str, name: str) -> RunFile:
    """A run file from its YAML text; `name` says which file in the one-line error."""
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader: no Python objects
    except yaml.YAMLError as exc:
        raise UsageError(f"config file {name} is malformed: not valid YAML ({_yaml_problem(exc)})") from None
    if data is None:
        data = {}  # an empty file sets nothing
    if not isinstance(data, dict):
        raise UsageError(
            f"config file {name} is malformed: it holds {_kind(data)}, not a mapping of keys "
            f"({', '.join(run_file_keys())})"
        )
    unknown = sorted((str(key) for key in data if key not in RunFile.model_fields), key=str)
    if unknown:
        raise UsageError(f"config file {name} is malformed: {'; '.join(_unknown_key(key) for key in unknown)}")
    try:
        return RunFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        raise UsageError(f"config file {name} is malformed: {problems}") from None


def _unknown_key(key: str) -> str:
    close = difflib.get_close_matches(key.replace("-", "_"), run_file_keys(), n=2, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else f" (valid keys: {', '.join(run_file_keys())})"
    return f"unknown key {key!r}{hint}"


def _describe(error: ErrorDetails) -> str:
    """One problem as "key: problem (got VALUE)"; a runner option's value is never quoted."""
    if error["loc"] and error["loc"][0] in UNQUOTED_KEYS:
        where = ".".join(str(part) for part in error["loc"])
        return f"{where}: {error['msg'].removeprefix('Input ')}"
    return describe_error(error, {})
