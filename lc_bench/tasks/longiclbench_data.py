"""LongICLBench's six datasets: where their data lives, how the original picks demonstrations and test
examples, and how it writes them into the prompt (github.com/TIGER-AI-Lab/LongICLBench, *_infer.py).

Data sources, as the original reads them:

* GoEmotion, BANKING77, Discovery: the hub datasets `go_emotions`, `banking77`, `discovery`/`discovery`
  (train: demonstrations, test: questions), rows {text, labels[int]} / {text, label} / {sentence1,
  sentence2, label}; labels are indices into the label lists of the scripts (shipped in labels.json).
  A folder may hold them as `go_emotions_train.jsonl` / `_test.jsonl` (what `datasets`' `to_json` writes).
* TacRED, Few-NERD, DialogRE: the repository's processed_data/ files (train_tacred.json, test_tacred.json,
  fewnerd_train_10turns.json, fewnerd_test_1800.json, train_dialogueRE_processed.json, test_dialogueRE.json).

The published demonstration order is kept: GoEmotion, BANKING77 and Discovery take one example of each
label in turn (labels in order of first appearance; a label that runs out gives its turn to the next label
that has examples left: select_data), TacRED collects one example per relation per round in file order
(its select_data), Few-NERD and DialogRE take their train files in order (pre-arranged in rounds; DialogRE's
relation records are merged by dialogue). The questions are the original's evaluation lists (select_data
with 25 / 7 / 4 turns, select_test with 20 per relation, the test files in order).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from lc_bench.errors import UsageError
from lc_bench.tasks.datafiles import (
    TEXT,
    FieldKind,
    data_cache,
    hub_load,
    layout_problem,
    located_records,
    read_json_list,
    warn_fixture_fallback,
)

REPO = "github.com/TIGER-AI-Lab/LongICLBench"
INDEX = FieldKind("a whole number (a label index)", lambda v: isinstance(v, int) and not isinstance(v, bool))
INDICES = FieldKind("a list of label indices", lambda v: isinstance(v, list) and all(INDEX.accepts(x) for x in v))
ENTITIES = FieldKind(
    "an object of entity -> type",
    lambda v: isinstance(v, dict) and all(isinstance(k, str) and isinstance(t, str) for k, t in v.items()),
)
RELATIONS = FieldKind(
    "a list of {relation, subject_entity, object_entity}",
    lambda v: (
        isinstance(v, list)
        and all(
            isinstance(r, dict)
            and all(isinstance(r.get(k), str) for k in ("relation", "subject_entity", "object_entity"))
            for r in v
        )
    ),
)


def fixture_folder() -> Path:
    return Path(str(resources.files("lc_bench") / "data" / "longiclbench"))


def label_lists() -> dict[str, list[str]]:
    """The label lists of the original scripts (all_labels, selected_labels, LABELS, id2fine_tags)."""
    return json.loads((fixture_folder() / "labels.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Dataset:
    key: str  # the task is longicl_<key>
    title: str  # the paper's name
    files: tuple[str, str]  # (train, test) file names in a folder
    layout: dict[str, FieldKind]  # fields of a train / test record
    test_layout: dict[str, FieldKind]
    hub: tuple[str, str | None] | None  # (hub id, config) where the original loads it with load_dataset
    metric: str  # accuracy or f1


DATASETS = {
    d.key: d
    for d in (
        Dataset(
            "goemotion",
            "GoEmotion",
            ("go_emotions_train.jsonl", "go_emotions_test.jsonl"),
            {"text": TEXT, "labels": INDICES},
            {"text": TEXT, "labels": INDICES},
            ("go_emotions", None),
            "accuracy",
        ),
        Dataset(
            "banking77",
            "BANKING77",
            ("banking77_train.jsonl", "banking77_test.jsonl"),
            {"text": TEXT, "label": INDEX},
            {"text": TEXT, "label": INDEX},
            ("banking77", None),
            "accuracy",
        ),
        Dataset(
            "tacred",
            "TacRED",
            ("train_tacred.json", "test_tacred.json"),
            *({"sentence": TEXT, "relation": TEXT, "subject_entity": TEXT, "object_entity": TEXT},) * 2,
            None,
            "f1",
        ),
        Dataset(
            "fewnerd",
            "Few-NERD",
            ("fewnerd_train_10turns.json", "fewnerd_test_1800.json"),
            *({"sentence": TEXT, "entities": ENTITIES},) * 2,
            None,
            "f1",
        ),
        Dataset(
            "dialogre",
            "DialogRE",
            ("train_dialogueRE_processed.json", "test_dialogueRE.json"),
            {"dialogue": TEXT, "relation": TEXT, "subject_entity": TEXT, "object_entity": TEXT},
            {"dialogue": TEXT, "relations": RELATIONS},
            None,
            "f1",
        ),
        Dataset(
            "discovery",
            "Discovery",
            ("discovery_train.jsonl", "discovery_test.jsonl"),
            *({"sentence1": TEXT, "sentence2": TEXT, "label": INDEX},) * 2,
            ("discovery", "discovery"),
            "accuracy",
        ),
    )
}
LABEL_KEY = {
    "goemotion": "goemotion",
    "banking77": "banking77",
    "tacred": "tacred",
    "fewnerd": "fewnerd",
    "dialogre": "dialogre",
    "discovery": "discovery",
}


def get_data_hint(dataset: Dataset) -> str:
    if dataset.hub:
        hub, config = dataset.hub
        where = f"load_dataset({hub!r}{', ' + repr(config) if config else ''})"
        return (
            f"on a machine with network, save {where}'s train and test splits with to_json as "
            f"{dataset.files[0]} and {dataset.files[1]} in one folder, then pass data=FOLDER"
        )
    return f"clone {REPO} and pass data=PATH/LongICLBench/processed_data (its {dataset.files[0]}, {dataset.files[1]})"


def _read(path: Path, dataset: Dataset, layout: dict[str, FieldKind], labels: list[str]) -> list[dict[str, Any]]:
    hint = get_data_hint(dataset)
    try:
        rows = (
            located_records(path)
            if path.suffix in (".jsonl", ".parquet")
            else [(f"{path}: record {n}", row) for n, row in enumerate(read_json_list(path), 1)]
        )
    except UsageError as exc:
        raise UsageError(f"{exc}; {hint}") from None
    if not rows:
        raise UsageError(f"{path} holds no records; {hint}")
    return [_checked(where, row, dataset, layout, labels, hint) for where, row in rows]


def _checked(
    where: str, row: dict[str, Any], dataset: Dataset, layout: dict[str, FieldKind], labels: list[str], hint: str
) -> dict[str, Any]:
    problem = layout_problem(row, layout)
    if problem is None:
        indices = row.get("labels", [row["label"]] if "label" in layout else [])
        bad = [i for i in indices if not 0 <= i < len(labels)]
        if bad:
            problem = f"has label index {bad[0]}, outside the {len(labels)} labels of {dataset.title}"
    if problem:
        raise UsageError(f"{where} {problem} ({dataset.title}'s layout); {hint}")
    return row


def _from_hub(dataset: Dataset, labels: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from datasets import load_dataset

    assert dataset.hub is not None
    hub, config = dataset.hub
    splits = hub_load(lambda: load_dataset(hub, config) if config else load_dataset(hub))
    hint = get_data_hint(dataset)
    return tuple(  # type: ignore[return-value]
        [
            _checked(f"{hub}/{split}: record {n}", dict(row), dataset, dataset.layout, labels, hint)
            for n, row in enumerate(splits[split], 1)
        ]
        for split in ("train", "test")
    )


@data_cache(maxsize=16)
def load_split(key: str, data: str) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...], str]:
    """(train rows, test rows, source) of a dataset: a folder in the published layout, the hub
    (data=auto, for the three hub datasets), or the shipped fixture (lc_bench's own records)."""
    dataset, labels = DATASETS[key], label_lists()[LABEL_KEY[key]]
    if data == "auto" and dataset.hub:
        try:
            train, test = _from_hub(dataset, labels)
            return tuple(train), tuple(test), dataset.hub[0]
        except UsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - offline or missing: one line, then the fixture
            warn_fixture_fallback(
                f"{dataset.title} ({dataset.hub[0]})", exc, "LongICLBench fixture", how=get_data_hint(dataset)
            )
            data = "fixture"
    elif data == "auto":
        warn_fixture_fallback(
            f"{dataset.title} (processed_data of {REPO})",
            FileNotFoundError("no data given"),
            "LongICLBench fixture",
            how=get_data_hint(dataset),
        )
        data = "fixture"
    folder = fixture_folder() if data == "fixture" else Path(data).expanduser()
    if not folder.is_dir():
        raise UsageError(f"LongICLBench data folder {folder} not found; {get_data_hint(dataset)}")
    for place in (folder, folder / "processed_data"):
        # each split as published, or as a .parquet of the same name (what the hub's copies are)
        paths = [place / name if (place / name).is_file() else (place / name).with_suffix(".parquet")
                 for name in dataset.files]
        if all(path.is_file() for path in paths):
            train = _read(paths[0], dataset, dataset.layout, labels)
            test = _read(paths[1], dataset, dataset.test_layout, labels)
            return tuple(train), tuple(test), "fixture" if data == "fixture" else str(folder)
    raise UsageError(f"{folder} lacks {dataset.files[0]} or {dataset.files[1]}; {get_data_hint(dataset)}")


# -- the original's selection ---------------------------------------------------------------------


def select_rounds(rows: list[dict[str, Any]], label_of: Callable[[dict[str, Any]], Any], turns: int | None) -> list:
    """select_data of goemotion / banking77 / discovery_infer.py: per turn, one example of each label (in
    order of first appearance), a label with none left passing its turn to the next label that has one.
    turns=None: turns until nothing is left."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(label_of(row), []).append(row)
    keys = list(groups)
    taken = dict.fromkeys(keys, 0)
    chosen: list[dict[str, Any]] = []
    turn = 0
    while turns is None or turn < turns:
        before = len(chosen)
        for i in range(len(keys)):
            for other in keys[i:]:  # the label itself, else the next one with examples left
                if taken[other] < len(groups[other]):
                    chosen.append(groups[other][taken[other]])
                    taken[other] += 1
                    break
        turn += 1
        if len(chosen) == before:
            break
    return chosen


def select_tacred(rows: list[dict[str, Any]], labels: list[str]) -> list[dict[str, Any]]:
    """tacred_infer.py's select_data: in file order, an example joins when its relation is not yet in the
    current round; a round closes when it holds all 41 relations (rounds until the file ends)."""
    chosen, seen, wanted = [], set(), set(labels)
    for row in rows:
        if row["relation"] not in seen and row["relation"] in wanted:
            chosen.append(row)
            seen.add(row["relation"])
        if len(seen) == len(wanted):
            seen = set()
    return chosen


def select_tacred_test(rows: list[dict[str, Any]], labels: list[str], per_label: int = 20) -> list[dict[str, Any]]:
    """tacred_infer.py's select_test: the first 20 examples of each relation, in file order."""
    counts = dict.fromkeys(labels, 0)
    chosen = []
    for row in rows:
        if row["relation"] in counts and counts[row["relation"]] < per_label:
            chosen.append(row)
            counts[row["relation"]] += 1
    return chosen


def merge_dialogues(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """dialoguere_infer.py's merge_data: relation records grouped by dialogue (first appearance order)."""
    merged: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        merged.setdefault(row["dialogue"], []).append(
            {k: row[k] for k in ("relation", "subject_entity", "object_entity")}
        )
    return [{"dialogue": dialogue, "relations": relations} for dialogue, relations in merged.items()]
