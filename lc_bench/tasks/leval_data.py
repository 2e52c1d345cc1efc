"""Reading L-Eval's data: the hub copy (`L4NLP/LEval`, one config per sub-task, split `test`), local
files in the published layout (LEval-data/Closed-ended-tasks/<task>.jsonl and
LEval-data/Open-ended-tasks/<task>.jsonl: one long document per line with its `instructions`,
`outputs`, `evaluation` and, except gsm100, `source`), or the shipped fixtures
(lc_bench/data/leval/, lc_bench's own small records in the same layout).

`data=auto` (the default) tries the hub and falls back to the fixture with a warning (refused under a
paper protocol unless --allow-fixtures); `data=fixture` takes the fixture; `data=PATH` a .jsonl file
or a folder holding <task>.jsonl (directly, in its Closed-ended-tasks / Open-ended-tasks folder, or
in LEval-data/ below it); any other value is a hub id. A bad file is one line naming it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from lc_bench.errors import UsageError
from lc_bench.tasks.datafiles import (
    TEXT,
    TEXTS,
    data_cache,
    find_record_file,
    hub_load,
    layout_problem,
    located_records,
    numbered_jsonl,
    warn_fixture_fallback,
)
from lc_bench.tasks.leval_config import CLOSED_ENDED, GET_DATA_HINT, HUB_ID

LAYOUT = {"input": TEXT, "instructions": TEXTS, "outputs": TEXTS, "evaluation": TEXT}
GROUPS = {True: "Closed-ended-tasks", False: "Open-ended-tasks"}


def group_of(subtask: str) -> str:
    return GROUPS[subtask in CLOSED_ENDED]


def fixture_path(subtask: str) -> Path:
    return Path(str(resources.files("lc_bench") / "data" / "leval" / group_of(subtask) / f"{subtask}.jsonl"))


def check_rows(located: list[tuple[str, dict[str, Any]]], subtask: str, where: str) -> list[dict[str, Any]]:
    """The documents, each checked against L-Eval's layout; `located` pairs each with where it is."""
    if not located:
        raise UsageError(f"{where} holds no records; {GET_DATA_HINT}")
    rows = []
    for location, row in located:
        problem = layout_problem(row, LAYOUT)
        if problem is None and len(row["instructions"]) != len(row["outputs"]):
            problem = f"has {len(row['instructions'])} instructions but {len(row['outputs'])} outputs"
        if problem is None and not row["instructions"]:
            problem = "has no instructions"
        if problem is None and subtask == "sci_fi":
            bad = [out for out in row["outputs"] if "[fact:" not in out.lower()]
            if bad:
                problem = f"has a sci_fi output without its [fact: ...] part: {bad[0][:40]!r}"
        if problem:
            raise UsageError(f"{location}: {problem} (L-Eval's layout: input, instructions, outputs, evaluation)")
        rows.append(row)
    return rows


def read_file(path: Path, subtask: str) -> list[dict[str, Any]]:
    if not path.is_file():
        raise UsageError(f"L-Eval data {path} not found; {GET_DATA_HINT}")
    return check_rows(located_records(path), subtask, str(path))


def find_in_folder(folder: Path, subtask: str) -> Path:
    """<task>.jsonl in a folder, its group folder, or LEval-data/<group>/ below it."""
    group = group_of(subtask)
    found = find_record_file((folder, folder / group, folder / "LEval-data" / group), subtask)
    if found is not None:
        return found
    raise UsageError(
        f"{folder} holds no {subtask}.jsonl or .parquet (looked in it, {group}/ and LEval-data/{group}/); "
        f"{GET_DATA_HINT}"
    )


@data_cache(maxsize=64)
def load_documents(data: str, subtask: str) -> tuple[tuple[dict[str, Any], ...], str]:
    """(documents, source) of one sub-task."""
    if data == "fixture":
        return tuple(read_file(fixture_path(subtask), subtask)), "fixture"
    path = Path(data).expanduser()
    if path.is_dir():
        return tuple(read_file(find_in_folder(path, subtask), subtask)), str(path)
    if path.exists() or data.endswith((".jsonl", ".parquet")):
        return tuple(read_file(path, subtask)), str(path)
    hub_id = HUB_ID if data == "auto" else data
    try:
        from datasets import load_dataset

        located = [
            (f"{hub_id}/{subtask}: record {number}", dict(row))
            for number, row in enumerate(hub_load(lambda: load_dataset(hub_id, subtask, split="test")), 1)
        ]
    except Exception as exc:  # noqa: BLE001 - offline or missing: one line
        if data == "auto":
            warn_fixture_fallback(f"{hub_id}/{subtask}", exc, "L-Eval fixture", how=GET_DATA_HINT)
            return tuple(read_file(fixture_path(subtask), subtask)), "fixture"
        raise UsageError(
            f"cannot load L-Eval {subtask} from {hub_id} ({type(exc).__name__}); {GET_DATA_HINT}"
        ) from None
    return tuple(check_rows(located, subtask, f"{hub_id}/{subtask}")), hub_id


def load_battle(path: str) -> dict[str, str]:
    """An L-Eval prediction file (Predictions/.../<model>.pred.jsonl: query, gt, <model>_pred) as
    llm_eval.py pairs it: query + gt -> the opponent's answer."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise UsageError(
            f"battle file {file} not found (an L-Eval prediction file, e.g. "
            "Predictions/llm_gpt4_eval/turbo-16k-0613.pred.jsonl of github.com/OpenLMLab/LEval)"
        )
    answers = {}
    for number, row in numbered_jsonl(file):
        key = next((name for name in row if "_pred" in name), None)
        if key is None or not isinstance(row.get("query"), str) or not isinstance(row.get("gt"), str):
            raise UsageError(f"{file}:{number} is not an L-Eval prediction (query, gt, <model>_pred)")
        answers[row["query"] + row["gt"]] = str(row[key])
    return answers
