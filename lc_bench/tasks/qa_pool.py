"""Questions with one accepted answer and distractors, for BestAnswer: generated, or read from files.

The generated pool is the package's own: how-to questions about everyday tools, each with one
answer that addresses exactly what was asked, a few answers to the same question that do not help
(they dodge, guess, or solve a neighbouring problem), and any number of answers to sibling
questions (same tool, another task) to lengthen the context. Choosing well means matching the
question's specifics, not spotting a style.

Files: any JSONL of {"question": ..., "answers": [...], "accepted": INDEX (0-based)}. (Ada-LEval's
pre-built `stackselect_*.json` files are read as they are by the task, not pooled.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lc_bench.errors import UsageError
from lc_bench.tasks.datafiles import read_jsonl


@dataclass(frozen=True)
class PoolQuestion:
    question: str
    accepted: str
    same_question_distractors: tuple[str, ...]
    qid: str


_TOOLS = {
    "a spreadsheet": (("sum", "a column that skips hidden rows"), ("freeze", "the header row"),
                      ("split", "full names into two columns"), ("highlight", "duplicate values"),
                      ("count", "cells that contain a given word"), ("round", "prices to the nearest ten")),
    "git": (("undo", "the last commit but keep the changes"), ("rename", "a branch on the remote"),
            ("find", "the commit that introduced a bug"), ("remove", "a file from history"),
            ("move", "uncommitted work to a new branch"), ("list", "files changed between two tags")),
    "a shell script": (("loop", "over files with spaces in their names"), ("read", "a file line by line"),
                       ("stop", "the script at the first error"), ("parse", "command line flags"),
                       ("time", "how long a command takes"), ("replace", "a word in many files")),
    "SQL": (("delete", "duplicate rows but keep one"), ("rank", "rows within each group"),
            ("find", "customers with no orders"), ("pivot", "monthly totals into columns"),
            ("select", "the second highest salary"), ("join", "a table to itself")),
    "a web page": (("center", "a box both ways"), ("lazy-load", "images below the fold"),
                   ("keep", "a footer at the bottom of short pages"), ("stop", "a form from submitting twice"),
                   ("print", "a page without the navigation"), ("truncate", "long titles with an ellipsis")),
    "Python": (("sort", "a list of dictionaries by a key"), ("read", "a large CSV file in chunks"),
               ("merge", "two dictionaries"), ("flatten", "a nested list"),
               ("retry", "a flaky network call"), ("measure", "the memory a function uses")),
}
_METHODS = (
    "the built-in {verb} feature handles this once you point it at {obj}",
    "there is a dedicated option for exactly this: enable it, then choose {obj} as the target",
    "combine a filter with the {verb} step so that only {obj} is affected",
    "write a short helper that does the {verb} step and call it on {obj}",
)
_STEPS = (
    "First make a backup, because the change is hard to reverse.",
    "Check the result on a small example before you run it on everything.",
    "If the input may be empty, guard for that case explicitly.",
    "The same approach works in older versions, only the menu names differ.",
    "Keep the original data untouched and write the result somewhere new.",
    "Afterwards, verify the count of affected items matches what you expected.",
)
_DODGES = (
    "Why would you want to {verb} {obj} in {tool}? Most people never need this; reconsider the design.",
    "I had the same problem last year and never solved it. Following this question.",
    "You could probably do it in {tool}, but honestly it is easier with another tool entirely.",
    "Try restarting {tool} and doing it again; that fixed a lot of odd problems for me.",
    "This has been asked before, search the archives. Closing as duplicate would be best.",
)


def _answer(rng: random.Random, tool: str, verb: str, obj: str) -> str:
    method = rng.choice(_METHODS).format(verb=verb, obj=obj)
    steps = " ".join(rng.sample(_STEPS, 3))
    return (f"To {verb} {obj} in {tool}, {method}. {steps} "
            f"This is the standard way to {verb} {obj}, and it works for large inputs as well.")


def _neighbour_answer(rng: random.Random, tool: str, verb: str, obj: str, tasks: tuple) -> str:
    """An answer that solves a neighbouring problem in the same tool: on topic, but not the ask."""
    other_verb, other_obj = rng.choice([t for t in tasks if t != (verb, obj)])
    return _answer(rng, tool, other_verb, other_obj) + f" (Not quite what you asked, but close to {verb}.)"


def generated_pool(seed: int = 0) -> list[PoolQuestion]:
    """Every tool x task question once, with its accepted answer and three unhelpful ones."""
    rng = random.Random(f"qa_pool|{seed}")
    pool = []
    for tool, tasks in _TOOLS.items():
        for verb, obj in tasks:
            dodges = [text.format(verb=verb, obj=obj, tool=tool) for text in rng.sample(_DODGES, 2)]
            pool.append(PoolQuestion(
                question=f"How do I {verb} {obj} in {tool}? I have tried a few things from the documentation "
                         f"but none of them did exactly this.",
                accepted=_answer(rng, tool, verb, obj),
                same_question_distractors=(*dodges, _neighbour_answer(rng, tool, verb, obj, tasks)),
                qid=f"{tool}:{verb}:{obj}",
            ))
    return pool


def filler_answers(pool: list[PoolQuestion], exclude: str, rng: random.Random, count: int) -> list[str]:
    """`count` answers from other questions (accepted answers and their distractors), cycling with
    fresh wording once the pool is used up, so any length can be filled without exact repeats."""
    others = [q for q in pool if q.qid != exclude]
    answers: list[str] = []
    round_ = 0
    while len(answers) < count:
        batch = [text for q in others for text in (q.accepted, *q.same_question_distractors)]
        rng.shuffle(batch)
        if round_:
            batch = [f"{text} (Edit {round_}: still the approach I use.)" for text in batch]
        answers += batch
        round_ += 1
    return answers[:count]


def load_pool(data: str) -> list[PoolQuestion]:
    """`synthetic` (generated) or a JSONL of {"question", "answers", "accepted"}."""
    if data == "synthetic":
        return generated_pool()
    path = Path(data).expanduser()
    if not path.exists():
        raise UsageError(f"BestAnswer data {path} not found")
    if path.suffix != ".jsonl":
        raise UsageError(f"BestAnswer data {path}: expected .jsonl (or an Ada-LEval stackselect_*.json)")
    pool = []
    for number, row in enumerate(read_jsonl(path), 1):
        pool.append(_pool_question(row, f"{path}: question {number}", str(number)))
    if len(pool) < 2:
        raise UsageError(f"{path} holds {len(pool)} question(s); distractors come from the others, so give at least 2")
    return pool


def _pool_question(row: dict[str, Any], where: str, qid: str) -> PoolQuestion:
    answers, accepted = row.get("answers"), row.get("accepted")
    if not isinstance(row.get("question"), str) or not isinstance(answers, list) or not isinstance(accepted, int):
        raise UsageError(f'{where} needs "question" (text), "answers" (list) and "accepted" (0-based index)')
    if not 0 <= accepted < len(answers):
        raise UsageError(f"{where}: accepted index {accepted} is outside its {len(answers)} answers")
    others = tuple(str(a) for i, a in enumerate(answers) if i != accepted)
    return PoolQuestion(row["question"], str(answers[accepted]), others, str(row.get("id", qid)))

