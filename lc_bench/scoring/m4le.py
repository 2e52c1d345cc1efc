"""M4LE's metrics for the tasks lc_bench builds (github.com/KwanWaiChung/M4LE, evaluation.py).

`evaluate_by_dict` first runs the task's preprocess, then cuts the reply at each of the task's end tokens
in turn (`reply.split(token)[0].strip()`), then scores one of:

* acc: any gold answer, lower-cased, is a substring of the lower-cased reply (QA tasks; end tokens
  "\\n" and ".").
* exact_match: any gold answer equals the reply, both lower-cased and stripped (explicit single-span
  classification: no end token; counting: end token "." / "。", the gold answer kept before its first
  "." / "。" by the preprocess).
* cls_f1: F1 of the set of predicted ids against the gold ids (explicit multiple-span), the preprocess
  keeping the reply before its first "." (English) / "。" (Chinese) and splitting both on "," / "，";
  precision = common / distinct predicted, recall = common / distinct gold, 0 when both are 0.

Scores are 0-100 here (evaluation.py: 0-1); a bucket's score is the mean over its samples, as there.
"""

from __future__ import annotations

from collections.abc import Sequence


def cut(reply: str, end_tokens: Sequence[str]) -> str:
    for token in end_tokens:
        reply = reply.split(token)[0].strip()
    return reply.strip()


def accuracy(reply: str, answers: Sequence[str], end_tokens: Sequence[str] = ("\n", ".")) -> float:
    reply = cut(reply, end_tokens)
    return 100.0 if any(str(answer).lower() in reply.lower() for answer in answers) else 0.0


def exact_match(reply: str, answers: Sequence[str], end_tokens: Sequence[str] = (), stop: str = "") -> float:
    """`stop`: the counting tasks' preprocess keeps the gold answer before its first `stop` ("." / "。")."""
    golds = [answers[0].split(stop)[0]] if stop and answers else list(answers)
    reply = cut(reply, end_tokens)
    return 100.0 if any(str(g).lower().strip() == reply.lower().strip() for g in golds) else 0.0


def ids_of(reply: str, stop: str = ".", sep: str = ",") -> list[str]:
    """The preprocess on a reply: before the first `stop`, split on `sep`, stripped, sorted."""
    return [part.strip() for part in sorted(reply.split(stop)[0].strip().split(sep))]


def cls_f1(reply: str, answer: str, stop: str = ".", sep: str = ",") -> float:
    """mnds_news_explicit_preprocess (".", ",") / thucnews_explicit_preprocess ("。", "，"), then cls_f1."""
    return set_f1(set(ids_of(reply, stop, sep)), {part.strip() for part in answer.split(sep)})


def set_f1(predicted: set[str], gold: set[str]) -> float:
    """evaluation.py's cls_f1 on two sets, 0-100: common / predicted and common / gold, 0 when both are 0."""
    common = len(gold & predicted)
    precision, recall = common / len(predicted), common / len(gold)
    return 100 * 2 * precision * recall / (precision + recall) if precision + recall else 0.0
