"""`longicl_*`: LongICLBench (Li et al., "Long-context LLMs Struggle with Long In-context Learning", TMLR 2025;
github.com/TIGER-AI-Lab/LongICLBench): extreme-label in-context classification, six tasks.

Each prompt is the original's, character for character (its *_infer.py): the instruction (with the label
list when `instruct=true`, the scripts' --instruct), the demonstrations in the original's order and format,
then the question in the same format without its answer. The original feeds the raw text to base models
(no chat template; chat models got it as the one user message: `chat_template=true`) and generates 100
new tokens; parsing and metrics are in lc_bench/scoring/longiclbench.py.

Length-adaptive (lc_bench's own): the original publishes fixed settings (1-5 rounds, each holding one
demonstration of every label); here a sample is built at any length by taking the longest prefix of the
original's demonstration sequence (round after round) that fits the budget (`fill=demos`, exact within one
demonstration), or whole rounds only (`fill=rounds`: the published settings, the prompt then stops short of
the budget). Samples report the demonstrations (`shots`), rounds (`shots` / labels) and complete rounds.
When the data runs out before the budget the prompt stays shorter (a warning says so; metadata `filled`).
The questions are the original's evaluation lists, sample i asking question i (wrapping around).
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.axes import LabelAxis, ReportAxes, ScoreColumn
from lc_bench.errors import UsageError
from lc_bench.lengths import format_length, input_budget
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.longiclbench import classification_scores, dialogre_scores, fewnerd_scores, tacred_scores
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.fitting import FitMemory, fit_to_budget
from lc_bench.tasks.longiclbench_data import (
    DATASETS,
    label_lists,
    load_split,
    merge_dialogues,
    select_rounds,
    select_tacred,
    select_tacred_test,
)
from lc_bench.tasks.longiclbench_prompts import ROUND_SHOTS, TEST_TURNS, gold_label, header, question

MAX_NEW_TOKENS = 100  # every script: max_new_tokens=100


class LongICLParams(TaskParams):
    data: str = Field(
        "auto",
        description="auto (hub for GoEmotion / BANKING77 / Discovery, else the shipped fixture), "
        "fixture, or a folder with the published files (see the task's docstring)",
    )
    instruct: bool = Field(False, description="list every label in the instruction (the scripts' --instruct)")
    fill: Literal["demos", "rounds"] = Field(
        "demos",
        description="demos: demonstrations up to the exact budget; rounds: whole rounds only (the published settings)",
    )
    chat_template: bool = Field(False, description="the original feeds base models the raw prompt (no chat template)")


class LongICLTask(TaskBase):
    """One LongICLBench dataset: demonstrations in the original's order, fitted to the length."""

    family: ClassVar[str] = "longiclbench"
    key: ClassVar[str]
    params_model: ClassVar[type[TaskParams]] = LongICLParams
    default_max_new_tokens: ClassVar[int] = MAX_NEW_TOKENS
    grid_task: ClassVar[bool] = True
    builds_indices: ClassVar[bool] = True
    params: LongICLParams

    def __init__(self, params: LongICLParams) -> None:
        self.params = params

    def _pools(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str], str]:
        """(demonstration sequence, questions, labels, source) in the original's order."""
        key = self.key
        train, test, source = load_split(key, self.params.data)
        labels = label_lists()[key]
        if key == "goemotion":  # only single-label comments, as select_data keeps them
            train, test = ([r for r in rows if len(r["labels"]) == 1] for rows in (train, test))
        if key in TEST_TURNS:
            demos = select_rounds(list(train), lambda r: gold_label(key, r), None)
            questions = select_rounds(list(test), lambda r: gold_label(key, r), TEST_TURNS[key])
        elif key == "tacred":
            demos, questions = select_tacred(list(train), labels), select_tacred_test(list(test), labels)
        else:
            demos, questions = list(train), list(test)
        if not demos or not questions:
            raise UsageError(f"{self.name}: {source} holds no usable demonstrations or questions")
        return demos, questions, labels, source

    def _demos_text(self, demos: list[dict[str, Any]], n: int, labels: list[str]) -> str:
        if self.key == "dialogre":
            return "".join(question("dialogre", d, labels, True) for d in merge_dialogues(demos[:n]))
        return "".join(question(self.key, d, labels, True) for d in demos[:n])

    def _round_shots(self, rounds: int, n_labels: int) -> int:
        shots = ROUND_SHOTS.get(self.key)
        if shots is None:
            return rounds * n_labels
        return shots[rounds - 1] if rounds > 0 else 0

    def build(self, context: BuildContext) -> list[Sample]:
        demos, questions, labels, source = self._pools()
        chat, tokenizer = self.params.chat_template, context.tokenizer
        max_new = context.max_new_tokens or MAX_NEW_TOKENS
        top = header(self.key, self.params.instruct, labels)
        rounds_mode = self.params.fill == "rounds"
        max_rounds = len(ROUND_SHOTS[self.key]) if self.key in ROUND_SHOTS else len(demos) // len(labels)
        memory: FitMemory = {}
        samples: list[Sample] = []
        for length in context.lengths:
            budget = input_budget(length, max_new)
            short = 0
            for index in context.cell_indices():
                row = questions[index % len(questions)]
                tail = question(self.key, row, labels, False)

                def render(n: int, tail: str = tail) -> str:
                    shots = self._round_shots(n, len(labels)) if rounds_mode else n
                    content = top + self._demos_text(demos, shots, labels) + tail
                    return tokenizer.render((ChatMessage(role="user", content=content),), chat)

                fitted = fit_to_budget(
                    render,
                    lambda text: tokenizer.encode_rendered(text, chat),
                    budget,
                    max_units=max_rounds if rounds_mode else len(demos),
                    unit_tokens=1500.0 if rounds_mode else 40.0,
                    memory=memory,
                    key=(budget, rounds_mode),
                    probe=True,
                )
                if rounds_mode and fitted.units == 0:
                    context.report_skipped(self.name, length, 1)
                    continue
                shots = self._round_shots(fitted.units, len(labels)) if rounds_mode else fitted.units
                filled = fitted.units == (max_rounds if rounds_mode else len(demos))
                short += filled and not rounds_mode
                content = top + self._demos_text(demos, shots, labels) + tail
                samples.append(
                    self._sample(
                        length,
                        index,
                        row,
                        content,
                        fitted.ids,
                        max_new,
                        shots,
                        demos,
                        labels,
                        source,
                        filled,
                        len(questions),
                    )
                )
            if short:
                print(
                    f"lc-bench: warning: {self.name}: {source} ran out of demonstrations at "
                    f"{format_length(length)} ({len(demos)} in all): {short} prompt(s) shorter than the length",
                    file=sys.stderr,
                )
        return samples

    def _sample(
        self,
        length: int,
        index: int,
        row: dict[str, Any],
        content: str,
        ids: list[int],
        max_new: int,
        shots: int,
        demos: list[dict[str, Any]],
        labels: list[str],
        source: str,
        exhausted: bool,
        n_questions: int,
    ) -> Sample:
        shown = demos[:shots]
        covered = complete_rounds([self._labels_of(d, labels) for d in shown], len(labels))
        metadata: dict[str, Any] = {
            "dataset": DATASETS[self.key].title,
            "shots": shots,
            # a round: one demonstration per label, or the scripts' first round size (Few-NERD 57, DialogRE 34)
            "rounds": round(shots / ROUND_SHOTS.get(self.key, (len(labels),))[0], 2),
            "complete_rounds": covered,
            "rounds_label": f"{covered} round{'s' if covered != 1 else ''}",
            "labels_shown": len({lab for d in shown for lab in self._labels_of(d, labels)}),
            "n_labels": len(labels),
            "question": index % n_questions,
            "data_source": source,
            "data_exhausted": exhausted,
        }
        if self.key in ("goemotion", "banking77", "discovery"):
            metadata["label"] = labels[gold_label(self.key, row)]
            metadata["baseline"] = 100 / len(labels)
            metadata.update({k: row[k] for k in ("text", "sentence2") if k in row})
            references: tuple[str, ...] = (metadata["label"],)
        elif self.key == "tacred":
            metadata.update(label=row["relation"], sentence=row["sentence"], baseline=100 / len(labels))
            references = (row["relation"],)
        elif self.key == "fewnerd":
            metadata.update(sentence=row["sentence"], entities=row["entities"])
            references = tuple(f"{e}: {t}" for e, t in row["entities"].items())
        else:
            relations = [r["relation"] for r in row["relations"]]
            metadata.update(dialogue=row["dialogue"], relations=row["relations"], label=", ".join(relations))
            references = (", ".join(relations),)
        return Sample(
            task=self.name,
            sample_id=f"{self.name}/{format_length(length)}/{index}",
            messages=(ChatMessage(role="user", content=content),),
            references=references,
            target_length=length,
            input_tokens=len(ids),
            max_new_tokens=max_new,
            use_chat_template=self.params.chat_template,
            metadata=metadata,
        )

    def _labels_of(self, demo: dict[str, Any], labels: list[str]) -> list[str]:
        if self.key == "fewnerd":
            return list(demo["entities"].values())
        if self.key in ("tacred", "dialogre"):
            return [demo["relation"]]
        return [labels[gold_label(self.key, demo)]]

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        if self.key == "tacred":
            return tacred_scores(output, metadata, label_lists()["tacred"])
        if self.key == "fewnerd":
            return fewnerd_scores(output, metadata)
        if self.key == "dialogre":
            return dialogre_scores(output, metadata, label_lists()["dialogre"])
        return classification_scores(self.key, output, metadata)


def complete_rounds(shown: list[list[str]], n_labels: int) -> int:
    """How many times the demonstrations, read in order, show every label (a round closes when the last
    missing label appears)."""
    rounds, seen = 0, set()
    for labels in shown:
        seen.update(labels)
        if len(seen) >= n_labels:
            rounds, seen = rounds + 1, set()
    return rounds


ROUNDS_AXIS = LabelAxis(
    title="LongICLBench complete demonstration rounds",
    field="rounds_label",
    order=tuple(f"{n} round{'s' if n != 1 else ''}" for n in range(0, 11)),
    note="LongICLBench: how many times the demonstrations show every label",
)
F1_COLUMNS = tuple(ScoreColumn(header=name, source=name) for name in ("correct", "predicted", "gold"))


def _register(key: str, metric: str) -> None:
    dataset = DATASETS[key]
    secondary: tuple[ScoreColumn, ...] = ()
    if key == "tacred":
        secondary = (ScoreColumn(header="valid %", source="valid"),)
    elif metric == "f1":
        secondary = F1_COLUMNS
    attrs = {
        "name": f"longicl_{key}",
        "key": key,
        "description": f"LongICLBench {dataset.title}: {len(label_lists()[key])}-label in-context learning, "
        "demonstration rounds filled to the length",
        "primary_metric": "accuracy" if key in ("goemotion", "banking77", "discovery", "tacred") else "f1",
        "report": ReportAxes(
            labels=(ROUNDS_AXIS,),
            secondary=secondary,
            baseline_field="baseline" if key in ("goemotion", "banking77", "discovery", "tacred") else None,
        ),
    }
    TASKS.register(attrs["name"])(type(f"LongICL_{key}", (LongICLTask,), attrs))


for _key, _dataset in DATASETS.items():
    _register(_key, _dataset.metric)
