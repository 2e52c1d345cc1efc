"""InfiniteBench (Zhang et al., ACL 2024; OpenBMB/InfiniteBench) as lc_bench tasks: `infinitebench_<task>`,
one per published task, named as compute_scores.py names them (En.Sum is infinitebench_longbook_sum_eng).

Each record is rendered with its task's published template (`prompt_set`: gpt4, the chat set, by
default; open, the completion set of the open models; see infinitebench_prompts.py) and output
budget (DATA_NAME_TO_MAX_NEW_TOKENS), then cut to each requested length the way the original cuts
to the model's window (`truncate_input`, manner="middle"): the filled prompt's tokens become their
first and last halves, decoded in one call, before the messages are wrapped around it. The
original cuts to a fixed window (128k tokens; 127000 for GPT-4) and does not subtract the output
budget; lc_bench cuts to its own rule, rendered prompt (chat template included) + max_new_tokens
<= target length, and fills that budget exactly where the seam's re-tokenisation allows. The
original's tokenizer(prompt) adds a BOS that decoding drops; here the cut counts content tokens
only. truncation=none skips a record that does not fit and counts it; truncation=paper is the
original's own cut (`paper_cut`: 128k tokens, 127000 for the gpt4 set, or `max_length`), whatever
the length, which then only labels the sample (a prompt over it is kept and counted on stderr).

Math.Calc asks for 30000 new tokens: below about 30k tokens nothing fits, and its records are
skipped at those lengths and counted (lc_bench's length rule; `--max-new-tokens` overrides).

InfiniteBench defines no length classes (its documents average 44k to 2M tokens); the report
adds a table by the bucket of each record's full prompt in the model's tokens, before the cut.
Scores are compute_scores.py's (scoring/infinitebench.py), x100 per sample.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.axes import LabelAxis, ReportAxes
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.infinitebench import score_one
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.infinitebench_data import load_records, references
from lc_bench.tasks.infinitebench_prompts import DATASETS, MAX_NEW_TOKENS, TASK_LABELS, fill_prompt, wrap_messages
from lc_bench.tasks.longbench import original_decode, raw_prompt_ids
from lc_bench.tasks.truncation import middle_cut  # noqa: F401 - also imported from here by callers
from lc_bench.tokenizers import ModelTokenizer

BUCKETS = ((32768, "<32k"), (65536, "32-64k"), (131072, "64-128k"), (262144, "128-256k"))
LENGTH_AXIS = LabelAxis(
    title="InfiniteBench full prompt length (model tokens, before the cut)",
    field="full_length_bucket",
    order=("<32k", "32-64k", "64-128k", "128-256k", "256k+"),
    note="InfiniteBench has no length classes: the record's whole prompt in the model's tokens",
)
PRIMARY_METRICS = {"longbook_qa_eng": "qa_f1", "longbook_qa_chn": "qa_f1_zh", "longbook_sum_eng": "rouge_lsum"}


def length_bucket(tokens: int) -> str:
    return next((label for limit, label in BUCKETS if tokens < limit), "256k+")


class InfiniteBenchParams(TaskParams):
    data: str = Field(
        "auto",
        description="auto (hub, else shipped fixture), fixture, a hub id, a folder of TASK.jsonl files, or one .jsonl",
    )
    prompt_set: Literal["gpt4", "open"] = Field(
        "gpt4", description="gpt4: the chat templates (system message); open: the open models' completion templates"
    )
    system: bool = Field(True, description="gpt4 set: send create_msgs' system message")
    chat_template: bool | None = Field(None, description="apply the model's chat template (default: gpt4 yes, open no)")
    truncation: Literal["middle", "none", "paper"] = Field(
        "middle", description="middle: truncate_input's cut to the length; none: skip; paper: the original's fixed cut"
    )
    max_length: int | None = Field(
        None, ge=2, description="truncation=paper: tokens kept (default 131072 for open, 127000 for gpt4)"
    )
    metric_mode: Literal["compat", "strict"] = "compat"


def paper_cut(tokenizer: ModelTokenizer, prompt: str, prompt_set: str, max_length: int) -> tuple[str, bool]:
    """The original's cut to a fixed window, output budget not subtracted. open (eval_yarn_mistral.py,
    eval_chatglm.py: truncate_by_tokens): `tok.encode(prompt)` with its special tokens, over
    max_length the first and last max_length // 2 ids, decoded together without special tokens.
    gpt4 (create_msgs): tiktoken's ids (no special tokens), `input[:n // 2] + input[-n // 2:]`."""
    if prompt_set == "open":
        ids = raw_prompt_ids(tokenizer, prompt)
        if len(ids) <= max_length:
            return prompt, False
        half = max_length // 2
        return original_decode(tokenizer, ids[:half] + ids[len(ids) - half :]), True
    ids = tokenizer.encode(prompt)
    if len(ids) <= max_length:
        return prompt, False
    head, tail = max_length // 2, max_length - max_length // 2
    return tokenizer.decode(ids[:head] + ids[len(ids) - tail :]), True


class InfiniteBenchTask(TaskBase):
    """One InfiniteBench task (see the module docstring)."""

    dataset: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    family: ClassVar[str] = "infinitebench"
    params_model: ClassVar[type[TaskParams]] = InfiniteBenchParams
    report: ClassVar[ReportAxes] = ReportAxes(labels=(LENGTH_AXIS,))
    primary_metric: ClassVar[str]
    default_max_new_tokens: ClassVar[int]

    def __init__(self, params: InfiniteBenchParams) -> None:
        self.params = params

    @property
    def use_chat_template(self) -> bool:
        chat = self.params.chat_template
        return self.params.prompt_set == "gpt4" if chat is None else chat

    def _wrap(self, prompt: str) -> tuple[ChatMessage, ...]:
        return wrap_messages(prompt, self.dataset, self.params.prompt_set, self.params.system)

    def build(self, context: BuildContext) -> list[Sample]:
        rows, source = load_records(self.params.data, self.dataset)
        rows = rows[: context.samples_per_cell]
        tokenizer, chat = context.tokenizer, self.use_chat_template
        max_new = context.max_new_tokens or self.default_max_new_tokens
        prompts = [fill_prompt(row, self.dataset, self.params.prompt_set) for row in rows]
        # each record's whole prompt, tokenised once for every length
        encoded = [tokenizer.encode(prompt) for prompt in prompts]
        full = [tokenizer.count(self._wrap(prompt), chat) for prompt in prompts]
        paper_length = self.params.max_length or (131072 if self.params.prompt_set == "open" else 127000)
        samples = []
        for length in context.lengths:
            budget = length - max_new
            skipped = 0
            over = 0
            for row, prompt, ids, whole in zip(rows, prompts, encoded, full, strict=True):
                fitted = None
                if self.params.truncation == "paper":
                    text, cut = paper_cut(tokenizer, prompt, self.params.prompt_set, paper_length)
                    fitted = (text, tokenizer.count(self._wrap(text), chat), cut)
                    over += fitted[1] + max_new > length
                elif budget > 0 and (whole <= budget or self.params.truncation == "middle"):
                    fitted = middle_cut(tokenizer, prompt, self._wrap, chat, budget, ids, count=whole)
                if fitted is None:
                    skipped += 1
                    continue
                text, count, truncated = fitted
                samples.append(
                    Sample(
                        task=self.name,
                        sample_id=f"{self.name}/{length}/{row['id']}",
                        messages=self._wrap(text),
                        references=references(row, self.dataset),
                        target_length=length,
                        input_tokens=count,
                        max_new_tokens=max_new,
                        use_chat_template=chat,
                        truncated=truncated,
                        metadata={
                            "dataset": self.dataset,
                            "task_label": TASK_LABELS[self.dataset],
                            "id": row["id"],
                            "prompt_set": self.params.prompt_set,
                            "full_prompt_tokens": whole,
                            "full_length_bucket": length_bucket(whole),
                            "data_source": source,
                            "truncation": self.params.truncation,
                            **({"max_length": paper_length} if self.params.truncation == "paper" else {}),
                        },
                    )
                )
            if over:
                print(
                    f"lc-bench: {self.name}: {over} of {len(rows)} prompts (truncation=paper, max_length="
                    f"{paper_length}) and their {max_new} new tokens exceed {length} tokens; kept as the original "
                    "keeps them",
                    file=sys.stderr,
                )
            if skipped:
                context.report_skipped(self.name, length, skipped)
                why = (
                    f"{max_new} new tokens leave no room for a prompt"
                    if budget <= 0
                    else f"truncation={self.params.truncation}"
                )
                print(
                    f"lc-bench: {self.name}: {skipped} of {len(rows)} records do not fit {length} tokens ({why}); "
                    "skipped",
                    file=sys.stderr,
                )
        return samples

    def score(self, output: str, references: Sequence[str], metadata: dict[str, Any]) -> dict[str, float]:
        value = score_one(
            self.dataset,
            output,
            references,
            metadata.get("prompt_set", self.params.prompt_set),
            self.params.metric_mode,
        )
        return {self.primary_metric: 100.0 * value}


def _register(dataset: str) -> None:
    name = f"infinitebench_{dataset}"
    metric = PRIMARY_METRICS.get(dataset, "accuracy")
    task_class = type(
        f"InfiniteBench_{dataset}",
        (InfiniteBenchTask,),
        {
            "dataset": dataset,
            "name": name,
            "primary_metric": metric,
            "default_max_new_tokens": MAX_NEW_TOKENS[dataset],
            "description": f"InfiniteBench {TASK_LABELS[dataset]} ({metric}, {MAX_NEW_TOKENS[dataset]} new tokens)",
        },
    )
    TASKS.register(name)(task_class)


for _dataset in DATASETS:
    _register(_dataset)
