"""InfiniteBench's scores, reproducing OpenBMB/InfiniteBench src/compute_scores.py (`get_score_one_*`).

Each function takes the model's output and the sample's references (text, as lc_bench keeps them)
and returns the original's per-sample value in [0, 1]; the task multiplies by 100. The quirks that
`compat` (the default) keeps, each named where it is reproduced:

* passkey / number_string: the FIRST run of digits of the output is compared, as text, with the
  answer (`first_int_match`): "The pass key is 12345" scores, "1. 12345" does not.
* kv_retrieval / longdialogue_qa_eng: the answer must be a whole word after a few punctuation
  marks become spaces; En.Dia upper-cases the output's words but not the answer, and only the
  first of its answers counts (`label[0]`).
* longbook_choice_eng / code_debug: the output's first character, then answer prefixes ("answer
  is:", ...), then (En.MC) the first word that is a substring of "ABCD" (`word in "ABCD"`: "AB"
  counts as a choice, and is then wrong).
* math_find: the first number of the output (`\\d+\\.\\d+|\\d+`, no sign) compared as an int or a
  float, by the answer's type; an int answer and a decimal first number make the original raise
  (`int("12.5")`): compat scores 0.
* math_calc: the output's digit runs (minus signs dropped: "-3" reads 3) against the intermediate
  values, the share of the longest correct prefix; with the gpt4 prompt set the first number is
  dropped first (`model_name == "gpt4"`: that prompt's example shows the expression's first number
  as the first value, and the labels start after it).
* code_run: the LAST word of the output (after `\\n . ` ' " :` become spaces) as an int.
* longbook_qa_eng: SQuAD-style token F1 (lower case, no punctuation or articles), max over answers.
* longbook_qa_chn: character F1 after normalize_zh_answer (compute_scores.py's version, one
  character one token; eval_utils.py's jieba version is not the one the scores use), max over answers.
* longbook_sum_eng: 🤗 evaluate's "rouge" rougeLsum F (rouge_score, no stemmer, sentences split on
  newlines only), use_aggregator=False, the best over the references (evaluate's score_multi).

`strict` differs only where the original is clearly accidental: En.Dia upper-cases the answer too
(the published answers mix "ACE" and "remo Gaggi", so compat never matches the lower-case ones),
and math_calc reads signed numbers.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

Mode = Literal["compat", "strict"]

# normalize_zh_answer's punctuation, character for character (compute_scores.py)
CN_PUNCTUATION = (
    "！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣"
    "､、〃》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏."
)
_EN_PUNCTUATION = frozenset(string.punctuation)
_ALL_PUNCTUATION = frozenset(string.punctuation + CN_PUNCTUATION)
# the characters each scorer turns into spaces before splitting into words
_RETRIEVAL_MARKS = ("\n", ":", '"', "'", ".", ",", "?", "!", "{", "}")
_CODE_RUN_MARKS = ("\n", ".", "`", "'", '"', ":")
_CODE_DEBUG_MARKS = ("\n", "`", "'", '"', "-", "*", "Option", "option")
_CHOICE_MARKS = ("\n", '"', "'", ".", ",", "?", "!", "{", "}")
CODE_DEBUG_PREFIXES = ("answer is:", "is:", "answer:", "correct option is:")
CHOICE_PREFIXES = ("answer is:", "answer:", "answer is", "option is")


def _replace_all(text: str, marks: Sequence[str]) -> str:
    for mark in marks:
        text = text.replace(mark, " ")
    return text


def _squeeze_spaces(text: str) -> str:
    """`while "  " in pred: pred = pred.replace("  ", " ")`: runs of spaces become one (tabs stay)."""
    return re.sub(" {2,}", " ", text)


def first_int(prediction: str) -> str:
    """The first run of ASCII digits ("" when there is none), as `first_int_match` finds it."""
    match = re.search("[0-9]+", prediction)
    return match.group(0) if match else ""


def passkey_score(prediction: str, references: Sequence[str], mode: Mode = "compat") -> float:
    """Retrieve.PassKey and Retrieve.Number: the first digit run equals the answer."""
    return float(first_int(prediction) == references[0])


def kv_retrieval_score(prediction: str, references: Sequence[str], mode: Mode = "compat") -> float:
    """Retrieve.KV: the value is one of the output's words."""
    return float(references[0] in _replace_all(prediction, _RETRIEVAL_MARKS).split())


def dialogue_score(prediction: str, references: Sequence[str], mode: Mode = "compat") -> float:
    """En.Dia: the first answer among the output's upper-cased words (compat: the answer as is)."""
    label = references[0] if mode == "compat" else references[0].upper()
    words = [word.upper() for word in _replace_all(prediction.strip(), _RETRIEVAL_MARKS).split()]
    return float(label in words)


def _after_prefix(text: str, prefixes: Sequence[str]) -> str | None:
    """What follows the first listed prefix found (the first prefix in list order that occurs),
    past one more character; "" when the text ends there; None when no prefix occurs."""
    for prefix in prefixes:
        index = text.find(prefix)
        if index == -1:
            continue
        if len(text) < index + len(prefix) + 1:
            return ""
        return text[index + len(prefix) + 1 :]
    return None


def choice_score(prediction: str, references: Sequence[str], mode: Mode = "compat") -> float:
    """En.MC; `references` is (option text, letter), as get_answer builds the label."""
    pred = prediction.strip()
    if pred == "":
        return 0.0
    if pred[0] in "ABCD":
        return float(pred[0] in references)
    if pred in references:
        return 1.0
    pred = _squeeze_spaces(_replace_all(pred, _CHOICE_MARKS))
    after = _after_prefix(pred, CHOICE_PREFIXES)
    if after is not None:
        return float(after != "" and any(after.startswith(label) for label in references))
    for word in pred.split():
        if word in "ABCD":  # a substring test, as the original's
            return float(word in references)
    return 0.0


def code_debug_score(prediction: str, references: Sequence[str], mode: Mode = "compat") -> float:
    """Code.Debug; `references` is (function name, letter)."""
    pred = prediction.strip()
    name, letter = references[0], references[1]
    if pred[:2] in (f"{letter}.", f"{letter}:"):
        return 1.0
    pred = _squeeze_spaces(_replace_all(pred.strip(), _CODE_DEBUG_MARKS))
    after = _after_prefix(pred, CODE_DEBUG_PREFIXES)
    if not after:
        return 0.0
    return float(after.startswith(letter) or after.startswith(name))


def code_run_score(prediction: str, references: Sequence[str], mode: Mode = "compat") -> float:
    """Code.Run: the output's last word, read as an int, equals the return value."""
    words = _replace_all(prediction.strip(), _CODE_RUN_MARKS).split()
    if not words:
        return 0.0
    try:
        return float(int(words[-1]) == int(references[0]))
    except ValueError:
        return 0.0


def math_find_score(prediction: str, references: Sequence[str], mode: Mode = "compat") -> float:
    """Math.Find: the first number equals the answer, read as an int or a float by the answer's type
    (a reference with a decimal point is a float: the published medians are floats such as 50.0)."""
    match = re.search(r"\d+\.\d+|\d+", prediction)
    if match is None:
        return 0.0
    number, label = match.group(0).strip(), references[0]
    if "." in label or "e" in label.lower():
        return float(float(number) == float(label))
    try:
        return float(int(number) == int(label))
    except ValueError:  # int("12.5"): the original raises here
        return 0.0


def calc_values(reference: str) -> list[int]:
    """A Math.Calc reference: the JSON list of intermediate values (a nested [[...]] is unwrapped)."""
    values = json.loads(reference)
    if values and isinstance(values[0], list):
        values = values[0]
    return [int(value) for value in values]


def math_calc_score(
    prediction: str, references: Sequence[str], mode: Mode = "compat", drop_first: bool = False
) -> float:
    """Math.Calc: the share of the values matched before the first mismatch."""
    label = calc_values(references[0])
    pattern = "[0-9]+" if mode == "compat" else "-?[0-9]+"
    numbers = [int(item) for item in re.findall(pattern, prediction)]
    if drop_first:
        numbers = numbers[1:]
    count = 0
    for expected, got in zip(label, numbers, strict=False):
        if expected != got:
            break
        count += 1
    return count / len(label)


def normalize_answer(text: str) -> str:
    """Lower case, ASCII punctuation removed, articles -> space, whitespace collapsed."""
    text = "".join(ch for ch in text.lower() if ch not in _EN_PUNCTUATION)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def normalize_zh_answer(text: str) -> str:
    """Lower case, ASCII and Chinese punctuation removed, every whitespace removed."""
    return "".join("".join(ch for ch in text.lower() if ch not in _ALL_PUNCTUATION).split())


def token_f1(prediction: Sequence[str], reference: Sequence[str]) -> float:
    same = sum((Counter(prediction) & Counter(reference)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(prediction), same / len(reference)
    return 2 * precision * recall / (precision + recall)


def qa_f1_score(prediction: str, references: Sequence[str], mode: Mode = "compat") -> float:
    """En.QA: the best token F1 over the answers."""
    tokens = normalize_answer(prediction).split()
    return max((token_f1(tokens, normalize_answer(answer).split()) for answer in references), default=0.0)


def qa_f1_zh_score(prediction: str, references: Sequence[str], mode: Mode = "compat") -> float:
    """Zh.QA: the best character F1 over the answers."""
    chars = list(normalize_zh_answer(prediction))
    return max((token_f1(chars, list(normalize_zh_answer(answer))) for answer in references), default=0.0)


@lru_cache(maxsize=1)
def _rouge_lsum() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(rouge_types=["rougeLsum"], use_stemmer=False)


def rouge_lsum_score(prediction: str, references: Sequence[str], mode: Mode = "compat") -> float:
    """En.Sum: rougeLsum F as evaluate's rouge gives it (score_multi over the references)."""
    return float(_rouge_lsum().score_multi(list(references), prediction)["rougeLsum"].fmeasure)


SCORERS = {
    "passkey": passkey_score,
    "number_string": passkey_score,
    "kv_retrieval": kv_retrieval_score,
    "longbook_sum_eng": rouge_lsum_score,
    "longbook_choice_eng": choice_score,
    "longbook_qa_eng": qa_f1_score,
    "longbook_qa_chn": qa_f1_zh_score,
    "longdialogue_qa_eng": dialogue_score,
    "math_find": math_find_score,
    "math_calc": math_calc_score,
    "code_run": code_run_score,
    "code_debug": code_debug_score,
}


def score_one(
    task: str, prediction: str, references: Sequence[str], prompt_set: str = "gpt4", mode: Mode = "compat"
) -> float:
    """get_score_one for a task (its compute_scores.py name); `prompt_set` plays model_name's part."""
    if task == "math_calc":
        return math_calc_score(prediction, references, mode, drop_first=prompt_set == "gpt4")
    return SCORERS[task](prediction, references, mode)
