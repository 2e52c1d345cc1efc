"""M4LE's sources for the tasks lc_bench builds, read in their published layouts, and the original's
instructions and one-shot examples (verbatim, in lc_bench/data/m4le/prompts.json).

* MN-DS news (English): raw_data/classification/MN-DS-news-classification.csv, columns `content` and
  `category_level_1` (17 categories); blank lines inside an article are collapsed, as the original does.
* THUCNews (Chinese): raw_data/classification/THUCNews/<category>/<n>.txt (14 categories); an article is
  its lines stripped, without U+3000, joined by spaces, kept when longer than 20 characters (the original
  also samples 100 files per category; every file is kept here).
* HotpotQA (English): hotpot_dev_distractor_v1.json, records {question, answer, context: [[title,
  [sentences]]]}.
* NQ-open (English): lost-in-the-middle's nq-open-contriever-msmarco-retrieved-documents.jsonl.gz, records
  {question, answers, ctxs: [{title, text, hasanswer}], nq_annotated_gold: {title, chunked_long_answer}}.

`data=auto` uses the shipped fixtures (lc_bench's own articles and questions in those layouts) with a
warning: the hub copy (wckwan/M4LE) holds the original's pre-built instances, not these sources.
"""

from __future__ import annotations

import csv
import gzip
import json
from importlib import resources
from pathlib import Path
from typing import Any

from lc_bench.errors import UsageError
from lc_bench.tasks.datafiles import data_cache, decode_utf8, read_bytes, read_json_list, warn_fixture_fallback

MNDS_FILE = "MN-DS-news-classification.csv"
THUCNEWS_DIR = "THUCNews"
HOTPOT_FILE = "hotpot_dev_distractor_v1.json"
NQ_FILE = "nq-open-contriever-msmarco-retrieved-documents.jsonl.gz"
HINTS = {
    "mnds": f"{MNDS_FILE} (MN-DS, zenodo.org/record/7394851) is what M4LE's raw_data/preprocess.sh puts in "
    "raw_data/classification/; pass data=PATH to the .csv or its folder",
    "thucnews": "THUCNews (thuctc.thunlp.org) is what M4LE's raw_data/preprocess.sh puts in "
    "raw_data/classification/THUCNews/<category>/*.txt; pass data=PATH to that folder",
    "hotpotqa": f"{HOTPOT_FILE} (hotpotqa.github.io) is what M4LE's raw_data/preprocess.sh puts in "
    "raw_data/hotpotqa/; pass data=PATH to the .json or its folder",
    "nq": f"{NQ_FILE} is lost-in-the-middle's (github.com/nelson-liu/lost-in-the-middle, qa_data/), which M4LE "
    "reads from lost_in_the_middle/; pass data=PATH to the .jsonl.gz or its folder",
}
NAMES = {"mnds": "MN-DS news", "thucnews": "THUCNews", "hotpotqa": "HotpotQA", "nq": "NQ-open (lost in the middle)"}


def data_folder() -> Path:
    return Path(str(resources.files("lc_bench") / "data" / "m4le"))


def prompts() -> dict[str, Any]:
    return json.loads((data_folder() / "prompts.json").read_text(encoding="utf-8"))


def _mnds(path: Path) -> list[tuple[str, str]]:
    path = path / MNDS_FILE if path.is_dir() else path
    if not path.is_file():
        raise UsageError(f"M4LE data {path} not found; {HINTS['mnds']}")
    text = decode_utf8(read_bytes(path, "data file"), str(path))
    try:
        rows = list(csv.DictReader(text.splitlines(keepends=True)))
    except csv.Error as exc:
        raise UsageError(f"{path} is not a readable CSV ({exc}); {HINTS['mnds']}") from None
    if not rows or not {"content", "category_level_1"} <= set(rows[0]):
        raise UsageError(f"{path} lacks the columns content and category_level_1 (MN-DS's layout); {HINTS['mnds']}")
    articles = []
    for number, row in enumerate(rows, 2):
        content, category = row.get("content") or "", row.get("category_level_1") or ""
        if not content.strip() or not category.strip():
            raise UsageError(f"{path}:{number} has an empty content or category_level_1; {HINTS['mnds']}")
        while "\n\n" in content:
            content = content.replace("\n\n", "\n")
        articles.append((content, category))
    return articles


def _thucnews(folder: Path) -> list[tuple[str, str]]:
    folder = folder / THUCNEWS_DIR if (folder / THUCNEWS_DIR).is_dir() else folder
    if not folder.is_dir():
        raise UsageError(f"M4LE data folder {folder} not found; {HINTS['thucnews']}")
    articles = []
    for category in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(category.glob("*.txt")):
            lines = decode_utf8(read_bytes(path, "data file"), str(path)).splitlines()
            line = " ".join(part.strip().replace("\u3000", "") for part in lines)
            if len(line) > 20:
                articles.append((line, category.name))
    if len({category for _, category in articles}) < 2:
        raise UsageError(f"{folder} holds no THUCNews articles in two or more category folders; {HINTS['thucnews']}")
    return articles


def _hotpotqa(path: Path) -> list[dict[str, Any]]:
    path = path / HOTPOT_FILE if path.is_dir() else path
    if not path.is_file():
        raise UsageError(f"M4LE data {path} not found; {HINTS['hotpotqa']}")
    rows = read_json_list(path)
    for number, row in enumerate(rows, 1):
        context = row.get("context")
        if not (
            isinstance(row.get("question"), str)
            and isinstance(row.get("answer"), str)
            and isinstance(context, list)
            and all(
                isinstance(p, list) and len(p) == 2 and isinstance(p[1], list) and all(isinstance(s, str) for s in p[1])
                for p in context
            )
        ):
            raise UsageError(
                f"{path}: record {number} is not {{question, answer, context: [[title, [sentences]]]}} "
                f"(HotpotQA's layout); {HINTS['hotpotqa']}"
            )
    if not rows:
        raise UsageError(f"{path} holds no records; {HINTS['hotpotqa']}")
    return rows


def _nq(path: Path) -> list[dict[str, Any]]:
    path = path / NQ_FILE if path.is_dir() else path
    if not path.is_file():
        raise UsageError(f"M4LE data {path} not found; {HINTS['nq']}")
    raw = read_bytes(path, "data file")
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise UsageError(f"{path} is not a readable gzip file ({exc}); {HINTS['nq']}") from None
    rows = []
    for number, line in enumerate(decode_utf8(raw, str(path)).split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise UsageError(f"{path}:{number} is not valid JSON; {HINTS['nq']}") from None
        gold = row.get("nq_annotated_gold") if isinstance(row, dict) else None
        if not (
            isinstance(row, dict)
            and isinstance(row.get("question"), str)
            and isinstance(row.get("answers"), list)
            and isinstance(row.get("ctxs"), list)
            and isinstance(gold, dict)
            and isinstance(gold.get("title"), str)
            and isinstance(gold.get("chunked_long_answer"), str)
            and all(
                isinstance(c, dict)
                and isinstance(c.get("title"), str)
                and isinstance(c.get("text"), str)
                and "hasanswer" in c
                for c in row["ctxs"]
            )
        ):
            raise UsageError(
                f"{path}:{number} is not {{question, answers, ctxs: [{{title, text, hasanswer}}], "
                f"nq_annotated_gold: {{title, chunked_long_answer}}}} (lost-in-the-middle's layout); "
                f"{HINTS['nq']}"
            )
        rows.append(row)
    if not rows:
        raise UsageError(f"{path} holds no records; {HINTS['nq']}")
    return rows


READERS = {
    "mnds": (_mnds, MNDS_FILE),
    "thucnews": (_thucnews, THUCNEWS_DIR),
    "hotpotqa": (_hotpotqa, HOTPOT_FILE),
    "nq": (_nq, NQ_FILE),
}


@data_cache(maxsize=8)
def load_source(source: str, data: str) -> tuple[tuple[Any, ...], str]:
    """The records of a source (articles as (text, category), or HotpotQA records) and where they came from."""
    read, name = READERS[source]
    if data in ("auto", "fixture"):
        if data == "auto":
            warn_fixture_fallback(
                f"{NAMES[source]} (M4LE's source)",
                FileNotFoundError("no data given"),
                "M4LE fixture",
                how=HINTS[source],
            )
        return tuple(read(data_folder() / name)), "fixture"
    return tuple(read(Path(data).expanduser())), data
