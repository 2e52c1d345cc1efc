"""LongBench v1 / LongBench-E metrics, reproducing THUDM/LongBench's metrics.py and eval.py.

`compat` (the default) matches the published numbers, quirks included; each quirk is named where
it is reproduced. `strict` differs only where the original is clearly accidental:
- classification: the original removes matches from a list while iterating over it, so the match
  after each removed one is never checked (order-dependent); strict checks every match.
- code similarity: the original's fuzzywuzzy ran without python-Levenshtein, i.e. difflib's
  SequenceMatcher ratio rounded to a whole percent; strict uses rapidfuzz's (Levenshtein-family)
  ratio unrounded.
- classification without a label set (`all_classes` missing or None): the original fails
  (KeyError / TypeError), and so does compat, with a ValueError that says so; strict scores 0.
  LongBench's data gives every trec and lsht record its `all_classes`, and the task passes the
  record's own list, so a real run never meets this; it is a data or calling error.

Per-sample scores are in [0, 1]; a dataset score is round(100 * mean, 2), as eval.py writes it.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Literal

Mode = Literal["compat", "strict"]

# eval.py cuts these datasets' predictions to their first line before scoring
FIRST_LINE_DATASETS = frozenset({"trec", "triviaqa", "samsum", "lsht"})
# The exact Chinese punctuation set of LongBench's normalize_zh_answer
CN_PUNCTUATION = (
    "\uff01\uff1f\uff61\u3002\uff02\uff03\uff04\uff05\uff06\uff07\uff08\uff09\uff0a\uff0b\uff0c\uff0d\uff0f"
    "\uff1a\uff1b\uff1c\uff1d\uff1e\uff20\uff3b\uff3c\uff3d\uff3e\uff3f\uff40\uff5b\uff5c\uff5d\uff5e\uff5f"
    "\uff60\uff62\uff63\uff64\u3001\u3003\u300b\u300c\u300d\u300e\u300f\u3010\u3011\u3014\u3015\u3016\u3017"
    "\u3018\u3019\u301a\u301b\u301c\u301d\u301e\u301f\u3030\u303e\u303f\u2013\u2014\u2018\u2019\u201b\u201c"
    "\u201d\u201e\u201f\u2026\u2027\ufe4f."
)
_EN_PUNCTUATION = frozenset(string.punctuation)
_ALL_PUNCTUATION = frozenset(string.punctuation + CN_PUNCTUATION)


def normalize_answer(text: str) -> str:
    """English: lowercase, drop ASCII punctuation, articles -> space, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _EN_PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def normalize_zh_answer(text: str) -> str:
    """Chinese: lowercase, drop ASCII and CJK punctuation, remove all whitespace."""
    return "".join("".join(ch for ch in text.lower() if ch not in _ALL_PUNCTUATION).split())


@lru_cache(maxsize=1)
def _jieba():  # noqa: ANN202 - the jieba module, imported once (its dictionary loads lazily)
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def _cut(text: str) -> list[str]:
    return list(_jieba().cut(text, cut_all=False))


def token_f1(prediction: Sequence[str], reference: Sequence[str]) -> float:
    """Bag-of-tokens F1; 0 without overlap."""
    same = sum((Counter(prediction) & Counter(reference)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(prediction), same / len(reference)
    return 2 * precision * recall / (precision + recall)


def qa_f1_score(prediction: str, reference: str, **_: object) -> float:
    return token_f1(normalize_answer(prediction).split(), normalize_answer(reference).split())


def qa_f1_zh_score(prediction: str, reference: str, **_: object) -> float:
    """jieba tokens, each normalised; tokens that normalise to nothing are dropped."""

    def tokens(text: str) -> list[str]:
        return [token for token in (normalize_zh_answer(t) for t in _cut(text)) if token]

    return token_f1(tokens(prediction), tokens(reference))


def rouge_score(prediction: str, reference: str, **_: object) -> float:
    """ROUGE-L F of the `rouge` package LongBench used; any error (an empty text) scores 0."""
    from rouge import Rouge

    try:
        return float(Rouge().get_scores([prediction], [reference], avg=True)["rouge-l"]["f"])
    except Exception:  # noqa: BLE001 - the original's bare except, reproduced
        return 0.0


def rouge_zh_score(prediction: str, reference: str, **_: object) -> float:
    """jieba tokens joined by spaces, then ROUGE-L (no normalisation, as in the original)."""
    return rouge_score(" ".join(_cut(prediction)), " ".join(_cut(reference)))


def classification_score(
    prediction: str, reference: str, all_classes: Sequence[str] | None = None, mode: Mode = "compat",
    **_: object,
) -> float:
    """1/len(matches) when the reference class is among the classes named in the prediction.

    Matches that are substrings of the reference (but not it) are dropped first. compat drops them
    the way the original does, removing from the list it iterates over: the match right after a
    removed one is never examined (LongBench's order-dependent quirk).

    Without `all_classes` (None) compat raises ValueError, as the original raises (KeyError when the
    keyword is missing, TypeError when it is None); strict scores 0. An empty list scores 0 in both,
    as in the original.
    """
    if all_classes is None:
        if mode == "compat":
            raise ValueError(
                "classification_score needs all_classes, the dataset's label set (a trec or lsht "
                "record's `all_classes` field); LongBench's metrics.py fails without it too"
            )
        all_classes = ()
    matches = [name for name in all_classes if name in prediction]
    if mode == "compat":
        index = 0
        while index < len(matches):
            if matches[index] in reference and matches[index] != reference:
                del matches[index]
            index += 1
    else:
        matches = [name for name in matches if not (name in reference and name != reference)]
    return 1.0 / len(matches) if reference in matches else 0.0


def _share_of_numbers(prediction: str, wanted: str) -> float:
    numbers = re.findall(r"\d+", prediction)
    return 0.0 if not numbers else sum(number == wanted for number in numbers) / len(numbers)


def retrieval_score(prediction: str, reference: str, **_: object) -> float:
    """Share of the integers in the prediction that equal the paragraph number of the reference."""
    return _share_of_numbers(prediction, re.findall(r"Paragraph (\d+)", reference)[0])


def retrieval_zh_score(prediction: str, reference: str, **_: object) -> float:
    return _share_of_numbers(prediction, re.findall(r"段落(\d+)", reference)[0])


def count_score(prediction: str, reference: str, **_: object) -> float:
    return _share_of_numbers(prediction, str(reference))


def _fuzzywuzzy_ratio(left: str, right: str) -> int:
    """fuzzywuzzy 0.18's fuzz.ratio without python-Levenshtein: equal strings 100, an empty one 0,
    else difflib's ratio as a whole percent (Python's round: half to even)."""
    if left == right:
        return 100
    if not left or not right:
        return 0
    return int(round(100 * SequenceMatcher(None, left, right).ratio()))


def code_sim_score(prediction: str, reference: str, mode: Mode = "compat", **_: object) -> float:
    """Similarity of the first prediction line without ` # or // to the reference line."""
    line = next(
        (candidate for candidate in prediction.lstrip("\n").split("\n")
         if "`" not in candidate and "#" not in candidate and "//" not in candidate),
        "",
    )
    if mode == "strict":
        from rapidfuzz import fuzz

        return fuzz.ratio(line, reference) / 100
    return _fuzzywuzzy_ratio(line, reference) / 100


Metric = Callable[..., float]
DATASET_METRICS: dict[str, Metric] = {
    "narrativeqa": qa_f1_score, "qasper": qa_f1_score, "multifieldqa_en": qa_f1_score,
    "multifieldqa_zh": qa_f1_zh_score, "hotpotqa": qa_f1_score, "2wikimqa": qa_f1_score,
    "musique": qa_f1_score, "dureader": rouge_zh_score, "gov_report": rouge_score, "qmsum": rouge_score,
    "multi_news": rouge_score, "vcsum": rouge_zh_score, "trec": classification_score,
    "triviaqa": qa_f1_score, "samsum": rouge_score, "lsht": classification_score,
    "passage_retrieval_en": retrieval_score, "passage_count": count_score,
    "passage_retrieval_zh": retrieval_zh_score, "lcc": code_sim_score, "repobench-p": code_sim_score,
}


def score_sample(
    dataset: str, prediction: str, answers: Sequence[str], all_classes: Sequence[str] | None = None,
    mode: Mode = "compat",
) -> float:
    """eval.py's per-sample score: first line for few-shot datasets, max over the answers."""
    metric = DATASET_METRICS[dataset]
    if dataset in FIRST_LINE_DATASETS:
        prediction = prediction.lstrip("\n").split("\n")[0]
    best = 0.0
    for answer in answers:
        best = max(best, metric(prediction, answer, all_classes=all_classes, mode=mode))
    return best


def dataset_score(sample_scores: Sequence[float]) -> float:
    """eval.py's dataset score: round(100 * mean, 2)."""
    return round(100 * sum(sample_scores) / len(sample_scores), 2)


def length_bucket(length: int) -> str:
    """LongBench-E's bucket of a sample's `length` field (words, or characters for Chinese)."""
    return "0-4k" if length < 4000 else "4-8k" if length < 8000 else "8k+"
