"""NeedleBench's Ancestral Trace Challenge (ATC; Li et al., OpenCompass NeedleBench v2).

A chain of N+1 people linked by N kinship facts ("needles"), e.g. "A is B's father.", each fact a
published relation template filled with a published relation term. The facts are shuffled and
make up the whole context: there is no haystack, every sentence matters. The prompt then asks one
of the four v2 question types (opencompass/datasets/needlebench_v2/atc.py; its config passes no
`question_types`, so all four are asked, `repeats` samples each):

* ELDEST_ANCESTOR: the eldest relative the youngest person can trace back to (gold: the chain's first person);
* NTH_ANCESTOR: the youngest person's n-th generation ancestor, n the chain's total generations
  (father/mother/dad/mom count 1, the grand- terms 2; gold: the chain's first person);
* NTH_DESCENDANT: the eldest person's n-th generation descendant (gold: the chain's last person);
* RELATIONSHIP_DISTANCE: the generations between the chain's two ends (gold: that number).

Every answer is unique by construction: the chain is a path of distinct names, each fact orders
one adjacent pair. Prompts, templates and terms are the original's, verbatim (data/atc/prompts.json).

Sampling reproduces the original exactly: sample i of question type q is drawn from
`random.Random((i + 1) + 10000 * q)` with the original's calls in the original's order (sample N+1
names, then per fact a template and a term, then shuffle), so with the published names.json
(`--task-opt atc.names=PATH`, from the Hugging Face dataset opencompass/needlebench) and `--seed 0`
the prompts are the original's, character for character. A run seed s != 0 adds 1_000_000 * s to
every sample's seed. Without `names`, lc_bench's own pool of 3000 English and 3000 Chinese names
(data/atc/names.json, same layout) is used: same construction, other names.

Scoring is the original's: the last `\\boxed{...}` of the output (OpenCompass' extract_boxed_answer
with strip_double_curly_brace), cleaned by clean_atc_answer, must equal the gold answer after
strip(); no box scores 0 ("None"). Accuracy is x100, as NeedleBenchATCEvaluator reports it.

Length: ATC does not fill a length; N sets the prompt's size. Each sample's target length is the
run length it was built for, read as a ceiling: its prompt tokens (chat template included) plus
max_new_tokens must fit it, and a needle count whose prompt does not fit is refused before
anything runs (one line, exit 2). Run it at one length, the model's window or less (the atc suite
uses 32k); per-N accuracy is the `needle_count` label table and the largest N passed its summary
(LabelAxis.largest_passing: the original summarizer's rule, threshold 60).

Deviations, by choice: the original's v2 config is English only and its output budget is the model
config's; lc_bench adds `atc_zh` (the original's Chinese prompts and templates) and defaults to 2048
new tokens.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from lc_bench.axes import LabelAxis, ReportAxes
from lc_bench.errors import UsageError
from lc_bench.lengths import format_length
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.needlebench import boxed_answer, reasoning_answer
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.datafiles import decode_utf8, read_bytes


class QuestionType(Enum):
    """The original's question types; the value sets each type's seed range (10000 * value)."""

    ELDEST_ANCESTOR = 0
    NTH_ANCESTOR = 1
    NTH_DESCENDANT = 2
    RELATIONSHIP_DISTANCE = 3


QUESTION_NAMES = tuple(q.name.lower() for q in QuestionType)
# the v2 config's needle_num_list
DEFAULT_NEEDLE_COUNTS = (2, 4, 8, 16, 32, 64, 128, 256, 512)
# NeedleBenchATCSummarizer.calculate_max_needles: a needle count fails below 60
PASS_THRESHOLD = 60.0
NAMES_HINT = (
    "pass the published names.json (Hugging Face dataset opencompass/needlebench): "
    '{"English": "name,name,...", "Chinese": "..."}'
)


def data_dir() -> Path:
    return Path(str(resources.files("lc_bench") / "data" / "atc"))


@lru_cache(maxsize=1)
def published_text() -> dict[str, Any]:
    """Templates, terms, generation counts and prompts per language, as published."""
    return json.loads((data_dir() / "prompts.json").read_text(encoding="utf-8"))


def load_names(path: str | None, language: str) -> tuple[tuple[str, ...], str]:
    """The name pool of a language as the original reads it (`data[language].split(',')`), and its source."""
    file = Path(path).expanduser() if path else data_dir() / "names.json"
    try:
        stamp = file.stat()
        key = (stamp.st_mtime_ns, stamp.st_size)
    except OSError:
        key = (0, 0)  # read_bytes says why
    return _read_names(str(file), language, key, path is None)


@lru_cache(maxsize=8)
def _read_names(path: str, language: str, stamp: tuple[int, int], shipped: bool) -> tuple[tuple[str, ...], str]:
    file = Path(path)
    where = "lc_bench's name pool" if shipped else path
    text = decode_utf8(read_bytes(file, "ATC names file"), path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise UsageError(f"{file} is not valid JSON; {NAMES_HINT}") from None
    pool = data.get(language) if isinstance(data, dict) else None
    if not isinstance(pool, str):
        raise UsageError(f"{file} has no {language!r} string of comma-separated names; {NAMES_HINT}")
    names = pool.split(",")
    counts = Counter(names)
    repeated = sorted(name for name, count in counts.items() if count > 1 or not name.strip())
    if repeated:  # a repeated (or empty) name could make a chain's answer ambiguous
        raise UsageError(f"{file}: the {language} names repeat or leave empty {repeated[:3]!r}; each must be unique")
    return tuple(names), where


# ---------------------------------------------------------------------------------------------
# scoring: OpenCompass' needlebench_atc_postprocess_v2 + NeedleBenchATCEvaluator


def atc_postprocess(output: str) -> str:
    """needlebench_atc_postprocess_v2: shared with NeedleBench's reasoning task (scoring/needlebench.py)."""
    return reasoning_answer(output)


def atc_scores(output: str, reference: str) -> dict[str, float]:
    """accuracy (the published metric, x100) and boxed (the output has a non-empty box the original reads)."""
    prediction = atc_postprocess(output)
    return {
        "accuracy": 100.0 * (prediction.strip() == reference.strip()),
        "boxed": 100.0 * bool(boxed_answer(output)),
    }


# ---------------------------------------------------------------------------------------------
# sample construction


@dataclass(frozen=True)
class Puzzle:
    prompt: str
    answer: str
    names: tuple[str, ...]  # the chain, eldest first
    generations: int  # total generations from the first to the last person
    facts: int


def sample_seed(run_seed: int, question: QuestionType, index: int) -> int:
    return (index + 1) + 10000 * question.value + 1_000_000 * run_seed


def make_puzzle(pool: tuple[str, ...], language: str, needles: int, question: QuestionType, seed: int) -> Puzzle:
    """One sample as the original's loader draws it from `random.seed(seed)`."""
    text = published_text()[language]
    rng = random.Random(seed)
    names = rng.sample(pool, needles + 1)
    story, total = "", 0
    for elder, younger in zip(names, names[1:], strict=False):
        template = rng.choice(text["templates"])
        term = rng.choice(text["terms"])
        story += template.format(A=elder, B=younger, relationship=term) + "*"
        total += text["generations"].get(term, 1)
    fragments = [fragment for fragment in story.split("*") if fragment]
    rng.shuffle(fragments)
    shuffled = "".join(fragments)
    template = text["prompts"][question.name]
    if question is QuestionType.ELDEST_ANCESTOR:
        prompt, answer = template.format(shuffled_story=shuffled, last_person=names[-1]), names[0]
    elif question is QuestionType.NTH_ANCESTOR:
        prompt, answer = template.format(shuffled_story=shuffled, person=names[-1], n=total), names[0]
    elif question is QuestionType.NTH_DESCENDANT:
        prompt, answer = template.format(shuffled_story=shuffled, person=names[0], n=total), names[-1]
    else:
        prompt = template.format(shuffled_story=shuffled, person_a=names[0], person_b=names[-1])
        answer = str(total)
    return Puzzle(prompt, answer, tuple(names), total, needles)


class ATCParams(TaskParams):
    needle_counts: tuple[int, ...] = Field(
        DEFAULT_NEEDLE_COUNTS, description="kinship facts per prompt (N+1 people), one label each (v2: 2^1..2^9)"
    )
    question_types: tuple[Literal[QUESTION_NAMES], ...] = Field(  # type: ignore[valid-type]
        QUESTION_NAMES, description="which v2 questions to ask, samples per cell each"
    )
    names: str | None = Field(
        None,
        description="the published names.json (HF dataset opencompass/needlebench); default: lc_bench's own name pool",
    )

    @field_validator("needle_counts", "question_types")
    @classmethod
    def _distinct(cls, value: tuple) -> tuple:
        if not value:
            raise ValueError("must name at least one")
        if len(set(value)) != len(value):
            raise ValueError("must not repeat a value")
        return value

    @field_validator("needle_counts")
    @classmethod
    def _positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if min(value) < 1:
            raise ValueError("needle counts must be at least 1")
        return value


NEEDLE_AXIS = LabelAxis(
    title="ATC needle count",
    field="needle_count",
    note="ATC: kinship facts in the prompt",
    largest_passing=PASS_THRESHOLD,
    passing_rule="before_last_failure",
)
QUESTION_AXIS = LabelAxis(title="ATC question type", field="question_type", order=tuple(q.name for q in QuestionType))


class _ATC(TaskBase):
    family: ClassVar[str] = "atc"
    language: ClassVar[str] = "English"
    params_model: ClassVar[type[TaskParams]] = ATCParams
    primary_metric: ClassVar[str] = "accuracy"
    default_max_new_tokens: ClassVar[int] = 2048
    report: ClassVar[ReportAxes] = ReportAxes(labels=(NEEDLE_AXIS, QUESTION_AXIS))
    name: ClassVar[str]

    def __init__(self, params: ATCParams) -> None:
        self.params = params

    def build(self, context: BuildContext) -> list[Sample]:
        pool, source = load_names(self.params.names, self.language)
        largest = max(self.params.needle_counts)
        if len(pool) < largest + 1:
            raise UsageError(
                f"{source} holds {len(pool)} {self.language} names; needle count {largest} needs {largest + 1}"
            )
        max_new = context.max_new_tokens or self.default_max_new_tokens
        questions = [QuestionType[name.upper()] for name in self.params.question_types]
        samples = []
        for length in context.lengths:
            for needles in self.params.needle_counts:
                for question in questions:
                    for index in range(context.samples_per_cell):
                        seed = sample_seed(context.seed, question, index)
                        puzzle = make_puzzle(pool, self.language, needles, question, seed)
                        samples.append(self._sample(context, puzzle, question, index, length, max_new, source))
        return samples

    def _sample(
        self,
        context: BuildContext,
        puzzle: Puzzle,
        question: QuestionType,
        index: int,
        length: int,
        max_new: int,
        source: str,
    ) -> Sample:
        messages = (ChatMessage(role="user", content=puzzle.prompt),)
        input_tokens = context.tokenizer.count(messages, True, "")
        if input_tokens + max_new > length:
            raise UsageError(
                f"needle count {puzzle.facts} needs {input_tokens} prompt tokens + {max_new} new tokens, more than "
                f"length {format_length(length)} ({length} tokens): drop it from {self.name}.needle_counts or run "
                "at a longer length (up to the model's window)"
            )
        return Sample(
            task=self.name,
            sample_id=f"{self.name}/{format_length(length)}/n{puzzle.facts}/{question.name.lower()}/{index}",
            messages=messages,
            references=(puzzle.answer,),
            target_length=length,
            input_tokens=input_tokens,
            max_new_tokens=max_new,
            metadata={
                "needle_count": str(puzzle.facts),
                "question_type": question.name,
                "language": self.language,
                "generations": puzzle.generations,
                "names_source": source,
                "index": index,
            },
        )

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        return atc_scores(output, references[0])


@TASKS.register("atc")
class ATC(_ATC):
    """ATC in English (the v2 config's language)."""

    name: ClassVar[str] = "atc"
    language: ClassVar[str] = "English"
    description: ClassVar[str] = (
        "NeedleBench Ancestral Trace Challenge (English): shuffled kinship chains of N "
        "facts, no haystack; accuracy per N and the largest N passed"
    )


@TASKS.register("atc_zh")
class ATCChinese(_ATC):
    """ATC in Chinese (the original's Chinese prompts and templates)."""

    name: ClassVar[str] = "atc_zh"
    language: ClassVar[str] = "Chinese"
    description: ClassVar[str] = (
        "NeedleBench Ancestral Trace Challenge (Chinese): shuffled kinship chains of N "
        "facts, no haystack; accuracy per N and the largest N passed"
    )
