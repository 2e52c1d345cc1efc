"""LongProc's data-loaded tasks: html_to_tsv, pseudo_to_code and travel_planning, read from the published
data folder (github.com/princeton-pli/LongProc data/, also HELMET's longproc_addon/longproc/data), as
longproc/longproc_data.py reads it:

* html_to_tsv/html_to_tsv_{0.5k,2k,8k}.json (task_id, html_path, task_topic, task_description, gt,
  tsv_header, filtering_instruction) with the pages under html_to_tsv/webpage/;
* pseudo_to_code/pseudo_to_code_{0.5k,2k}.json (problem_id, pseudocode_lines, code_lines, testcases);
* travel_planning/travel_planning_all.json (NATURAL PLAN's trip records plus estimated_output_tokens:
  2k takes [0, 2048), 8k takes [4096, 8192)) and travel_planning_icl_examples.json (the prompt's examples);
* each task's prompts.yaml (USER_PROMPT).

`data=PATH` takes that data folder (or the repository root holding it); `auto` (the default) has no hub
copy to download, so it uses the shipped fixture (lc_bench's own few records in the same layout, under
lc_bench/data/longproc/) with a warning, refused under a paper protocol unless --allow-fixtures.
Samples are the first N records of each tier's file (HELMET shuffles with seed 42 and takes 100).

pseudo_to_code runs the model's C++ (g++ -std=c++11 -O, 10 test cases, 3 s each) only where g++ is on
PATH (`run_code=auto`; see lc_bench/tasks/longproc_code.py for the guards); with `run_code=no`, or no
g++, a sample is left unscored (no accuracy; `code_not_run` = 100) and a warning says why.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.schema import Sample
from lc_bench.scoring.longproc import score_html_to_tsv, score_pseudo_to_code, score_travel_planning
from lc_bench.tasks.base import BuildContext, TaskParams
from lc_bench.tasks.datafiles import (
    TEXT,
    TEXTS,
    WHOLE_NUMBER,
    FieldKind,
    data_cache,
    layout_problem,
    read_json_list,
    warn_fixture_fallback,
)
from lc_bench.tasks.longproc import GET_DATA_HINT, LongProcParams, LongProcTask, fixture_root, user_prompt
from lc_bench.tasks.longproc_code import compiler, run_cpp
from lc_bench.tasks.longproc_search import travel_procedure

TESTCASES = FieldKind(
    "a list of [input lines, output lines] pairs",
    lambda value: (
        isinstance(value, list)
        and all(
            isinstance(case, list) and len(case) == 2 and all(TEXTS.accepts(part) for part in case) for case in value
        )
    ),
)
LAYOUTS: dict[str, dict[str, FieldKind]] = {
    "html_to_tsv": {
        "task_id": TEXT,
        "html_path": TEXT,
        "task_topic": TEXT,
        "task_description": TEXT,
        "gt": TEXT,
        "tsv_header": TEXT,
        "filtering_instruction": TEXT,
    },
    "pseudo_to_code": {"problem_id": TEXT, "pseudocode_lines": TEXTS, "code_lines": TEXTS, "testcases": TESTCASES},
    "travel_planning": {
        "id": TEXT,
        "num_cities": WHOLE_NUMBER,
        "constraints": FieldKind("a list", lambda v: isinstance(v, list)),
        "connected_cities": FieldKind("a list", lambda v: isinstance(v, list)),
        "disambig_question_text": TEXT,
        "ground_truth_plan": TEXT,
        "ground_truth_cities": TEXT,
        "ground_truth_durations": TEXT,
        "estimated_output_tokens": WHOLE_NUMBER,
    },
}
TRAVEL_BANDS = {"2k": (0, 2048), "8k": (4096, 8192)}  # longproc_data.py _load_travel_planning_data


@dataclass(frozen=True)
class Source:
    folder: Path  # holds <task>/...
    name: str  # "fixture" or the path given


def _data_folder(data: str, task: str) -> Source:
    if data in ("auto", "fixture"):
        if data == "auto":
            warn_fixture_fallback(
                f"LongProc's {task} data", FileNotFoundError("no data given"), "LongProc fixture", how=GET_DATA_HINT
            )
        return Source(fixture_root(), "fixture")
    path = Path(data).expanduser()
    if not path.exists():
        raise UsageError(f"LongProc data {path} not found; {GET_DATA_HINT}")
    for folder in (path, path / "data", path.parent):
        if (folder / task).is_dir():
            return Source(folder, str(path))
    raise UsageError(f"{path} holds no {task}/ folder (LongProc's data layout); {GET_DATA_HINT}")


def _records(path: Path, task: str) -> list[dict[str, Any]]:
    if not path.is_file():
        raise UsageError(f"{path} not found (LongProc's {task} layout); {GET_DATA_HINT}")
    try:
        rows = read_json_list(path)
    except UsageError as exc:
        raise UsageError(f"{exc}; {GET_DATA_HINT}") from None
    for number, row in enumerate(rows, 1):
        problem = layout_problem(row, LAYOUTS[task])
        if problem:
            raise UsageError(f"{path}: record {number} {problem} (LongProc's {task} layout); {GET_DATA_HINT}")
    return rows


@data_cache(maxsize=16)
def load_tier(data: str, task: str, tier: str) -> tuple[tuple[dict[str, Any], ...], str, str]:
    """(records of one tier, their folder, source name) in file order."""
    source = _data_folder(data, task)
    folder = source.folder / task
    if task == "travel_planning":
        low, high = TRAVEL_BANDS[tier]
        rows = [
            row
            for row in _records(folder / "travel_planning_all.json", task)
            if low <= row["estimated_output_tokens"] < high
        ]
    else:
        rows = _records(folder / f"{task}_{tier}.json", task)
    return tuple(rows), str(source.folder), source.name


class _DataTask(LongProcTask):
    def build(self, context: BuildContext) -> list[Sample]:
        samples = []
        for tier in self.tiers:
            rows, folder, source = load_tier(self.params.data, self.short_name, tier)  # type: ignore[attr-defined]
            chosen = rows[: context.samples_per_cell]
            prepared = [self.prepare(Path(folder), row) for row in chosen]
            for length in context.lengths:
                for index, (prompt, reference, metadata) in enumerate(prepared):
                    sample = self.make_sample(
                        context, length, tier, f"{tier}/{index}", prompt, reference, {**metadata, "data_source": source}
                    )
                    if sample is not None:
                        samples.append(sample)
        self.warn_short(samples, context)
        return samples

    def prepare(self, folder: Path, row: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        raise NotImplementedError


class LongProcDataParams(LongProcParams):
    data: str = Field(
        "auto",
        description="auto / fixture (shipped fixture) | LongProc's data/ folder (github.com/princeton-pli/LongProc)",
    )


@TASKS.register("longproc_html_to_tsv")
class HtmlToTsv(_DataTask):
    """LongProc HTML to TSV: extract the asked properties of every item of a web page as TSV rows."""

    name: ClassVar[str] = "longproc_html_to_tsv"
    short_name: ClassVar[str] = "html_to_tsv"
    description: ClassVar[str] = "LongProc HTML to TSV (published data): row-level F1 of the extracted table"
    params_model: ClassVar[type[TaskParams]] = LongProcDataParams
    primary_metric: ClassVar[str] = "f1"

    def prepare(self, folder: Path, row: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        page = folder / "html_to_tsv" / row["html_path"]
        try:
            html = page.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"cannot read the page {page} of {row['task_id']}: {type(exc).__name__}; {GET_DATA_HINT}"
            ) from None
        prompt = user_prompt("html_to_tsv", folder).format(
            html_str=html,
            task_topic=row["task_topic"],
            task_description=row["task_description"],
            filtering_instruction=row["filtering_instruction"],
            tsv_header=row["tsv_header"],
        )
        return prompt, row["gt"], {"task_id": row["task_id"], "website_id": row.get("website_id", "")}

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        return score_html_to_tsv(output, references[0])


class PseudoToCodeParams(LongProcDataParams):
    run_code: Literal["auto", "yes", "no"] = Field(
        "auto", description="compile and run the model's C++ with g++: auto (when g++ is on PATH) | yes | no"
    )


@TASKS.register("longproc_pseudo_to_code")
class PseudoToCode(_DataTask):
    """LongProc pseudocode to code: C++ line by line from SPoC pseudocode, judged by its test cases."""

    name: ClassVar[str] = "longproc_pseudo_to_code"
    short_name: ClassVar[str] = "pseudo_to_code"
    description: ClassVar[str] = "LongProc pseudocode to C++ (published data): passes the test cases (needs g++)"
    params_model: ClassVar[type[TaskParams]] = PseudoToCodeParams
    params: PseudoToCodeParams

    def runs_code(self) -> bool:
        if self.params.run_code == "no":
            return False
        if compiler() is None:
            if self.params.run_code == "yes":
                raise UsageError(f"task {self.name}: run_code=yes needs g++ on PATH")
            return False
        return True

    def build(self, context: BuildContext) -> list[Sample]:
        if not self.runs_code():
            reason = "run_code=no" if self.params.run_code == "no" else "no g++ on PATH"
            print(
                f"lc-bench: warning: {self.name}: its samples stay unscored ({reason}): the original compiles "
                "and runs the C++ with g++",
                file=sys.stderr,
            )
        return super().build(context)

    def prepare(self, folder: Path, row: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        prompt = user_prompt("pseudo_to_code", folder).format(pseudocode="\n".join(row["pseudocode_lines"]))
        return prompt, "\n".join(row["code_lines"]), {"problem_id": row["problem_id"], "testcases": row["testcases"]}

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        return score_pseudo_to_code(output, metadata["testcases"], run_cpp if self.runs_code() else None)


@TASKS.register("longproc_travel_planning")
class TravelPlanning(_DataTask):
    """LongProc travel planning: a trip plan found by a written-out depth-first search."""

    name: ClassVar[str] = "longproc_travel_planning"
    short_name: ClassVar[str] = "travel_planning"
    description: ClassVar[str] = "LongProc travel planning (published data): the search procedure and its <Plan>"
    params_model: ClassVar[type[TaskParams]] = LongProcDataParams

    def prepare(self, folder: Path, row: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        try:
            _, procedure = travel_procedure(row)
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"travel_planning record {row['id']}: {exc}; {GET_DATA_HINT}") from None
        prompt = user_prompt("travel_planning", folder).format(
            demonstration=_travel_examples(str(folder)), problem=row["disambig_question_text"]
        )
        return (
            prompt,
            procedure,
            {
                "id": row["id"],
                "ground_truth_cities": row["ground_truth_cities"],
                "ground_truth_durations": row["ground_truth_durations"],
            },
        )

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        return score_travel_planning(
            output,
            metadata["ground_truth_cities"],
            metadata["ground_truth_durations"],
            references[0],
            self.params.compat,
        )


def _travel_examples(folder: str) -> str:
    """The prompt's examples: each record of travel_planning_icl_examples.json, question then procedure."""
    path = Path(folder) / "travel_planning" / "travel_planning_icl_examples.json"
    rows = _records_icl(path)
    return "\n\n".join(f"# Example\n{row['disambig_question_text']}\n\n{travel_procedure(row)[1]}" for row in rows)


def _records_icl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise UsageError(f"{path} not found (LongProc's travel_planning layout); {GET_DATA_HINT}")
    return read_json_list(path)
