"""NeedleBench V2 scoring (OpenCompass, opencompass/datasets/needlebench_v2/), reproduced exactly.

* Single-needle retrieval (`NeedleBenchOriginEvaluator`): 100 when the needle's keyword (`arg2` of
  needles.jsonl) is a substring of the raw prediction, else 0. The original strips whitespace from
  the prediction and reference only for its `details` log; the match itself is case-sensitive, on
  the untouched prediction, with no other normalisation.
* Multi-needle retrieval (`NeedleBenchParallelEvaluator`): each needle (one per depth) scores 100
  when its keyword is in the raw prediction; a sample's score is the mean over the needles (the
  original averages per depth over the samples, then over the depths: the same mean).
* Multi-needle reasoning (`needlebench_atc_postprocess_v2` + `NeedleBenchATCEvaluator`): the
  content of the last `\\boxed{...}` (braces balanced; `\\fbox` is found but not unwrapped, so it
  yields no answer), one outer `{...}` pair stripped, then `clean_atc_answer` (LaTeX \\text and
  \\boxed unwrapped, backslashes, quotes dropped, whitespace collapsed, tildes to spaces); no box
  (or an empty one) is the answer 'None'. 100 when the cleaned answer equals the reference name
  (both stripped), else 0.
* V1 (opencompass/datasets/needlebench/, `compat` for the 2024 numbers; the tasks' `scoring=v1`):
  single-needle retrieval gives a miss partial credit, 0.2 x 100 x (1 - Levenshtein distance /
  longer length) between the prediction and the needle sentence, both with all whitespace removed
  (`NeedleBenchOriginEvaluator`, use_trim off as configured); multi-needle retrieval is scored as in
  V2; multi-needle reasoning (`NeedleBenchMultiEvaluator`, identity post-processing) gives each
  whitespace-separated word of the answer 100 / words when it occurs in the lower-cased prediction.
* V2 overall (`NeedleBenchSummarizerV2`, `calculate_elementwise_average(mean=True)`): the plain
  mean of the three task scores (v1 weighted them 0.4 / 0.3 / 0.3).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# the opencompass summarizer's weights: v2 (mean=True) and v1 (the default before v2)
V1_WEIGHTS = {"single": 0.4, "multi_retrieval": 0.3, "multi_reasoning": 0.3}


def keyword_score(prediction: str, keyword: str) -> float:
    """NeedleBenchOriginEvaluator: 100 if the keyword occurs in the raw prediction."""
    return 100.0 if keyword in prediction else 0.0


def parallel_score(prediction: str, keywords: Sequence[str]) -> float:
    """NeedleBenchParallelEvaluator for one sample: the share of keywords found, in percent."""
    if not keywords:
        return 0.0
    return sum(keyword_score(prediction, keyword) for keyword in keywords) / len(keywords)


def last_boxed(text: str) -> str | None:
    """The last `\\boxed{...}` (or `\\fbox...`) with balanced braces, as math.last_boxed_only_string."""
    start = text.rfind("\\boxed")
    if start < 0:
        start = text.rfind("\\fbox")
        if start < 0:
            return None
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return None


def boxed_answer(text: str) -> str | None:
    """math.extract_boxed_answer(text, strip_double_curly_brace=True)."""
    boxed = last_boxed(text)
    if boxed is None or not boxed.startswith("\\boxed{") or not boxed.endswith("}"):
        return None
    answer = boxed[len("\\boxed{") : -1]
    match = re.match(r"^\{(.*)\}$", answer)  # `.` stops at a newline, as in the original
    return match.group(1) if match else answer


def clean_answer(text: str) -> str:
    """clean_atc_answer: LaTeX wrappers, backslashes, quotes and extra spaces removed."""
    if not text or text == "None":
        return "None"
    text = re.sub(r"\\text\{([^}]+)\}", r"\1", text)
    text = re.sub(r"\\boxed\{([^}]+)\}", r"\1", text)
    text = re.sub(r"\\[\[\]]", "", text)
    text = text.replace("\\\\", "").replace("\\", "")
    text = re.sub(r"\s+", " ", text).strip()
    text = text.replace('"', "").replace("'", "")
    return text.replace("~", " ")


def reasoning_answer(prediction: str) -> str:
    """needlebench_atc_postprocess_v2: the cleaned boxed answer, or 'None'."""
    answer = boxed_answer(prediction)
    return clean_answer(answer) if answer else "None"


def reasoning_score(prediction: str, answer: str) -> float:
    """NeedleBenchATCEvaluator: 100 if the post-processed prediction equals the answer."""
    return 100.0 if reasoning_answer(prediction).strip() == answer.strip() else 0.0


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions of one character each)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def single_score_v1(prediction: str, needle: str, keyword: str) -> float:
    """NeedleBench v1's NeedleBenchOriginEvaluator: 100 on a keyword hit, else a fifth of the
    whitespace-free edit similarity to the needle sentence."""
    if keyword in prediction:
        return 100.0
    pred, ref = re.sub(r"\s+", "", prediction), re.sub(r"\s+", "", needle)
    longest = max(len(pred), len(ref))
    similarity = 100 * (1 - levenshtein(pred, ref) / longest) if longest else 100.0
    return 0.2 * similarity


def reasoning_score_v1(prediction: str, answer: str) -> float:
    """NeedleBench v1's NeedleBenchMultiEvaluator: 100 / words per answer word found (lower case)."""
    words = answer.lower().split()
    if not words:
        return 0.0
    text = prediction.lower()
    return sum(1 for word in words if word in text) * (100 / len(words))


def overall(single: float, multi_retrieval: float, multi_reasoning: float, version: str = "v2") -> float:
    """NeedleBench's overall score: v2 the plain mean of the three task scores, v1 weighted."""
    if version == "v1":
        return (
            V1_WEIGHTS["single"] * single
            + V1_WEIGHTS["multi_retrieval"] * multi_retrieval
            + V1_WEIGHTS["multi_reasoning"] * multi_reasoning
        )
    return (single + multi_retrieval + multi_reasoning) / 3
