"""LCFO-style length-controlled summarisation and summary expansion (after Costa-jussà et al. 2024,
"LCFO: Long Context and Long Form Output Dataset and Benchmarking", huggingface.co/datasets/facebook/LCFO).

LCFO asks for summaries of 20%, 10% and 5% of a document's length and for the expansion of a summary
back into a long document. lc_bench's version keeps that design on text it ships or a user gives:

* lcfo_summarize: summarise a document to `ratio` of its words (default 20%, 10%, 5%). With
  `data=corpus` (default) the document is a passage of the shipped English corpus
  (lc_bench.tasks.corpus.natural_corpus) that fills the input length exactly (rendered prompt +
  output budget = the length, within one word), the budget being `budget_factor` x the summary's
  expected tokens (room to overshoot); with `data=longbench` the documents of the shipped LongBench
  gov_report / multi_news fixtures, or with `data=FILE` a user's .txt (one document) or .jsonl
  ({"document", "summary"?} or LongBench's {"context", "answers"}), each cut to the length if longer.
* lcfo_expand: expand a text to 1/`ratio` times its words (20% -> 5x, 10% -> 10x, 5% -> 20x).
  With `data=corpus` the text is a corpus passage sized so the expansion takes about half the window;
  with `data=longbench` or a file, the reference summary is expanded, and the document is the reference.
  The output budget is the whole window left after the prompt, capped by `max_output_tokens`.

Scores: LongWriter's length score S_l against the requested words (lc_bench/scoring/longgen.py), the
primary one; words, repetition and distinct-2; ROUGE F x100 (the `rouge-score` package, as
lc_bench/scoring/leval.py) against the reference where one exists: ROUGE-1/2/L against the summary
for lcfo_summarize, ROUGE-1/2 against the document for lcfo_expand (ROUGE-L's quadratic LCS is too slow
on two long documents; LongBench's `rouge` package scorer silently returns 0 beyond a few hundred words).
The requested output length is the report's output-length axis, the ratio a label axis.

Deviations from LCFO: the prompts are lc_bench's own (the paper's are not published with the data);
the corpus passages have no human summaries, so their content is not scored; LCFO's QA-based and
human evaluations are not reproduced. Optional: `lc-bench judge RUN` grades each output with
LongBench-Write's six-dimension quality judge (generation_judges.LongWriteQuality: the whole request,
document included, and the output; it adds `quality`, 0-100), a stand-in for LCFO's human ratings.
"""

from __future__ import annotations

import math
import random
import re
import sys
from bisect import bisect_left
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from lc_bench.axes import LabelAxis, OutputLengthAxis, ReportAxes, ScoreColumn
from lc_bench.errors import UsageError
from lc_bench.lengths import format_length
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.leval import rouge_scores
from lc_bench.scoring.longgen import count_words, length_score, shape_checks
from lc_bench.tasks.base import BuildContext, JudgePlan, TaskBase, TaskParams
from lc_bench.tasks.corpus import natural_corpus
from lc_bench.tasks.datafiles import decode_utf8, numbered_jsonl, read_bytes
from lc_bench.tasks.fitting import fit_to_budget
from lc_bench.tasks.generation import DEFAULT_MAX_OUTPUT_TOKENS, TOKENS_PER_WORD, GenerationSamples, requested_label
from lc_bench.tasks.generation_judges import LongWriteQuality

SUMMARIZE_TEMPLATE = (
    "Summarize the following document in about {words} words, that is {percent}% of its length of {document_words} "
    "words. Keep its main points, in the order it makes them.\n\nDocument:\n{document}\n\n"
    "Now write the summary, in about {words} words."
)
EXPAND_TEMPLATE = (
    "The following text is a summary of a longer document. Expand it into a full document of about {words} words "
    "({times} times its length), keeping every fact it states and adding detail, context and examples that fit."
    "\n\nSummary:\n{summary}\n\nNow write the document, in about {words} words."
)
LONGBENCH_FIXTURES = ("gov_report", "multi_news")
EXPANSION_SHARE = 0.5  # corpus expansion: the requested output takes about this share of the window
_CHUNK = re.compile(r"\S+\s*")
DATA_HINT = (
    'data is corpus, longbench, a .txt file (one document) or a .jsonl file of {"document", "summary"} '
    'or LongBench {"context", "answers"} records'
)


def percent_label(ratio: float) -> str:
    return f"{ratio * 100:g}%"


@lru_cache(maxsize=1)
def _paragraph_starts() -> tuple[int, ...]:
    text = natural_corpus("en")
    return tuple(match.end() for match in re.finditer(r"\n\n?", text) if match.end() < len(text) - 1)


def corpus_passage(seed: str, chars: int) -> str:
    """About `chars` characters of the English corpus from a paragraph start chosen by `seed`."""
    text, starts = natural_corpus("en"), _paragraph_starts()
    rng = random.Random(seed)
    last = bisect_left(starts, max(0, len(text) - chars - 1)) or 1
    start = starts[rng.randrange(last)]
    return text[start : start + chars]


def _document_pairs(data: str) -> tuple[list[tuple[str, str | None]], str]:
    """(document, reference summary or None) pairs of the longbench fixtures or a user's file."""
    if data == "longbench":
        folder = Path(str(resources.files("lc_bench") / "data" / "longbench"))
        pairs = [pair for name in LONGBENCH_FIXTURES for pair in _read_jsonl_pairs(folder / f"{name}.jsonl")]
        return pairs, "longbench fixtures (" + ", ".join(LONGBENCH_FIXTURES) + ")"
    path = Path(data).expanduser()
    if not path.is_file():
        raise UsageError(f"LCFO data {data!r} not found: {DATA_HINT}")
    if path.suffix == ".jsonl":
        return _read_jsonl_pairs(path), str(path)
    text = decode_utf8(read_bytes(path, "document"), str(path)).strip()
    if not text:
        raise UsageError(f"{path} is empty: {DATA_HINT}")
    return [(text, None)], str(path)


def _read_jsonl_pairs(path: Path) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for line, row in numbered_jsonl(path):
        if isinstance(row.get("document"), str) and isinstance(row.get("summary"), str | None):
            pairs.append((row["document"], row.get("summary")))
        elif (
            isinstance(row.get("context"), str)
            and isinstance(row.get("answers"), list)
            and row["answers"]
            and isinstance(row["answers"][0], str)
        ):
            pairs.append((row["context"], row["answers"][0]))
        else:
            raise UsageError(
                f'{path}:{line} needs a text "document" (and optionally a text "summary"), or '
                'LongBench\'s "context" and "answers"'
            )
    if not pairs:
        raise UsageError(f"{path} holds no documents: {DATA_HINT}")
    return pairs


def _chunks(text: str) -> list[str]:
    return _CHUNK.findall(text.strip())


def lcfo_scores(output: str, requested: float, reference: str | None, long_reference: bool = False) -> dict[str, float]:
    """Length score against the requested words, shape checks, and ROUGE F x100 against a reference:
    ROUGE-1/2/L for a summary, ROUGE-1/2 for an expanded document (`long_reference`: ROUGE-L's
    quadratic LCS takes minutes on two documents of thousands of words)."""
    scores = {"length_score": length_score(requested, count_words(output)), **shape_checks(output)}
    if reference and long_reference:
        found = _ngram_scorer().score(reference, output)
        scores.update(rouge_1=100.0 * found["rouge1"].fmeasure, rouge_2=100.0 * found["rouge2"].fmeasure)
    elif reference:
        scores.update(rouge_scores(output, reference))
    return scores


@lru_cache(maxsize=1)
def _ngram_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=False)


LCFO_AXIS = OutputLengthAxis(
    title="LCFO: score by requested output length",
    note="LCFO-style summarisation (20/10/5% of the document) and expansion (5/10/20x the text): length is "
    "LongWriter's length score S_l against the requested words; words: LongWriter's count; cut: share of "
    "outputs stopped by the output budget; rep-4: share of repeated 4-grams; ROUGE (F): against the reference "
    "summary (summarise: ROUGE-1/2/L) or document (expand: ROUGE-1/2), where one exists; quality: "
    "LongBench-Write's judge score, after `lc-bench judge`.",
    unit="words",
    columns=(
        ScoreColumn(header="words", source="words", format="count"),
        ScoreColumn(header="tokens", source="output_tokens", format="count"),
        ScoreColumn(header="cut %", source="cut"),
        ScoreColumn(header="rep-4 %", source="repeated_4gram"),
        ScoreColumn(header="ROUGE-2", source="rouge_2"),
        ScoreColumn(header="ROUGE-L", source="rouge_l"),
        ScoreColumn(header="quality", source="quality"),
    ),
)
ROUGE_COLUMNS = tuple(ScoreColumn(header=f"ROUGE-{n}", source=f"rouge_{n.lower()}") for n in ("1", "2", "L"))
RATIO_AXIS = LabelAxis(
    title="LCFO ratio",
    field="ratio_label",
    order=("20%", "10%", "5%"),
    note="LCFO: summary length as a share of the document (expansion: the inverse)",
)


class LcfoParams(TaskParams):
    data: str = Field(
        "corpus",
        description="corpus (shipped English corpus) | longbench (shipped gov_report / "
        "multi_news fixtures) | FILE.txt | FILE.jsonl ({document, summary})",
    )
    ratios: list[float] = Field([0.2, 0.1, 0.05], description="summary length as a share of the document")
    max_output_tokens: int = Field(DEFAULT_MAX_OUTPUT_TOKENS, ge=1, description="cap on each output budget")

    @field_validator("ratios")
    @classmethod
    def _shares(cls, value: list[float]) -> list[float]:
        if not value or any(not 0 < r < 1 for r in value):
            raise ValueError(f"ratios must be shares between 0 and 1 (e.g. 0.2), got {value}")
        return value


class LcfoSummarizeParams(LcfoParams):
    budget_factor: float = Field(2.0, ge=1.0, description="output budget / the summary's expected tokens")


class _Lcfo(TaskBase):
    family: ClassVar[str] = "lcfo"
    primary_metric: ClassVar[str] = "length_score"
    long_reference: ClassVar[bool] = False  # the reference is a whole document (expansion)
    # optional: `lc-bench judge` grades the output with LongBench-Write's quality judge (adds `quality`)
    judge_plan: ClassVar[JudgePlan | None] = LongWriteQuality()
    default_max_new_tokens: ClassVar[int] = DEFAULT_MAX_OUTPUT_TOKENS
    report: ClassVar[ReportAxes] = ReportAxes(labels=(RATIO_AXIS,), output_length=LCFO_AXIS, secondary=ROUGE_COLUMNS)

    def __init__(self, params: LcfoParams) -> None:
        self.params = params

    def score(self, output: str, references: Any, metadata: dict[str, Any]) -> dict[str, float]:
        reference = references[0] if references else None
        return lcfo_scores(output, float(metadata["requested_length"]), reference, self.long_reference)


@TASKS.register("lcfo_summarize")
class LcfoSummarize(_Lcfo):
    """Summarise a document to 20 / 10 / 5% of its words (LCFO); length score, ROUGE where referenced."""

    name: ClassVar[str] = "lcfo_summarize"
    description: ClassVar[str] = "LCFO-style summarisation to 20/10/5% of the document: length score S_l, ROUGE-1/2/L"
    params_model: ClassVar[type[TaskParams]] = LcfoSummarizeParams

    def build(self, context: BuildContext) -> list[Sample]:
        params: LcfoSummarizeParams = self.params  # type: ignore[assignment]
        pairs, source = (None, "corpus") if params.data == "corpus" else _document_pairs(params.data)
        samples = []
        for length in context.lengths:
            for ratio in params.ratios:
                for index in context.cell_indices():
                    sample = self._sample(context, length, ratio, index, pairs, source)
                    if sample is None:
                        context.report_skipped(self.name, length, 1)
                    else:
                        samples.append(sample)
        return samples

    def _sample(
        self,
        context: BuildContext,
        length: int,
        ratio: float,
        index: int,
        pairs: list[tuple[str, str | None]] | None,
        source: str,
    ) -> Sample | None:
        params: LcfoSummarizeParams = self.params  # type: ignore[assignment]
        tokenizer = context.tokenizer
        max_new = max(16, math.ceil(params.budget_factor * ratio * length))
        max_new = min(max_new, context.max_new_tokens or params.max_output_tokens)
        budget = length - max_new
        if budget <= 0:
            return None
        if pairs is None:
            chunks = _chunks(corpus_passage(f"{context.seed}|{self.name}|{length}|{ratio}|{index}", budget * 8))
            reference = None
        else:
            document, reference = pairs[index % len(pairs)]
            chunks = _chunks(document)

        def make(n: int) -> str:
            document = "".join(chunks[:n]).rstrip()
            words = count_words(document)
            return SUMMARIZE_TEMPLATE.format(
                words=max(1, round(ratio * words)), percent=f"{ratio * 100:g}", document_words=words, document=document
            )

        def render(n: int) -> str:
            return tokenizer.render((ChatMessage(role="user", content=make(n)),))

        try:
            fitted = fit_to_budget(
                render,
                tokenizer.encode_rendered,
                budget,
                max_units=len(chunks),
                unit_tokens=TOKENS_PER_WORD,
                probe=True,
            )
        except UsageError:
            return None  # the instructions alone exceed the length
        if fitted.units == 0:
            return None
        content = make(fitted.units)
        document_words = count_words("".join(chunks[: fitted.units]))
        requested = max(1, round(ratio * document_words))
        return Sample(
            task=self.name,
            sample_id=f"{self.name}/{format_length(length)}/{ratio * 100:g}/{index}",
            messages=(ChatMessage(role="user", content=content),),
            references=(reference,) if reference else (),
            target_length=length,
            input_tokens=len(fitted.ids),
            max_new_tokens=max_new,
            metadata={
                "ratio": ratio,
                "ratio_label": percent_label(ratio),
                "document_words": document_words,
                "document_cut": fitted.units < len(chunks) and pairs is not None,
                "data_source": source,
                "requested_length": float(requested),
                "requested_label": requested_label(requested),
                "window_holds_request": max_new >= math.ceil(requested * TOKENS_PER_WORD),
                "request": content,
            },
        )


@TASKS.register("lcfo_expand")
class LcfoExpand(_Lcfo):
    """Expand a summary to 5 / 10 / 20x its words (LCFO's summary expansion); length score, ROUGE-1/2."""

    name: ClassVar[str] = "lcfo_expand"
    description: ClassVar[str] = "LCFO-style summary expansion to 5/10/20x its words: length score S_l, ROUGE-1/2"
    params_model: ClassVar[type[TaskParams]] = LcfoParams
    long_reference: ClassVar[bool] = True

    def build(self, context: BuildContext) -> list[Sample]:
        params = self.params
        pairs, source = (None, "corpus") if params.data == "corpus" else _document_pairs(params.data)
        if pairs is not None and not any(summary for _, summary in pairs):
            raise UsageError(f'{source} holds no summaries to expand (lcfo_expand needs a "summary" per record)')
        samples = []
        for length in context.lengths:
            batch = GenerationSamples(context, self.name, length, params.max_output_tokens)
            for ratio in params.ratios:
                for index in context.cell_indices():
                    if pairs is None:
                        out_words = EXPANSION_SHARE * length / TOKENS_PER_WORD
                        seed = f"{context.seed}|{self.name}|{length}|{ratio}|{index}"
                        chunks = _chunks(corpus_passage(seed, max(400, int(out_words * ratio * 12))))
                        text, reference = "".join(chunks[: max(1, round(ratio * out_words))]).rstrip(), None
                    else:
                        with_summary = [pair for pair in pairs if pair[1]]
                        reference, text = with_summary[index % len(with_summary)]
                    requested = max(1, round(count_words(text) / ratio))
                    content = EXPAND_TEMPLATE.format(words=requested, times=f"{1 / ratio:g}", summary=text)
                    batch.add(
                        (ChatMessage(role="user", content=content),),
                        requested,
                        f"{ratio * 100:g}/{index}",
                        references=(reference,) if reference else (),
                        metadata={
                            "ratio": ratio,
                            "ratio_label": percent_label(ratio),
                            "input_words": count_words(text),
                            "data_source": source,
                            "request": content,
                        },
                    )
            samples += batch.finish()
        if not samples:
            print(f"lc-bench: warning: {self.name}: no prompt fits the lengths asked", file=sys.stderr)
        return samples
