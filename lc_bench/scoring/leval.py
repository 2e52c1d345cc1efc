"""L-Eval's metrics as its Evaluation/ scripts compute them (OpenLMLab/LEval cd34b05: auto_eval.py,
em.py, f1.py, rouge.py), per sample and x100, so a task's mean is auto_eval.py's printed score.

Closed-ended (`exam`): the answer is extracted from the output as auto_eval.py does per task, then
em.py's `exact_match_score` compares it with the processed reference:

* coursera / quality / tpo (options A-D): `process_output_mc` (coursera keeps every option letter it
  finds: multiple answers) against `process_gt_mc`; an answer whose letters are a proper subset of
  the reference's scores 0.25 (coursera's partial credit), equal letters score 1.
* gsm100: `process_math` on both (the number after "The answer is", else the last number of the
  first paragraph, digits only, cut at the first "."), compared as floats.
* codeU: `process_output_code` / `process_gt_code`, then "reference in prediction" (lower case,
  spaces removed) when they are not numbers.
* topic_retrieval_longchat: the raw output; the topic counts when it is in the output (lower case,
  spaces removed). auto_eval.py averages the three per-position scores (first / second / third
  topic); with the full data every position has as many questions, so that is the plain mean.
* sci_fi: loyalty (the answer with the document) and fact (the answer from world knowledge alone)
  are each "true"/"false", the first word holding "true" or "false" (so "untrue" reads as true);
  auto_eval.py averages the two scores, here two samples per question (part: loyalty / fact) whose
  mean is that average.

Open-ended: `f1` (f1.py: SQuAD normalisation with lower-casing, token F1) for the QA tasks and
ROUGE-1/2/L F-measure (rouge_score, no stemmer) for the summaries, each max over references (one).
rouge.py first splits the texts into sentences with nltk and joins them with newlines, which only
matters to ROUGE-Lsum (not reported by L-Eval): rouge_score's tokenizer treats every non
alphanumeric character as a separator, so ROUGE-1/2/L are the same without it (nltk's punkt data
is not needed). auto_eval.py's `rouge/geometric_mean` (of the three corpus means) is not a
per-sample score; the leaderboard's ROUGE column is ROUGE-L, the primary metric here.

`compat` (default) keeps auto_eval.py's quirk of `process_output_mc`: an output naming no option
letter at all is read as "A" (its "random guess"), so an empty or off-format answer still scores
when A is right (an empty output reads "None" and scores 0). `strict` reads it as "None" too (0).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from functools import lru_cache
from typing import Any, Literal

Mode = Literal["compat", "strict"]
CHOICES = "ABCD"
_PUNCTUATION = set(string.punctuation)


def _remove_articles(text: str) -> str:
    return re.sub(r"\b(a|an|the)\b", " ", text)


def normalize_em(text: str) -> str:
    """em.py's normalize_answer: punctuation, then articles, then whitespace; NOT lower-cased."""
    return " ".join(_remove_articles("".join(ch for ch in text if ch not in _PUNCTUATION)).split())


def normalize_f1(text: str) -> str:
    """f1.py's normalize_answer: lower case, punctuation, articles, whitespace."""
    return normalize_em(text.lower())


def exact_match_score(prediction: str, ground_truth: str) -> float:
    """em.py: option letters compared (a proper subset scores 0.25); otherwise numbers compared as
    floats, else 1 when the reference (lower case, spaces removed) is inside the prediction."""
    normalized_truth = normalize_em(ground_truth)
    if all(char in CHOICES for char in normalized_truth):
        normalized = normalize_em(prediction)
        if normalized == normalized_truth:
            return 1.0
        return 0.25 if set(normalized) <= set(normalized_truth) else 0.0
    try:
        return float(float(prediction) == float(ground_truth))
    except ValueError:
        squeezed = ground_truth.lower().replace(" ", "")
        return float(squeezed in prediction.lower().replace(" ", ""))


def f1_score(prediction: str, ground_truth: str) -> float:
    """f1.py's token F1 (0 when nothing is shared)."""
    predicted = normalize_f1(prediction).split()
    truth = normalize_f1(ground_truth).split()
    same = sum((Counter(predicted) & Counter(truth)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(truth)
    return 2 * precision * recall / (precision + recall)


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)


def rouge_scores(prediction: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L F-measure x100 (rouge.py: scorer.score(reference, prediction))."""
    scores = _rouge_scorer().score(reference, prediction)
    return {
        "rouge_1": 100.0 * scores["rouge1"].fmeasure,
        "rouge_2": 100.0 * scores["rouge2"].fmeasure,
        "rouge_l": 100.0 * scores["rougeL"].fmeasure,
    }


# --- auto_eval.py's answer extraction -------------------------------------------------------------


def process_output_mc(response: str, coursera: bool, mode: Mode = "compat") -> str:
    """auto_eval.py process_output_mc: the option letter(s) an output gives."""
    if len(response.strip()) == 0:
        return "None"
    if response in CHOICES:  # a substring of "ABCD" (e.g. "BC") is taken as it is
        return response
    if not coursera:
        for char in response:
            if char in CHOICES:
                return char
    cleaned = ""
    for char in response:  # the letters it starts with (auto_eval.py drops them from the text as it goes)
        if char not in CHOICES:
            break
        cleaned += char
    response = response[len(cleaned) :]
    if len(cleaned) > 1:
        return "".join(sorted(set(cleaned)))
    response = response.split("Question")[0]
    options = re.findall(r"\s*[A-Z](?=[\s.)])", response)
    cleaned += " ".join(options).strip()
    cleaned = "".join(sorted(set(re.sub(r"[^A-D]", "", cleaned))))
    if len(cleaned) < 1:
        found = False
        for char in response:  # the first run of option letters
            if char in CHOICES:
                cleaned += char
                found = True
            elif found:
                break
    if len(cleaned) < 1:
        return "A" if mode == "compat" else "None"  # strict: no guess (an empty set would score 0.25)
    return cleaned


def process_gt_mc(reference: str) -> str:
    """auto_eval.py process_gt_mc: the letters of the reference's first word ("(B) ..." -> "B")."""
    words = reference.split()
    cleaned = re.sub(r"[^A-D]", "", words[0] if words else "")
    return cleaned or "A"


def process_math(response: str) -> str:
    """auto_eval.py process_math: the answer's digits (up to a ".")."""
    match = re.search(r"The answer is (\S+)", response)
    if match:
        answer = match.group(1)
    else:
        answer = ""
        for word in response.split("\n\n")[0].split(" ")[::-1]:
            if any(char.isdigit() for char in word):
                answer = word
                break
    digits = ""
    for char in answer:
        if char.isdigit():
            digits += char
        if char == ".":
            break
    return digits


def process_gt_code(response: str) -> str:
    """auto_eval.py process_gt_code."""
    response = re.sub(r"\s+", " ", response)
    for old, new in ((",", ""), ("'", ""), ("\\", ""), (".0", ""), ("] [", "]["), ("[ [", "[["), ("] ]", "]]")):
        response = response.replace(old, new)
    return response


def process_output_code(response: str, reference: str) -> str:
    """auto_eval.py process_output_code: the words after "the final output" (else the last words),
    as many as the reference has plus three."""
    keep = len(reference.split()) + 3
    response = process_gt_code(response)
    for phrase in ("will be", "of the code", "is", "would be", "the value of", "the result of", "printed"):
        response = response.replace(phrase, "")
    if "the final output" in response:
        words = re.split(r"\s+", response.split("the final output")[-1])[:keep]
    else:
        words = re.split(r"\s+", response)[-keep:]
    return " ".join(words)


def split_judge_reference(reference: str) -> tuple[str, str]:
    """auto_eval.py process_gt_judge: "True [fact: False]" -> ("true", "false")."""
    parts = reference.lower().split("[fact:")
    return parts[0].strip(), parts[1][:-1].strip()


def true_or_false(text: str) -> str:
    """process_output_judge for one part: the first word holding "true" or "false", else "<error>"."""
    for word in text.lower().split():
        if "true" in word:
            return "true"
        if "false" in word:
            return "false"
    return "<error>"


# --- per task -----------------------------------------------------------------------------------

OPTION_TASKS = ("coursera", "quality", "tpo")


def closed_score(task: str, output: str, reference: str, part: str = "", mode: Mode = "compat") -> dict[str, float]:
    """One closed-ended answer's `exact_match` (x100) as auto_eval.py scores it for `task`."""
    if task in OPTION_TASKS:
        predicted, truth = process_output_mc(output, task == "coursera", mode), process_gt_mc(reference)
    elif task == "gsm100":
        predicted, truth = process_math(output), process_math(reference)
    elif task == "codeU":
        predicted, truth = process_output_code(output, reference), process_gt_code(reference)
    elif task == "sci_fi":
        loyalty, fact = split_judge_reference(reference)
        predicted, truth = true_or_false(output), (fact if part == "fact" else loyalty)
    else:  # topic_retrieval_longchat
        predicted, truth = output, reference
    return {"exact_match": 100.0 * exact_match_score(predicted, truth)}


def open_score(kind: str, output: str, reference: str) -> dict[str, float]:
    """An open-ended answer's n-gram scores (x100): `f1`, or ROUGE-1/2/L."""
    if kind == "f1":
        return {"f1": 100.0 * f1_score(output, reference)}
    return rouge_scores(output, reference)
