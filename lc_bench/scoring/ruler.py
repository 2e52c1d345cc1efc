"""RULER's two string-match metrics, with RULER's semantics (NVIDIA/RULER eval/synthetic).

Per sample, after RULER's post-processing (strip; control characters -> newline; strip):
* string_match_all  = 100 * share of references found (case-insensitive substring)
* string_match_part = 100 if any reference is found, else 0
RULER's task score is the mean over samples, so per-sample values x100 average to it exactly.
(lm-evaluation-harness's `string_match_part` differs: it computes a fraction, not "any".)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_CONTROL = re.compile(r"[\x00-\x1f]")


def postprocess(prediction: str) -> str:
    return _CONTROL.sub("\n", prediction.strip()).strip()


def string_match_all(prediction: str, references: Sequence[str]) -> float:
    if not references:
        raise ValueError("string_match_all needs at least one reference")
    text = postprocess(prediction).lower()
    found = sum(1.0 for reference in references if reference.lower() in text)
    return 100.0 * found / len(references)


def string_match_part(prediction: str, references: Sequence[str]) -> float:
    if not references:
        raise ValueError("string_match_part needs at least one reference")
    text = postprocess(prediction).lower()
    return 100.0 if any(reference.lower() in text for reference in references) else 0.0


def ruler_scores(prediction: str, references: Sequence[str]) -> dict[str, float]:
    return {
        "string_match_all": string_match_all(prediction, references),
        "string_match_part": string_match_part(prediction, references),
    }
