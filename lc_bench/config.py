"""One validated configuration object for a run: what the CLI flags and suites resolve into.

It is written to the manifest; the parts that decide outputs go into each sample's resume key.
Building one from bad values raises `UsageError` with one line naming the option, never a raw
pydantic `ValidationError`, so every entry point (CLI, `lc_bench.evaluate`) refuses it alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from lc_bench.errors import UsageError

# the run folder is OUT/NAME and holds files such as manifest.json.tmp: well under NAME_MAX (255 bytes)
MAX_RUN_NAME_BYTES = 200
SHOWN_VALUE_CHARS = 60  # a message quotes at most this much of a bad value
# how the command line spells each field, so a message names the option the user typed
OPTION_NAMES = {
    "tasks": "--tasks", "task_params": "--task-opt", "lengths": "--lengths", "depths": "--depths",
    "samples_per_cell": "--samples", "seed": "--seed", "runner": "--runner", "runner_options": "--runner-opt",
    "model": "--model", "tokenizer": "--tokenizer", "max_new_tokens": "--max-new-tokens",
    "temperature": "--temperature", "top_p": "--top-p", "out_dir": "--out", "run_name": "--name",
    "protocol": "--suite", "allow_fixtures": "--allow-fixtures",
}
DEFAULT_PROTOCOL = "lc_bench"  # lc_bench's own defaults; a paper preset names its own protocol


def describe_error(error: ErrorDetails, names: Mapping[str, str]) -> str:
    """One pydantic error as "OPTION: problem (got VALUE)", the option spelled as `names` says.

    A value outside a fixed set of choices (a Literal, an Enum) names the closest one, and an
    unknown key the closest of `names` (did you mean). The tags pydantic puts in a location for the
    alternatives of a union (`constrained-int`, `literal['auto']`) are left out."""
    import re

    from lc_bench.registry import close_matches

    loc = [str(part) for part in error["loc"] if not re.match(r"(constrained-|literal\[|function-|lax-|strict-)",
                                                               str(part))]
    head = loc[0] if loc else ""
    where = ".".join([names.get(head, head), *loc[1:]])
    if error["type"] == "missing":
        return f"{where} is required"
    if error["type"] == "extra_forbidden":
        close = close_matches(head, names, n=1) if len(loc) == 1 else []
        return f"unknown key {where!r}" + (f" (did you mean {close[0]}?)" if close else "")
    problem = error["msg"].removeprefix("Value error, ").removeprefix("Input ")
    got = shown_value(error["input"])
    if error["type"] in ("literal_error", "enum"):
        expected = (error.get("ctx") or {}).get("expected", "")
        close = close_matches(str(error["input"]), re.findall(r"'([^']*)'", str(expected)), n=1)
        got += f"; did you mean {close[0]}?" if close else ""
    elif error["type"] == "value_error" and got in problem:  # the message quotes the value already
        return f"{where}: {problem}"
    return f"{where}: {problem} (got {got})"


def shown_value(value: Any) -> str:
    """A bad value as a message quotes it: its repr, cut short (a 100 MB string stays one short line)."""
    text = repr(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + "..."


def describe_validation_error(exc: ValidationError, names: Mapping[str, str]) -> str:
    """Every problem of a ValidationError on one line (pydantic's own text spans several)."""
    return "; ".join(describe_error(error, names) for error in exc.errors())


def check_run_name(name: str) -> str:
    """A run name is one folder inside --out: never a path that leaves it or the file system's limits."""
    if not name.strip() or name in (".", ".."):
        raise ValueError("not a folder name")
    if any(char in name for char in "/\\") or any(ord(char) < 32 for char in name):
        raise ValueError("a run name is one folder name, without '/', '\\' or control characters")
    size = len(name.encode("utf-8"))
    if size > MAX_RUN_NAME_BYTES:
        raise ValueError(f"{size} bytes long (UTF-8), at most {MAX_RUN_NAME_BYTES} allowed")
    return name


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tasks: tuple[str, ...] = ("niah",)
    task_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    lengths: tuple[int, ...] = (1024, 2048, 4096)
    depths: tuple[float, ...] = (0.0, 50.0, 100.0)
    samples_per_cell: int = Field(1, ge=1)
    seed: int = 0
    runner: str = "hf"
    runner_options: dict[str, Any] = Field(default_factory=dict)
    model: str | None = None
    tokenizer: str | None = None  # None: the model's own; "tiktoken[:ENCODING]" or an HF folder / hub id
    max_new_tokens: int | None = Field(None, ge=1)
    # finite: JSON has no inf or NaN, so the manifest would record null and the resume key would lie
    temperature: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    # the published setting this run reproduces (a paper preset's name) or lc_bench's own defaults
    protocol: str = Field(DEFAULT_PROTOCOL, min_length=1)
    # a paper protocol refuses to fall back to shipped fixtures unless this is set (a try-out)
    allow_fixtures: bool = False
    out_dir: Path = Path("results")
    run_name: str | None = None

    @field_validator("run_name")
    @classmethod
    def _run_name_is_one_folder(cls, name: str | None) -> str | None:
        return None if name is None else check_run_name(name)

    @model_validator(mode="wrap")
    @classmethod
    def _one_line_errors(cls, data: Any, handler: Callable[[Any], RunConfig]) -> RunConfig:
        """Bad values are bad input: UsageError (not a ValueError, so pydantic lets it through)."""
        try:
            return handler(data)
        except ValidationError as exc:
            raise UsageError(describe_validation_error(exc, OPTION_NAMES)) from None
