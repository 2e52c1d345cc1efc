"""HelloBench's HelloEval (Que et al. 2024, github.com/Quehry/HelloBench): checklist-wise judging.

* The judge sees the instruction, the response and the sample's checklists, and answers a JSON list
  with one `{"checklist_id", "reason", "evaluation_score"}` per checklist, each score one of 0, 0.25,
  0.5, 0.75, 1 (llm_judge.py `SYS_PROMPT` and `USER_PROMPT`, verbatim below).
* Before judging, the response is split with `nltk.word_tokenize` and re-joined with spaces; over
  15,000 tokens it keeps its first 16,000 (llm_judge.py: `" ".join(words[:16000]) if len(words) >
  15000 else " ".join(words)`; the two numbers are the original's).
* A reply is parsed as llm_judge.py does: the fences ```json, ```python and ``` are removed, then every
  newline and every backslash, then `json.loads`; the list must hold exactly one entry per checklist,
  each with an integer-like `checklist_id` and a number-like `evaluation_score`. As OpenCompass's port
  (opencompass/datasets/subjective/hellobench.py `post_process_hellobench`) a score outside [0, 1] is
  refused. A reply that does not parse leaves the sample unjudged (llm_judge.py asks up to three times).
* The sample's score is the weighted sum of its checklist scores with the weights of its subcategory
  (weighted_scores.txt, `REGRESSION_DICT`, fitted to human annotations by regression.py; each
  subcategory's weights sum to 100): `hello_eval`, 0-100. OpenCompass reports the rescaled score
  `(hello_eval - 75) * 4` (`get_judgeanswer`), kept as `hello_eval_rescaled`.

Deviations: the scores are taken in the order of the reply's `checklist_id`s when those are exactly
0..n-1 (OpenCompass takes the list order, which is the same for an ordered reply); a subcategory
without published weights (a user's own data), or whose weights do not match its number of checklists,
weighs its checklists equally (the original has no such case: it would fail). Without nltk's punkt
data (it cannot be downloaded offline) the response is split by nltk's Treebank word tokenizer on the
whole text (word_tokenize splits sentences first; only sentence-final periods inside the text differ),
and without nltk by whitespace.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

# llm_judge.py SYS_PROMPT, verbatim
SYS_PROMPT = (
    "You are a helpful evaluator. Your task is to evaluate the checklists of the responses given by the Large "
    "Language Models (LLMs) based on user instructions. These checklists consist of yes or no questions."
)

_SCALE = (
    "Your core task is to evaluate the checklists based on the user's instruction and LLM's response, with each "
    "checklist item being a yes or no question indicating a specific aspect that the LLM's response should meet. "
    "You need to judge the checklist item based on the instruction and response. The evaluation results are scored "
    "from 0 to 1, with 5 scores in total, which are:\n\n"
    "0: The response fails to meet the checklist requirements, demonstrating substantial need for improvement "
    "across multiple areas.\n"
    "0.25: The response partially meets some checklist requirements, but significant elements remain "
    "unaddressed.\n"
    "0.5: The response meets several checklist requirements, yet the overall evaluation appears ambiguous or "
    "unclear.\n"
    "0.75: The response aligns with most checklist requirements, though there are still minor areas that could "
    "be refined or enhanced.\n"
    "1: The response fully satisfies all checklist requirements, with no identifiable issues or areas for "
    "improvement. It means this response is already perfect; you can't find any significant flaws in it."
)

# llm_judge.py USER_PROMPT after str.format, verbatim: $INSTRUCTION$, $RESPONSE$, $CHECKLISTS$ and
# $NUM$ stand for its {instruction}, {response}, {checklists} and {num_checklist}
USER_TEMPLATE = (
    _SCALE + '\n\nHere is the instruction:\n{"instruction": $INSTRUCTION$}\n\n'
    'Here is the response given by LLM:\n{"response": $RESPONSE$}\n\n'
    "Since the response may be rather long, I am specifically reminding you here that the response has ended.\n\n"
    'Here are checklists of this instruction:\n{"checklists": $CHECKLISTS$}\n\n'
    "To further remind you, I will repeat my requirements:\n\n" + _SCALE + "\n\n"
    "Always provide the reason for your evaluation results. You should be strict but fair in your evaluation. A "
    "score of 1 means that the response perfectly meets all the checklist requirements and you think there are "
    "really no room for improvements. When giving a score of 1, you need to carefully consider whether this "
    "checklist has been perfectly satisfied.\n\n"
    "Evaluate all the checklists and return the evaluation results of the checklists. Output a Python List "
    "consisting of the Python Dictionary formatted as follows:\n"
    '[{"checklist_id": "the id of the checklist", "reason": "The reason for your evaluation results", '
    '"evaluation_score": "Your evaluation score for this checklist"},{"checklist_id": "the id of the '
    'checklist", "reason": "The reason for your evaluation results", "evaluation_score": "Your evaluation '
    'score for this checklist"}]\n\n'
    "There are total $NUM$ checklists that you need to evaluate. The length of the output list is equal to the "
    "number of checklists and you should give an evaluation score for each checklist. You should be strict to the "
    "evaluation to further compare the responses from different models. Your response must be a valid Python List "
    "and should contain nothing else, as it will be directly executed in Python."
)

_PLACEHOLDER = re.compile(r"\$(INSTRUCTION|RESPONSE|CHECKLISTS|NUM)\$")
WORD_LIMIT = 16000  # words kept of a long response
WORD_THRESHOLD = 15000  # ... once it has more than this many


def formatted_checklists(checklists: list[str]) -> str:
    """The checklists as the judge sees them (llm_judge.py; the data's `formatted_checklists`)."""
    items = [{"checklist_id": i, "checklist_content": text} for i, text in enumerate(checklists)]
    return json.dumps(items, ensure_ascii=False)


def _word_tokenize(text: str) -> list[str]:
    try:
        import nltk
    except ImportError:  # pragma: no cover - nltk ships with the test environment
        return text.split()
    try:
        return list(nltk.word_tokenize(text))
    except LookupError:  # punkt is not installed (offline): the Treebank word tokenizer on the whole text
        from nltk.tokenize import NLTKWordTokenizer

        return list(NLTKWordTokenizer().tokenize(text))


def judged_response(response: str) -> str:
    """The response as llm_judge.py passes it to the judge: word-tokenized, re-joined, cut."""
    words = _word_tokenize(response)
    return " ".join(words[:WORD_LIMIT]) if len(words) > WORD_THRESHOLD else " ".join(words)


def judge_user_prompt(instruction: str, response: str, checklists: list[str]) -> str:
    """USER_PROMPT filled in one pass, as str.format does (a placeholder inside a value stays as it is)."""
    values = {
        "INSTRUCTION": instruction,
        "RESPONSE": judged_response(response),
        "CHECKLISTS": formatted_checklists(checklists),
        "NUM": str(len(checklists)),
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], USER_TEMPLATE)


def judge_prompt(instruction: str, response: str, checklists: list[str]) -> str:
    """The judge's user message (llm_judge.py's USER_PROMPT filled); SYS_PROMPT goes before it as a
    system message, as the original sends it (the plan's `system_prompt`)."""
    return judge_user_prompt(instruction, response, checklists)


def parse_checklist_scores(reply: str, count: int) -> list[float] | None:
    """Each checklist's score (in checklist order) from a judge reply, or None when it does not parse."""
    cleaned = reply.replace("```json", "").replace("```python", "").replace("```", "")
    cleaned = cleaned.replace("\n", "").replace("\\", "")
    try:
        verdicts = json.loads(cleaned)
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(verdicts, list) or len(verdicts) != count:
        return None
    ids, scores = [], []
    for verdict in verdicts:
        if not isinstance(verdict, dict):
            return None
        try:
            ids.append(int(verdict["checklist_id"]))
            score = float(verdict["evaluation_score"])
        except (KeyError, TypeError, ValueError, OverflowError):
            return None
        if not 0.0 <= score <= 1.0:
            return None
        scores.append(score)
    if sorted(ids) == list(range(count)):
        by_id = dict(zip(ids, scores, strict=True))
        return [by_id[i] for i in range(count)]
    return scores


@lru_cache(maxsize=1)
def regression_weights() -> dict[str, tuple[float, ...]]:
    """weighted_scores.txt's REGRESSION_DICT: subcategory -> checklist weights (sum 100)."""
    path = resources.files("lc_bench") / "data" / "hellobench" / "weighted_scores.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: tuple(float(w) for w in weights) for name, weights in data["weights"].items()}


def checklist_weights(subcategory: str, count: int) -> tuple[float, ...]:
    """The published weights of a subcategory; equal weights (sum 100) where there are none that fit."""
    weights = regression_weights().get(subcategory)
    if weights is None or len(weights) != count:
        return tuple(100.0 / count for _ in range(count)) if count else ()
    return weights


def hello_eval(subcategory: str, scores: list[float]) -> dict[str, float]:
    """HelloEval's weighted checklist score (0-100) and OpenCompass's rescaled score (x - 75) * 4."""
    weighted = sum(w * s for w, s in zip(checklist_weights(subcategory, len(scores)), scores, strict=True))
    return {"hello_eval": weighted, "hello_eval_rescaled": (weighted - 75.0) * 4.0}


def checklist_scores(subcategory: str, scores: list[float]) -> dict[str, Any]:
    """The scores a judged record gains: HelloEval, its rescaled form and each checklist's score."""
    return {**hello_eval(subcategory, scores), **{f"checklist_{i}": s for i, s in enumerate(scores)}}
