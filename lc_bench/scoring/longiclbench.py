"""LongICLBench's answer parsing and metrics, as its scripts compute them (github.com/TIGER-AI-Lab/LongICLBench).

The original decodes the whole sequence (prompt + continuation) for local models and the reply alone for
API models; each parser below is the script's, which handles both: it first cuts the output after the
question's own text when the output repeats it.

* GoEmotion, BANKING77, Discovery (goemotion / banking77 / discovery_infer.py): accuracy, the parsed first
  line lower-cased equal to the label lower-cased (Discovery also drops the characters “”,." from both).
* TacRED (tacred_infer.py): F1 over the run, precision = correct / predictions that are one of the 41
  relations, recall = correct / questions (`tacred_f1`); per sample: `accuracy` and `valid`.
* Few-NERD (fewnerd_evaluate.py): F1 over the run of (entity, type) pairs, counts pooled over sentences.
* DialogRE (dialogueRE_evaluate.py): F1 over the run, relations compared position by position (a gold
  relation counts when equal to, or contained in, the predicted item at its place), predictions counted
  when they contain one of the 34 relations.

Per sample the scores are 0-100 (`accuracy`) or counts (`correct`, `predicted`, `gold`) plus the sample's
own F1 (`f1`, 2 * correct / (predicted + gold)); the published run-level F1 pools the counts, which is
what `pooled_f1` does from the per-cell means (the ratios of means equal the ratios of sums).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

EPS = 1e-8
_DISCOVERY_STRIP = re.compile(r'[“”,."]')


def parse_goemotion(output: str, text: str) -> str:
    """goemotion_infer.py: after the comment when repeated, then after "emotion category:", before the next
    "comment: ", first line, lower-cased."""
    if text in output:
        parts = output.split(text)[-1].strip().split("emotion category:")
        response = parts[1].split("comment: ")[0] if len(parts) > 1 else parts[0]
    else:
        response = output.split("comment: ")[0]
    return response.strip().split("\n")[0].lower().strip()


def parse_banking77(output: str, text: str) -> str:
    """banking77_infer.py: as GoEmotion with "intent category:" and "service query"."""
    if text not in output:
        response = output.split("service query")[0].strip()
    else:
        parts = output.split(text)[-1].strip().split("intent category:")
        response = parts[1].split("service query")[0].strip() if len(parts) > 1 else parts[0].strip()
    return response.strip().split("\n")[0].lower().strip()


def parse_discovery(output: str, sentence2: str) -> str:
    """discovery_infer.py: after the second sentence when repeated (then after the question), first line,
    without “”,." and lower-cased."""
    response = output
    if sentence2 in response:
        parts = response.split(sentence2)[-1].strip().split("the most suitable conjunction word in the previous ( ) is")
        response = parts[1] if len(parts) > 1 else parts[0]
    response = response.strip().split("\n")[0]
    return _DISCOVERY_STRIP.sub("", response.strip()).lower().strip()


def discovery_label(label: str) -> str:
    return _DISCOVERY_STRIP.sub("", label.strip()).lower()


def parse_tacred(output: str, sentence: str) -> str:
    """tacred_infer.py: after the sentence when repeated (then after the question), before "sentence:",
    first line, stripped (case kept)."""
    if sentence in output:
        parts = output.split(sentence)[-1].strip().split("the relation between the two entities is:")
        response = parts[1].split("sentence:")[0] if len(parts) > 1 else parts[0]
    else:
        response = output.split("sentence:")[0]
    return response.strip().split("\n")[0].strip()


def parse_fewnerd(output: str, sentence: str) -> dict[str, str]:
    """fewnerd_infer.py: the lines after the sentence (or all lines), each "Entity: Type" until the first line
    that is empty, lacks ": " or starts with "Sentence"/"sentence"; a line's second ": "-part is its type."""
    lines = output.split(sentence)[-1].strip().split("\n") if sentence in output else output.strip().split("\n")
    found: dict[str, str] = {}
    for line in lines:
        if line and ": " in line and not line.startswith("Sentence") and not line.startswith("sentence"):
            parts = line.split(": ")
            found[parts[0]] = parts[1]
        else:
            break
    return found


def parse_dialogre(output: str, dialogue: str, count: int) -> str:
    """dialoguere_infer.py: after the dialogue and after "The N respective relations between each entity pair
    are:", before "dialogue" / "Dialogue", first line, before "[/INST]"."""
    question = f"The {count} respective relations between each entity pair are:"
    response = output.split(dialogue)[-1].strip().split(question)[-1].strip()
    response = response.split("dialogue")[0].strip().split("Dialogue")[0].strip()
    return response.strip().split("\n")[0].strip().split("[/INST]")[0].strip()


def f1_from_counts(correct: float, predicted: float, gold: float, compat: str = "dialogre") -> float:
    """F1 (0-1) from counts as the scripts write it: dialogre / tacred add 1e-8 to every denominator;
    fewnerd_evaluate.py none in the last one (0 when nothing is correct, where it would divide by zero)."""
    precision = correct / (predicted + EPS)
    recall = correct / (gold + EPS)
    if compat == "fewnerd":
        return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return 2 * precision * recall / (precision + recall + EPS)


def classification_scores(dataset: str, output: str, metadata: dict[str, Any]) -> dict[str, float]:
    label = metadata["label"]
    if dataset == "goemotion":
        hit = parse_goemotion(output, metadata["text"]) == label.lower()
    elif dataset == "banking77":
        hit = parse_banking77(output, metadata["text"]) == label.lower()
    else:
        hit = parse_discovery(output, metadata["sentence2"]) == discovery_label(label)
    return {"accuracy": 100.0 if hit else 0.0}


def tacred_scores(output: str, metadata: dict[str, Any], labels: Sequence[str]) -> dict[str, float]:
    pred = parse_tacred(output, metadata["sentence"])
    return {"accuracy": 100.0 if pred == metadata["label"] else 0.0, "valid": 100.0 if pred in labels else 0.0}


def tacred_f1(accuracy: float, valid: float) -> float:
    """The run's F1 (0-100) from the mean `accuracy` and mean `valid` of its samples (tacred_infer.py)."""
    return 100 * f1_from_counts(accuracy / 100, valid / 100, 1.0, "tacred")


def fewnerd_scores(output: str, metadata: dict[str, Any]) -> dict[str, float]:
    predictions, labels = parse_fewnerd(output, metadata["sentence"]), metadata["entities"]
    correct = sum(1 for entity, kind in predictions.items() if entity in labels and labels[entity] == kind)
    return _counts(correct, len(predictions), len(labels))


def dialogre_scores(output: str, metadata: dict[str, Any], relation_set: Sequence[str]) -> dict[str, float]:
    gold = [item.strip() for item in metadata["label"].split(",")]
    pred_text = parse_dialogre(output, metadata["dialogue"], len(metadata["relations"]))
    pred = [item.strip() for item in pred_text.split(",")]
    predicted = sum(1 for item in pred if any(relation in item for relation in relation_set))
    correct = sum(1 for i in range(min(len(gold), len(pred))) if gold[i] == pred[i] or gold[i] in pred[i])
    return _counts(correct, predicted, len(gold))


def _counts(correct: int, predicted: int, gold: int) -> dict[str, float]:
    """A sample's counts and its own F1, 2 * correct / (predicted + gold) (the scripts' formula without
    their 1e-8 guards, which only matter pooled: see `pooled_f1`)."""
    f1 = 200 * correct / (predicted + gold) if correct else 0.0
    return {"f1": f1, "correct": float(correct), "predicted": float(predicted), "gold": float(gold)}


def pooled_f1(records: Sequence[dict[str, Any]], compat: str = "dialogre") -> float:
    """The published F1 (0-100) of a set of scored records: counts summed over the records."""
    sums = [sum(r["scores"][k] for r in records) for k in ("correct", "predicted", "gold")]
    return 100 * f1_from_counts(*sums, compat=compat)
