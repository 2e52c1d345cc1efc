"""M4LE's evaluation of its published instances (github.com/KwanWaiChung/M4LE, evaluation.py), for
every hub task: each task's end tokens, metric, language and preprocess as `tasks_param` names them.

On top of scoring/m4le.py's acc / exact_match / cls_f1:

* rouge: ROUGE-L *recall* (`["rouge-l"]["r"]`), the best over the non-empty references; English through
  the `rouge` package, Chinese as `rouge_chinese` computes it (`chinese_rouge_l_recall`) on jieba-cut
  text joined by spaces; a ValueError (an empty reply) scores 0, as there.
* bleu: BLEU-4 without smoothing (utils/bleu.py, HF evaluate's copy of the nmt `compute_bleu`), text
  tokenised by mteval-13a (English) or by the "zh" rule (each CJK character alone, then 13a's regexes);
  the "zh" rule keeps the original's quirk: its range written "\\u20000".."\\u2a6d6" compares as
  U+2000 < c <= U+2A6D, so general punctuation, arrows and maths symbols also stand alone.
  **Deviation**: the original computes one corpus BLEU per task and length bucket; lc_bench scores
  each sample (the same formula on one reply) and the report averages them. An empty reply scores 0.

Scores are 0-100 per sample.
"""

from __future__ import annotations

import collections
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from lc_bench.scoring.m4le import cut, set_f1

Metric = Literal["acc", "exact_match", "cls_f1", "rouge", "bleu"]


@dataclass(frozen=True)
class Evaluation:
    end_tokens: tuple[str, ...]
    metric: Metric
    lang: Literal["en", "zh"]
    preprocess: str | None = None  # a key of PREPROCESS


# evaluation.py's tasks_param, by hub config name (its cls+ret / _ret / _qa suffixes dropped)
EVALUATIONS: dict[str, Evaluation] = {
    **{name: Evaluation(("\n",), "rouge", "en") for name in ("arxiv", "pubmed", "booksum", "cnnnews", "wikihow",
                                                            "bigpatent_global_sum")},
    "cnewsum": Evaluation(("\n", "新闻"), "rouge", "zh"),
    "clts+": Evaluation(("\n", "新闻"), "rouge", "zh"),
    **{name: Evaluation(("\n",), "rouge", "zh") for name in ("cepsum", "lcsts", "ncls")},
    "news2016": Evaluation(("\n",), "rouge", "zh", "news2016"),
    **{name: Evaluation(("\n", "."), "acc", "en") for name in ("triviaqa", "newsqa", "duorc", "nq-open", "hotpotqa")},
    **{name: Evaluation(("\n", "。"), "acc", "zh") for name in ("c3", "dureader", "drcd_semantic-single")},
    "drcd_explicit-single": Evaluation(("，", "\n"), "acc", "en"),
    "wow": Evaluation((",", "\n"), "acc", "en"),
    "bigpatent_global_cls": Evaluation((":",), "acc", "en"),
    **{f"{corpus}-{pair}": Evaluation((), "bleu", pair[-2:])  # type: ignore[arg-type]
       for corpus in ("open-subtitles", "news-commentary", "tedtalks") for pair in ("en2zh", "zh2en")},
    "marc": Evaluation((), "cls_f1", "en", "marc"),
    "online-shopping": Evaluation((), "cls_f1", "en", "online_shopping"),
    "wikitext-103": Evaluation((".",), "exact_match", "en"),
    "wiki2019zh": Evaluation(("。",), "exact_match", "zh"),
    "mnds-news_explicit-single": Evaluation((), "exact_match", "en"),
    "thucnews_explicit-single": Evaluation((), "exact_match", "zh"),
    "mnds-news_explicit-multiple": Evaluation((), "cls_f1", "en", "mnds_explicit"),
    "thucnews_explicit-multiple": Evaluation((), "cls_f1", "zh", "thucnews_explicit"),
    "mnds-news_semantic-multiple": Evaluation((".",), "exact_match", "en", "mnds_semantic"),
    "thucnews_semantic-multiple": Evaluation(("。",), "exact_match", "zh", "thucnews_semantic"),
}


# -- the preprocess functions: (reply, answers) -> (reply or its sorted parts, answers) ------------------


def _sorted_parts(text: str, stop: str, sep: str) -> list[str]:
    return [part.strip() for part in sorted(text.split(stop)[0].strip().split(sep))]


def _list_preprocess(stop: str, sep: str, answer_stop: bool) -> Callable[[str, list[str]], tuple[Any, list[str]]]:
    """marc / online_shopping (the answer also cut at `stop`: `answer_stop`) and the explicit
    multiple-span news tasks: the reply before its first `stop`, split on `sep`, sorted, stripped."""

    def preprocess(reply: str, answers: list[str]) -> tuple[Any, list[str]]:
        answer = answers[0].split(stop)[0] if answer_stop else answers[0]
        return _sorted_parts(reply, stop, sep), [part.strip() for part in sorted(answer.split(sep))]

    return preprocess


def _news2016(reply: str, answers: list[str]) -> tuple[Any, list[str]]:
    if '"' in reply:
        reply = reply.split('"')[1].strip()
    if '"' in reply:  # never true after the split above; kept as written
        reply = reply.split('"')[0].strip()
    return reply, answers


def _count_answer(stop: str) -> Callable[[str, list[str]], tuple[Any, list[str]]]:
    return lambda reply, answers: (reply, [answers[0].split(stop)[0]])


PREPROCESS: dict[str, Callable[[str, list[str]], tuple[Any, list[str]]]] = {
    "marc": _list_preprocess(".", ",", answer_stop=True),
    "online_shopping": _list_preprocess("。", "，", answer_stop=False),
    "mnds_explicit": _list_preprocess(".", ",", answer_stop=False),
    "thucnews_explicit": _list_preprocess("。", "，", answer_stop=False),
    "news2016": _news2016,
    "mnds_semantic": _count_answer("."),
    "thucnews_semantic": _count_answer("。"),
}


def score(task: str, reply: str, answers: Sequence[str]) -> float:
    """evaluate_by_dict on one row of hub task `task`, 0-100."""
    evaluation = EVALUATIONS[task]
    answers = list(answers)
    prepared: Any = reply
    if evaluation.preprocess:
        prepared, answers = PREPROCESS[evaluation.preprocess](reply, answers)
    if isinstance(prepared, list):
        prepared = [part.strip() for part in prepared]
    else:
        prepared = cut(prepared, evaluation.end_tokens)
    metric = evaluation.metric
    if metric == "acc":
        return 100.0 * any(str(answer).lower() in prepared.lower() for answer in answers)
    if metric == "exact_match":
        return 100.0 * any(str(answer).lower().strip() == prepared.lower().strip() for answer in answers)
    if metric == "cls_f1":
        return set_f1(set(prepared), set(answers))
    if metric == "rouge":
        return 100.0 * rouge_l_recall(prepared, answers, evaluation.lang)
    return 100.0 * sentence_bleu(prepared, answers, evaluation.lang)


# -- ROUGE-L recall ---------------------------------------------------------------------------------------


def rouge_l_recall(reply: str, references: Sequence[str], lang: str) -> float:
    from rouge import Rouge

    from lc_bench.scoring.longbench import _cut as jieba_cut

    try:
        if lang == "en":
            return max(Rouge().get_scores(hyps=reply, refs=ref)[0]["rouge-l"]["r"] for ref in references if ref)
        return max(chinese_rouge_l_recall(" ".join(jieba_cut(reply)), " ".join(jieba_cut(ref)))
                   for ref in references if ref)
    except ValueError:  # an empty reply (or no reference): the original's except
        return 0.0


def _chinese_sentences(text: str) -> list[str]:
    """rouge_chinese's Rouge.cut_sent, then its `" ".join(s.split())` of each non-empty piece."""
    text = re.sub(r"([。！？\?])([^”’])", r"\1\n\2", text)
    text = re.sub(r"(\.{6})([^”’])", r"\1\n\2", text)
    text = re.sub(r"(\…{2})([^”’])", r"\1\n\2", text)
    text = re.sub(r"([。！？\?][”’])([^，。！？\?])", r"\1\n\2", text)
    return [" ".join(piece.split()) for piece in text.rstrip().split("\n") if len(piece) > 0]


def chinese_rouge_l_recall(reply: str, reference: str) -> float:
    """rouge_chinese's ROUGE-L recall (its rouge_l_summary_level): the LCS of all the words of the two
    texts (no per-sentence union, unlike the `rouge` package) over the reference's word count. The
    package itself is not a dependency: its wheel writes into the `rouge` package's folder and so
    changes LongBench's English ROUGE (checked: rouge-l r 0.714 -> 0.667 on one pair)."""
    hypothesis, ref = _chinese_sentences(reply), _chinese_sentences(reference)
    if not hypothesis or not ref:
        raise ValueError("Collections must contain at least 1 sentence.")
    hyp_words = [word for sentence in hypothesis for word in sentence.split(" ")]
    ref_words = [word for sentence in ref for word in sentence.split(" ")]
    return _lcs_length(ref_words, hyp_words) / len(ref_words)


def _lcs_length(left: Sequence[str], right: Sequence[str]) -> int:
    previous = [0] * (len(right) + 1)
    for item in left:
        current = [0]
        for j, other in enumerate(right):
            current.append(previous[j] + 1 if item == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


# -- BLEU ---------------------------------------------------------------------------------------------------

_REGEXES = (
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # mteval-13a: symbols stand alone
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),  # period and comma unless after a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),  # ... unless before a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),  # dash after a digit
)
# the "zh" tokenizer's character ranges as utils/bleu.py writes them (two entries are two characters long)
_CJK_RANGES = (
    ("\u3400", "\u4db5"), ("\u4e00", "\u9fa5"), ("\u9fa6", "\u9fbb"), ("\uf900", "\ufa2d"), ("\ufa30", "\ufa6a"),
    ("\ufa70", "\ufad9"), ("\u20000", "\u2a6d6"), ("\u2f800", "\u2fa1d"), ("\uff00", "\uffef"), ("\u2e80", "\u2eff"),
    ("\u3000", "\u303f"), ("\u31c0", "\u31ef"), ("\u2f00", "\u2fdf"), ("\u2ff0", "\u2fff"), ("\u3100", "\u312f"),
    ("\u31a0", "\u31bf"), ("\ufe10", "\ufe1f"), ("\ufe30", "\ufe4f"), ("\u2600", "\u26ff"), ("\u2700", "\u27bf"),
    ("\u3200", "\u32ff"), ("\u3300", "\u33ff"),
)


def _regex_words(line: str) -> list[str]:
    for pattern, replacement in _REGEXES:
        line = pattern.sub(replacement, line)
    return line.split()


def tokenize_13a(line: str) -> list[str]:
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return _regex_words(f" {line} ")


@lru_cache(maxsize=4096)
def _is_cjk(char: str) -> bool:
    return any(start <= char <= end for start, end in _CJK_RANGES)


def tokenize_zh(line: str) -> list[str]:
    return _regex_words("".join(f" {c} " if _is_cjk(c) else c for c in line.strip()))


def _ngrams(words: Sequence[str], max_order: int) -> collections.Counter[tuple[str, ...]]:
    counts: collections.Counter[tuple[str, ...]] = collections.Counter()
    for order in range(1, max_order + 1):
        for start in range(len(words) - order + 1):
            counts[tuple(words[start : start + order])] += 1
    return counts


def sentence_bleu(reply: str, references: Sequence[str], lang: str, max_order: int = 4) -> float:
    """compute_bleu over a corpus of this one reply (0 for an empty reply or references)."""
    tokenize = tokenize_13a if lang == "en" else tokenize_zh
    hypothesis = tokenize(reply)
    refs = [tokenize(ref) for ref in references]
    reference_length = min((len(ref) for ref in refs), default=0)
    if not hypothesis or not reference_length:
        return 0.0
    merged: collections.Counter[tuple[str, ...]] = collections.Counter()
    for ref in refs:
        merged |= _ngrams(ref, max_order)
    overlap = _ngrams(hypothesis, max_order) & merged
    matches = [0] * max_order
    for gram, count in overlap.items():
        matches[len(gram) - 1] += count
    possible = [max(0, len(hypothesis) - order + 1) for order in range(1, max_order + 1)]
    precisions = [m / p if p > 0 else 0.0 for m, p in zip(matches, possible, strict=True)]
    if min(precisions) <= 0:
        return 0.0
    geometric = math.exp(sum(math.log(p) / max_order for p in precisions))
    ratio = len(hypothesis) / reference_length
    return geometric * (1.0 if ratio > 1.0 else math.exp(1 - 1.0 / ratio))
