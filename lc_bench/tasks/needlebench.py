"""NeedleBench V2 (OpenCompass; Li et al., arXiv:2407.11963): retrieval and reasoning over needles
hidden in a long haystack, English and Chinese, at exact token lengths.

Three tasks, one family (`needlebench`), whose unweighted family mean is NeedleBench V2's overall
score (the plain mean of its three task scores, each averaged over both languages):

* `needlebench_single` (Single-Needle Retrieval, S-RT): one needle at the grid depth; 100 when its
  keyword is in the answer.
* `needlebench_multi_retrieval` (Multi-Needle Retrieval, M-RT): one needle at every depth of the
  run's grid (the published 0, 10, ..., 100 when the run has none), all asked in one question; the
  score is the share of keywords in the answer. The task is built per length, not per depth.
* `needlebench_multi_reasoning` (Multi-Needle Reasoning, M-RS): 2 to 5 fictional kinship facts
  (hops) chaining 3 to 6 names; the first fact at the grid depth, each next one 10% of the
  haystack further (`diff`); the question asks for the eldest relative of the last person, answered
  in \\boxed{}.

Each sample index takes the next variant in turn: the language (both unless `language` narrows it),
and for M-RS the hop count, hops slowest (index 0: 2 hops en, 1: 2 hops zh, 2: 3 hops en, ...), so
a cell of 2 (S-RT, M-RT) or 8 (M-RS) samples, or a multiple, weighs every variant equally, as the
original does (10 repeats per language, 25 for M-RT, 10 per language and hop count for M-RS).

What follows the original (opencompass/datasets/needlebench_v2/): the prompts word for word
(`needlebench_prompts`), the needle wrapped in newlines and inserted at haystack token
int(n * depth / 100) with no sentence snapping, the multi-retrieval question joined with '、', the
kinship templates and relation terms, the needle files' format, and the scoring
(`lc_bench.scoring.needlebench`). Deviations, all named:

* Lengths are the model's own tokenizer's (tiktoken gpt-4 in the original), and the whole rendered
  prompt (chat template included) plus max_new_tokens fills the target length exactly; the original
  cuts the haystack to length - length_buffer (3000 en, 200 zh) - needle tokens and counts nothing
  else. A cut that would split a multi-byte character moves back to the character's start.
* The haystacks are lc_bench's shipped public-domain non-repeating corpora (`essay` / `essay-zh`,
  settable per language) instead of PaulGrahamEssays.jsonl / zh_finance.jsonl, used from their
  start (the original shuffles its records per repeat).
* Needles, names and kinship chains are drawn per sample from (seed, task, params, length, depth,
  index); the original draws them from the repeat counter only (the same needle at every length
  and depth). The shipped needles.jsonl / names.json are lc_bench's own, in the published format.
* M-RS: needle i sits at haystack token int(n * (depth + i * diff) / 100) (capped at the end); the
  original also adds the previous needles' token lengths to each gap.
* M-RT: needles with a keyword inside another's are not picked together (substring scoring).
* `scoring=v1` scores each sample as NeedleBench v1 did (see `lc_bench.scoring.needlebench`); v1's
  overall weighted the tasks 0.4 / 0.3 / 0.3, which an unweighted family mean cannot show, and v1's
  reasoning needles were R4C questions, not these kinship chains.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from lc_bench.axes import LabelAxis, ReportAxes, ScoreColumn
from lc_bench.lengths import format_length, input_budget
from lc_bench.registry import TASKS
from lc_bench.schema import ChatMessage, Sample
from lc_bench.scoring.needlebench import (
    keyword_score,
    parallel_score,
    reasoning_answer,
    reasoning_score,
    reasoning_score_v1,
    single_score_v1,
)
from lc_bench.tasks.base import BuildContext, TaskBase, TaskParams
from lc_bench.tasks.fitting import fit_to_budget, window_encoder
from lc_bench.tasks.haystack import TokenHaystack, load_corpus, tokenize_haystack
from lc_bench.tasks.needlebench_data import distinct_needles, kinship_chain, load_names, load_needles, parallel_question
from lc_bench.tasks.needlebench_prompts import MULTI_REASONING, MULTI_RETRIEVAL, REASONING_QUESTION, SINGLE

PUBLISHED_DEPTHS = tuple(float(d) for d in range(0, 101, 10))
ZONES = ("early", "middle", "late")
ZONE_NOTE = "needle depth: early below 33%, middle below 67%, late from 67% to 100%"
LANGUAGE_AXIS = LabelAxis(
    title="NeedleBench language", field="language", order=("en", "zh"), note="English haystack and needles, or Chinese"
)
ZONE_AXIS = LabelAxis(title="NeedleBench depth zone", field="depth_zone", order=ZONES, note=ZONE_NOTE)
MAX_CUT_SHIFT = 4  # tokens a cut may move back to keep a multi-byte character whole


def depth_zone(depth: float) -> str:
    return ZONES[0] if depth < 100 / 3 else ZONES[1] if depth < 200 / 3 else ZONES[2]


class NeedleBenchParams(TaskParams):
    language: Literal["both", "en", "zh"] = Field("both", description="both (alternating by index), en or zh")
    haystack_en: str = Field("essay", description="English haystack: essay | folder of .txt | FILE.jsonl:FIELD | hf:ID")
    haystack_zh: str = Field("essay-zh", description="Chinese haystack (as haystack_en)")
    # which NeedleBench version's scorer gives `score` (both are recorded); samples do not depend on it
    scoring: Literal["v2", "v1"] = Field("v2", description="v2 (published) or v1 (edit-distance partial credit)")


class RetrievalParams(NeedleBenchParams):
    needles: str = Field("shipped", description="shipped | needles.jsonl (published layout) or its folder")


class ReasoningParams(NeedleBenchParams):
    names: str = Field("shipped", description="shipped | names.json (published layout) or its folder")
    hops: tuple[int, ...] = Field((2, 3, 4, 5), description="kinship facts per chain, taken in turn by index")
    diff: float = Field(10.0, ge=0, le=100, description="depth step between facts, percent of the haystack")

    @field_validator("hops")
    @classmethod
    def _hops_are_positive(cls, hops: tuple[int, ...]) -> tuple[int, ...]:
        if not hops or any(h < 1 or h > 64 for h in hops):
            raise ValueError("hops must be one or more counts from 1 to 64")
        return hops


class _NeedleBench(TaskBase):
    """What the three tasks share: variants by index, a per-build haystack cache, exact fitting."""

    family: ClassVar[str] = "needlebench"
    primary_metric: ClassVar[str] = "score"
    grid_task: ClassVar[bool] = True
    grid_depths: ClassVar[bool] = True
    builds_indices: ClassVar[bool] = True

    def __init__(self, params: NeedleBenchParams) -> None:
        self.params = params

    def languages(self) -> tuple[str, ...]:
        return ("en", "zh") if self.params.language == "both" else (self.params.language,)

    def variant(self, index: int) -> dict[str, Any]:
        languages = self.languages()
        return {"language": languages[index % len(languages)]}

    def build(self, context: BuildContext) -> list[Sample]:
        max_new = context.max_new_tokens or self.default_max_new_tokens
        haystacks: dict[str, TokenHaystack] = {}  # one tokenization per language for the whole build
        depths: Sequence[float | None] = (context.depths or (None,)) if self.grid_depths else (None,)
        samples = []
        content_params = repr(sorted(self.params.model_dump(exclude={"scoring"}).items()))
        for length in context.lengths:
            budget = input_budget(length, max_new)
            for depth in depths:
                for index in context.cell_indices():
                    variant = self.variant(index)
                    language = variant["language"]
                    if language not in haystacks:
                        haystacks[language] = self._haystack(context, language)
                    rng = random.Random(f"{context.seed}|{self.name}|{content_params}|{length}|{depth}|{index}")
                    cell = "" if depth is None else f"/d{depth:g}"
                    sample_id = f"{self.name}/{format_length(length)}{cell}/{index}"
                    sample = self._sample(
                        context, haystacks[language], rng, variant, length, budget, depth, sample_id, max_new
                    )
                    if sample is None:
                        context.report_skipped(self.name, length, 1)
                    else:
                        samples.append(sample)
        return samples

    def _haystack(self, context: BuildContext, language: str) -> TokenHaystack:
        source = self.params.haystack_en if language == "en" else self.params.haystack_zh
        return tokenize_haystack(context.tokenizer, load_corpus(source), max(context.lengths), True)

    # -- what each task supplies ------------------------------------------------------------

    def _content(
        self, rng: random.Random, variant: dict[str, Any], depth: float | None, context: BuildContext
    ) -> tuple[str, list[str], list[float], tuple[str, ...], dict[str, Any]]:
        """(prompt template with {context}, needles in insertion order, their depths, references, metadata)."""
        raise NotImplementedError

    # -- building one sample ----------------------------------------------------------------

    def _sample(
        self,
        context: BuildContext,
        haystack: TokenHaystack,
        rng: random.Random,
        variant: dict[str, Any],
        length: int,
        budget: int,
        depth: float | None,
        sample_id: str,
        max_new: int,
    ) -> Sample | None:
        tokenizer = context.tokenizer
        template, needles, needle_depths, references, metadata = self._content(rng, variant, depth, context)
        wrapped = ["\n" + needle + "\n" for needle in needles]

        def messages_for(hay: str) -> tuple[ChatMessage, ...]:
            return (ChatMessage(role="user", content=template.replace("{context}", hay)),)

        context_text = lru_cache(maxsize=4)(_token_context(tokenizer.decode, haystack, wrapped, needle_depths))
        render: Callable[[int], str] = lambda n: tokenizer.render(messages_for(context_text(n)))  # noqa: E731
        fixed = len(tokenizer.encode_rendered(render(0))[0])
        if fixed > budget:
            return None  # the instructions and needles alone overflow this length: left out, counted
        fitted = fit_to_budget(
            render=render,
            encode=tokenizer.encode_rendered,
            budget=budget,
            max_units=len(haystack.ids),
            fixed_tokens=fixed,
            # a haystack token is one token: the first size is the room itself, and sizes differ only
            # at their ends and where a needle moved, which are spliced, not re-encoded
            pieces=lambda n: n,
            encode_window=window_encoder(tokenizer),
        )
        hay = context_text(fitted.units)
        text = fitted.text
        start = text.index(hay)
        positions = []
        for needle in wrapped:
            char = start + hay.index(needle) + 1  # the needle's first character, after its newline
            positions.append(_token_at(fitted.offsets, char))
        overhead = tokenizer.count(messages_for(""))
        sample_depth = needle_depths[0] if self.grid_depths else None
        return Sample(
            task=self.name,
            sample_id=sample_id,
            messages=messages_for(hay),
            references=references,
            target_length=length,
            input_tokens=len(fitted.ids),
            template_overhead=overhead,
            max_new_tokens=max_new,
            depth=sample_depth,
            needle_token_position=positions[0],
            focus_excerpt=_focus(text, start + hay.index(wrapped[0]) + 1, len(needles[0])),
            metadata={
                **metadata,
                "language": variant["language"],
                "needle_depths": needle_depths,
                "needle_token_positions": positions,
                "depth_zone": "all" if sample_depth is None else depth_zone(sample_depth),
                "haystack_units": fitted.units,
                "haystack_repeats": haystack.repeats_within(fitted.units),
            },
        )


def _token_at(offsets: Sequence[int], char: int) -> int:
    from bisect import bisect_right

    return max(0, bisect_right(offsets, char) - 1)


def _focus(text: str, start: int, size: int, chars: int = 300) -> str:
    before, after = text[max(0, start - chars) : start], text[start + size : start + size + chars]
    return f"{'...' if start > chars else ''}{before}[>>>{text[start : start + size]}<<<]{after}..."


def _token_context(
    decode: Callable[[Sequence[int]], str], haystack: TokenHaystack, needles: list[str], depths: list[float]
) -> Callable[[int], str]:
    """n -> the first n haystack tokens with needle i inserted at token int(n * depths[i] / 100)
    (NeedleBench: no sentence snapping; needles at one point keep their order)."""
    ids = haystack.ids

    def whole(p: int) -> int:
        """`p`, moved back while the cut would split a multi-byte character (byte-level BPE)."""
        for _ in range(MAX_CUT_SHIFT):
            if p <= 0 or p >= len(ids):
                return p
            if not (decode(ids[max(0, p - 3) : p]).endswith("\ufffd") or decode(ids[p : p + 3]).startswith("\ufffd")):
                return p
            p -= 1
        return p

    def render(n: int) -> str:
        end = whole(n)
        points = [min(end, whole(min(end, int(end * d / 100)))) for d in depths]
        order = sorted(range(len(needles)), key=lambda i: (points[i], i))
        parts, last = [], 0
        for i in order:
            parts.append(decode(ids[last : points[i]]))
            parts.append(needles[i])
            last = points[i]
        parts.append(decode(ids[last:end]))
        return "".join(parts)

    return render


class NeedleBenchSingle(_NeedleBench):
    name: ClassVar[str] = "needlebench_single"
    description: ClassVar[str] = "NeedleBench V2 single-needle retrieval (S-RT), en + zh"
    params_model: ClassVar[type[TaskParams]] = RetrievalParams
    default_max_new_tokens: ClassVar[int] = 128
    report: ClassVar[ReportAxes] = ReportAxes(
        labels=(LANGUAGE_AXIS, ZONE_AXIS), secondary=(ScoreColumn(header="v1 score", source="score_v1"),)
    )

    def _content(self, rng, variant, depth, context):  # type: ignore[no-untyped-def]
        language = variant["language"]
        needle = rng.choice(load_needles(self.params.needles, language))  # type: ignore[attr-defined]
        if depth is None:  # `--depths random`: a random published depth
            depth = rng.choice(PUBLISHED_DEPTHS)
        template = SINGLE[language].format(context="{context}", question=needle.question)
        metadata = {"needles": "1", "hops": "0", "question": needle.question, "needle": needle.needle}
        return template, [needle.needle], [depth], (needle.keyword,), metadata

    def score(self, output: str, references: Sequence[str], metadata: dict[str, Any]) -> dict[str, float]:
        v2 = keyword_score(output, references[0])
        v1 = single_score_v1(output, "\n" + str(metadata.get("needle", "")) + "\n", references[0])
        return {"score": v1 if self.params.scoring == "v1" else v2, "score_v1": v1, "score_v2": v2}


class NeedleBenchMultiRetrieval(_NeedleBench):
    name: ClassVar[str] = "needlebench_multi_retrieval"
    description: ClassVar[str] = "NeedleBench V2 multi-needle retrieval (M-RT): a needle at every depth, en + zh"
    params_model: ClassVar[type[TaskParams]] = RetrievalParams
    default_max_new_tokens: ClassVar[int] = 512
    grid_depths: ClassVar[bool] = False  # every sample holds a needle at each of the run's depths
    report: ClassVar[ReportAxes] = ReportAxes(
        labels=(LANGUAGE_AXIS,),
        secondary=tuple(ScoreColumn(header=f"{zone} %", source=f"zone_{zone}") for zone in ZONES),
    )

    def _content(self, rng, variant, depth, context):  # type: ignore[no-untyped-def]
        language = variant["language"]
        depths = [float(d) for d in (context.depths or PUBLISHED_DEPTHS)]
        needles = distinct_needles(load_needles(self.params.needles, language), len(depths), rng)  # type: ignore[attr-defined]
        question = parallel_question(needles, language)
        template = MULTI_RETRIEVAL[language].format(context="{context}", question=question)
        metadata = {
            "needles": str(len(needles)),
            "hops": "0",
            "question": question,
            "keyword_zones": [depth_zone(d) for d in depths],
        }
        return template, [n.needle for n in needles], depths, tuple(n.keyword for n in needles), metadata

    def score(self, output: str, references: Sequence[str], metadata: dict[str, Any]) -> dict[str, float]:
        scores = {"score": parallel_score(output, references)}
        zones = metadata.get("keyword_zones") or []
        for zone in ZONES:
            keywords = [k for k, z in zip(references, zones, strict=False) if z == zone]
            if keywords:
                scores[f"zone_{zone}"] = parallel_score(output, keywords)
        return scores


class NeedleBenchMultiReasoning(_NeedleBench):
    name: ClassVar[str] = "needlebench_multi_reasoning"
    description: ClassVar[str] = "NeedleBench V2 multi-needle reasoning (M-RS): 2-5 kinship hops, en + zh"
    params_model: ClassVar[type[TaskParams]] = ReasoningParams
    default_max_new_tokens: ClassVar[int] = 512
    report: ClassVar[ReportAxes] = ReportAxes(
        labels=(
            LabelAxis(
                title="NeedleBench reasoning hops (kinship facts = needles)",
                field="hops",
                order=("2", "3", "4", "5"),
                note="facts chained between the person asked about and the eldest",
            ),
            LANGUAGE_AXIS,
            ZONE_AXIS,
        ),
        secondary=(
            ScoreColumn(header="boxed %", source="boxed"),
            ScoreColumn(header="v1 score", source="score_v1"),
        ),
    )

    def variant(self, index: int) -> dict[str, Any]:
        languages = self.languages()
        hops = self.params.hops  # type: ignore[attr-defined]
        slot = index % (len(hops) * len(languages))
        return {"language": languages[slot % len(languages)], "hops": hops[slot // len(languages)]}

    def _content(self, rng, variant, depth, context):  # type: ignore[no-untyped-def]
        language, hops = variant["language"], variant["hops"]
        params: ReasoningParams = self.params  # type: ignore[assignment]
        if depth is None:  # `--depths random`: a random published depth
            depth = rng.choice(PUBLISHED_DEPTHS)
        chain = kinship_chain(rng, load_names(params.names, language), hops, language)
        depths = [min(100.0, depth + i * params.diff) for i in range(hops)]
        question = REASONING_QUESTION[language].format(last_person=chain.last_person)
        template = MULTI_REASONING[language].format(
            context="{context}", question=question, last_person=chain.last_person
        )
        metadata = {"needles": str(hops), "hops": str(hops), "question": question, "chain": list(chain.names)}
        return template, list(chain.facts), depths, (chain.answer,), metadata

    def score(self, output: str, references: Sequence[str], metadata: dict[str, Any]) -> dict[str, float]:
        v2, v1 = reasoning_score(output, references[0]), reasoning_score_v1(output, references[0])
        return {
            "score": v1 if self.params.scoring == "v1" else v2,
            "score_v1": v1,
            "score_v2": v2,
            "boxed": 0.0 if reasoning_answer(output) == "None" else 100.0,
        }


for _task in (NeedleBenchSingle, NeedleBenchMultiRetrieval, NeedleBenchMultiReasoning):
    TASKS.register(_task.name)(_task)
