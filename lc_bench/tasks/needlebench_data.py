"""NeedleBench's needles and names: loading (shipped files or the published ones) and the kinship
chains of multi-needle reasoning.

The published files (huggingface.co/datasets/opencompass/NeedleBench) are `needles.jsonl` (one
needle a line: needle, retrieval_question, arg1, arg2 = the keyword scored, language = "English" or
"Chinese") and `names.json` ({"English": "name,name,...", "Chinese": "..."}). lc_bench ships files
of its own in that format (lc_bench/data/needlebench/: fictional places, objects and names that
occur nowhere in the shipped haystack corpora); pass the published ones with
`--task-opt needlebench_single.needles=PATH` (the file or its folder) and `...names=PATH`.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lc_bench.config import shown_value
from lc_bench.errors import UsageError
from lc_bench.tasks.datafiles import decode_utf8, read_bytes, read_jsonl

LANGUAGES = {"en": "English", "zh": "Chinese"}
NEEDLE_FIELDS = ("needle", "retrieval_question", "arg2", "language")
HOW = "get needles.jsonl and names.json from huggingface.co/datasets/opencompass/NeedleBench"

# NeedleBench V2's kinship wording (opencompass/datasets/needlebench_v2/atc.py): each fact says that
# A is B's relative of the given kind, so A is the elder of the two
RELATION_TEMPLATES = {
    "en": (
        "{A} is {B}'s {relationship}.",
        "{B}'s {relationship} is {A}.",
        "{A}, as {B}'s {relationship}, has a significant impact on {B}'s upbringing.",
        "{A} is not only {B}'s {relationship} but also {B}'s role model.",
        "During {B}'s upbringing, {A} was not only {B}'s {relationship}, but also {B}'s guardian.",
        "For {B}, {A} is not just a {relationship}, but also a friend.",
        "For {B}, {A} is more than just a {relationship}; {A} is a lifelong mentor of {B}.",
    ),
    "zh": (
        "{A}是{B}的{relationship}。",
        "{B}的{relationship}是{A}。",
        "{A}作为{B}的{relationship}，对{B}的成长有重要影响。",
        "{A}不仅是{B}的{relationship}，还是{B}的榜样。",
        "{A}在{B}的成长过程中，不仅仅是{B}的{relationship}，还是{B}的监护人。",
        "{A}对{B}来说，不只是一个{relationship}，还是一个朋友。",
    ),
}
RELATION_TERMS = {
    "en": (
        "father",
        "mother",
        "dad",
        "mom",
        "grandfather",
        "grandmother",
        "maternal grandmother",
        "maternal grandfather",
        "paternal grandfather",
        "paternal grandmother",
    ),
    "zh": ("父亲", "母亲", "爸爸", "妈妈", "爷爷", "奶奶", "姥姥", "姥爷", "外公", "外婆"),
}


@dataclass(frozen=True)
class Needle:
    needle: str
    question: str  # retrieval_question
    keyword: str  # arg2: the text scored
    topic: str  # arg1 (multi-retrieval takes needles with distinct arg1 and arg2)


@dataclass(frozen=True)
class KinshipChain:
    facts: tuple[str, ...]  # in the order they are hidden (shuffled)
    names: tuple[str, ...]  # eldest first: names[0] is the answer, names[-1] the person asked about

    @property
    def answer(self) -> str:
        return self.names[0]

    @property
    def last_person(self) -> str:
        return self.names[-1]


def _shipped(name: str) -> Path:
    return Path(str(resources.files("lc_bench") / "data" / "needlebench" / name))


def _resolve(source: str, file_name: str) -> Path:
    if source == "shipped":
        return _shipped(file_name)
    path = Path(source).expanduser()
    if path.is_dir():
        path = path / file_name
    if not path.is_file():
        raise UsageError(f"NeedleBench file {path} not found ({HOW})")
    return path


@lru_cache(maxsize=8)
def load_needles(source: str, language: str) -> tuple[Needle, ...]:
    """The needles of one language ("en" / "zh") from `source` ("shipped", a needles.jsonl or its folder)."""
    path = _resolve(source, "needles.jsonl")
    needles = []
    for number, row in enumerate(read_jsonl(path), 1):
        missing = [field for field in NEEDLE_FIELDS if not isinstance(row.get(field), str)]
        if missing:
            raise UsageError(f"{path}:{number}: needs text fields {', '.join(missing)} ({HOW})")
        if row["language"] == LANGUAGES[language]:
            needles.append(Needle(row["needle"], row["retrieval_question"], row["arg2"], str(row.get("arg1", ""))))
    if not needles:
        raise UsageError(f"{path} holds no {LANGUAGES[language]} needles ({HOW})")
    return tuple(needles)


@lru_cache(maxsize=8)
def load_names(source: str, language: str) -> tuple[str, ...]:
    """The names of one language from `source` ("shipped", a names.json or its folder)."""
    path = _resolve(source, "names.json")
    try:
        data = json.loads(decode_utf8(read_bytes(path, "names file"), str(path)))
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not valid JSON: {exc}") from None
    value = data.get(LANGUAGES[language]) if isinstance(data, dict) else None
    if not isinstance(value, str):
        raise UsageError(
            f"{path}: {LANGUAGES[language]!r} should be comma-separated names, got {shown_value(value)} ({HOW})"
        )
    names = tuple(dict.fromkeys(name.strip() for name in value.split(",") if name.strip()))
    if len(names) < 6:
        raise UsageError(f"{path}: {LANGUAGES[language]} has {len(names)} distinct names, fewer than 6 ({HOW})")
    return names


def distinct_needles(needles: tuple[Needle, ...], count: int, rng: random.Random) -> list[Needle]:
    """`count` needles in random order with pairwise distinct topics (arg1) and keywords (arg2),
    as get_unique_entries picks them; a keyword inside another is also refused (substring scoring)."""
    chosen: list[Needle] = []
    for needle in rng.sample(needles, len(needles)):
        if all(
            needle.topic != other.topic and needle.keyword not in other.keyword and other.keyword not in needle.keyword
            for other in chosen
        ):
            chosen.append(needle)
        if len(chosen) == count:
            return chosen
    raise UsageError(
        f"multi-needle retrieval needs {count} needles (one per depth) with distinct topics and keywords; "
        f"the needle file has {len(chosen)}: give fewer depths or more needles"
    )


def kinship_chain(rng: random.Random, names: tuple[str, ...], hops: int, language: str) -> KinshipChain:
    """`hops` facts linking hops + 1 distinct names, eldest first, shuffled, as NeedleBench V2's
    get_random_needles builds them (a random template and relation term per fact)."""
    chosen = tuple(rng.sample(names, hops + 1))
    facts = [
        rng.choice(RELATION_TEMPLATES[language]).format(
            A=chosen[i], B=chosen[i + 1], relationship=rng.choice(RELATION_TERMS[language])
        )
        for i in range(hops)
    ]
    rng.shuffle(facts)
    return KinshipChain(tuple(facts), chosen)


def parallel_question(needles: list[Needle], language: str) -> str:
    """NeedleBenchParallelDataset's question: the needles' questions, then their answer formats,
    each joined by '、' (in English too, as the original does)."""
    if language == "zh":
        questions = "、".join(n.question.split("？")[0] + "？" for n in needles)
        formats = "、".join(_quoted(n.question).split("。")[0] for n in needles)
        return questions + "请按照'" + formats + "'的格式回答。"
    questions = "、".join(n.question.split("?")[0] + "?" for n in needles)
    formats = "、".join(_quoted(n.question).split(".")[0] for n in needles)
    return questions + "Please answer in the format of '" + formats + "'"


def _quoted(question: str) -> str:
    parts = question.split("'")
    if len(parts) < 2:
        raise UsageError(f"needle question {question!r} has no quoted answer format ('...'), as needles.jsonl's do")
    return parts[1]
