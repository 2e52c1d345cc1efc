"""InfiniteBench's data: the published files (one JSONL per task, `passkey.jsonl` ...), read from
the hub (xinrongzhang2022/InfiniteBench), a local folder in that layout, one file, or the shipped
fixtures (lc_bench/data/infinitebench/, a few short records per task).

The published layout: `{"id", "context", "input", "answer", "options"}` per line; `answer` is a list
(or a bare value in older copies), `options` the four choices of En.MC and Code.Debug. The files
are read with their JSON types kept (Math.Find's int and float answers are compared as such), so
the hub files are downloaded as files rather than through `datasets`, which would cast them.

The Retrieve fixtures are built by `build_passkey`, `build_number_string` and `build_kv_retrieval`
below with the construction of data/construct_synthetic_dataset.py, only shorter (the original
repeats its noise line 5220 times for 128k; the fixtures 40 times): the same noise, needle and
question sentences, the needle moved evenly from the start to the end, five random digits per
pass key, Retrieve.Number's ten digits made of five with five repeats inserted, and KV's JSON
object of uuid4 pairs (lost-in-the-middle's records) with the asked key spread over the positions.
The other fixtures are short hand-made records in the same layout (see the data folder's files).
"""

from __future__ import annotations

import json
import random
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

from lc_bench.errors import UsageError
from lc_bench.tasks.datafiles import (
    TEXT,
    data_cache,
    find_record_file,
    hub_load,
    layout_problem,
    located_records,
    warn_fixture_fallback,
)

HUB_ID = "xinrongzhang2022/InfiniteBench"
GET_DATA_HINT = (
    "get the data with OpenBMB/InfiniteBench's scripts/download_dataset.sh (or `huggingface-cli download "
    f"--repo-type dataset {HUB_ID}`) on a machine with network, then pass --task-opt infinitebench_TASK.data=DIR"
)
LAYOUT = {"context": TEXT, "input": TEXT}
CHOICE_DATASETS = ("longbook_choice_eng", "code_debug")


def fixture_path(dataset: str) -> Path:
    return Path(str(resources.files("lc_bench") / "data" / "infinitebench" / f"{dataset}.jsonl"))


def choice_label(row: dict[str, Any]) -> tuple[str, str]:
    """get_answer for En.MC and Code.Debug: (the right option's text, its letter)."""
    answer, options = row["answer"], row["options"]
    if isinstance(answer, list) and len(answer) == 1:
        answer = answer[0]
    if isinstance(answer, list) and len(answer) == 2 and answer[1] in ("A", "B", "C", "D"):
        return str(answer[0]), answer[1]
    if isinstance(answer, str) and answer in options:
        return answer, "ABCD"[options.index(answer)]
    raise ValueError(f"answer {answer!r} is not one of its options")


def references(row: dict[str, Any], dataset: str) -> tuple[str, ...]:
    """The record's answers as text: (option, letter) for a choice, Math.Calc's list as JSON, else
    each answer (a float stays a float: "50.0")."""
    if dataset in CHOICE_DATASETS:
        return choice_label(row)
    answer = row["answer"]
    if dataset == "math_calc":
        return (json.dumps(answer),)
    answers = answer if isinstance(answer, list) else [answer]
    return tuple(str(value) for value in answers)


def _problem(row: dict[str, Any], dataset: str) -> str | None:
    problem = layout_problem(row, LAYOUT)
    if problem:
        return problem
    if "answer" not in row or row["answer"] in (None, [], ""):
        return "has no answer"
    if dataset in CHOICE_DATASETS:
        options = row.get("options")
        if not (isinstance(options, list) and len(options) == 4 and all(isinstance(o, str) for o in options)):
            return "field 'options' should be a list of four strings"
        try:
            choice_label(row)
        except ValueError as exc:
            return str(exc)
    if dataset == "math_calc":
        values = row["answer"][0] if isinstance(row["answer"][0], list) else row["answer"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return "field 'answer' should be the list of intermediate values (whole numbers)"
    return None


def _check(rows: list[tuple[str, dict[str, Any]]], where: str, dataset: str) -> tuple[dict[str, Any], ...]:
    if not rows:
        raise UsageError(f"{where} holds no records")
    checked = []
    for number, (location, row) in enumerate(rows):
        problem = _problem(row, dataset)
        if problem:
            raise UsageError(f"{location}: {problem} (InfiniteBench's {dataset} layout)")
        checked.append({**row, "id": row.get("id", number)})
    return tuple(checked)


def _read_file(path: Path, dataset: str) -> tuple[dict[str, Any], ...]:
    if not path.exists():
        raise UsageError(f"InfiniteBench data {path} not found; {GET_DATA_HINT}")
    return _check(located_records(path), str(path), dataset)


@data_cache(maxsize=32)
def load_records(data: str, dataset: str) -> tuple[tuple[dict[str, Any], ...], str]:
    """(records, source): `fixture`, a folder holding DATASET.jsonl, a .jsonl file, or a hub id
    (`auto`: the published hub dataset, else the shipped fixture with a warning)."""
    if data == "fixture":
        return _read_file(fixture_path(dataset), dataset), "fixture"
    path = Path(data).expanduser()
    if data.endswith((".jsonl", ".parquet")) or path.is_dir() or data.startswith(("/", ".", "~")):
        file = (find_record_file((path,), dataset) or path / f"{dataset}.jsonl") if path.is_dir() else path
        if not path.exists():
            raise UsageError(f"InfiniteBench data {path} not found; {GET_DATA_HINT}")
        return _read_file(file, dataset), str(file)
    hub_id = HUB_ID if data == "auto" else data
    try:
        from huggingface_hub import hf_hub_download

        file = Path(hub_load(lambda: hf_hub_download(hub_id, f"{dataset}.jsonl", repo_type="dataset")))
    except Exception as exc:  # noqa: BLE001 - offline or missing: one line
        if data == "auto":
            warn_fixture_fallback(f"{hub_id}/{dataset}.jsonl", exc, how=GET_DATA_HINT)
            return _read_file(fixture_path(dataset), dataset), "fixture"
        raise UsageError(
            f"cannot load InfiniteBench {dataset} from {hub_id} ({type(exc).__name__}); {GET_DATA_HINT}"
        ) from None
    return _read_file(file, dataset), hub_id


# construct_synthetic_dataset.py's sentences
NOISE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.\n"
PASSKEY_NEEDLE = "The pass key is {key}. Remember it. {key} is the pass key.\n"
NUMBER_NEEDLE = "The sequence of digits is {key}. Remember it. {key} is the sequence of digits.\n"


def _needle_records(
    rng: random.Random, count: int, noise_lines: int, needle: str, question: str, make_key: Any
) -> list[dict[str, Any]]:
    records = []
    for index in range(count):
        before = round(index * noise_lines / max(count - 1, 1))  # the original steps j over 0..num_noise
        text = NOISE * before + needle + NOISE * (noise_lines - before)
        key = make_key(rng)
        records.append(
            {"id": index, "context": text.replace("{key}", key), "input": question, "answer": [key], "options": []}
        )
    return records


def build_passkey(seed: int = 0, count: int = 3, noise_lines: int = 40) -> list[dict[str, Any]]:
    """Retrieve.PassKey: five random digits hidden in the repeated noise (build_passkey)."""

    def key(rng: random.Random) -> str:
        return "".join(str(rng.randint(0, 9)) for _ in range(5))

    return _needle_records(random.Random(seed), count, noise_lines, PASSKEY_NEEDLE, "What is the pass key?", key)


def build_number_string(seed: int = 0, count: int = 3, noise_lines: int = 40) -> list[dict[str, Any]]:
    """Retrieve.Number: ten digits, five random ones with five repeats inserted (build_number_string)."""

    def key(rng: random.Random) -> str:
        digits = [str(rng.randint(0, 9)) for _ in range(5)]
        for k in range(5):
            position = rng.randint(0, 5 + k - 1)
            digits.insert(position, digits[position])
        return "".join(digits)

    return _needle_records(
        random.Random(seed), count, noise_lines, NUMBER_NEEDLE, "What is the sequence of digits?", key
    )


def build_kv_retrieval(seed: int = 0, count: int = 3, pairs: int = 40) -> list[dict[str, Any]]:
    """Retrieve.KV: a JSON object of uuid pairs and one key to look up (build_kv_retrieval)."""
    rng = random.Random(seed)
    records = []
    for index in range(count):
        kv = [
            (str(uuid.UUID(int=rng.getrandbits(128), version=4)), str(uuid.UUID(int=rng.getrandbits(128), version=4)))
            for _ in range(pairs)
        ]
        asked = min(int(index * pairs / count), pairs)
        text = "JSON data:\n{" + ", ".join(f'"{key}": "{value}"' for key, value in kv) + "}"
        question = '\nKey: "' + kv[asked][0] + '"\nThe value associated with the specified key is: '
        records.append({"id": index, "context": text, "input": question, "answer": [kv[asked][1]], "options": []})
    return records


SYNTHETIC_FIXTURES = {
    "passkey": build_passkey,
    "number_string": build_number_string,
    "kv_retrieval": build_kv_retrieval,
}
