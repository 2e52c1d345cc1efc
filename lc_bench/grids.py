"""Depth grids for needle placement: explicit lists, linear ranges and sigmoid spacing."""

from __future__ import annotations

import math

from lc_bench.errors import UsageError

# every 0.1% of the context: finer grids measure nothing new, and a typo (0:100:1000000) would
# build millions of samples before anything is written
MAX_DEPTHS = 1001


def _depth(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"malformed depth {text!r}: use percentages such as 0,50,100") from None
    if not 0.0 <= value <= 100.0:
        raise UsageError(f"depth {text!r} is outside 0-100")
    return value


def linear_depths(start: float, stop: float, count: int) -> list[float]:
    if count == 1:
        return [start]
    step = (stop - start) / (count - 1)
    return [round(start + i * step, 4) for i in range(count)]


def sigmoid_depths(count: int) -> list[float]:
    """gkamradt's logistic spacing: denser near 0 and 100, where models often differ most."""
    if count == 1:
        return [50.0]
    xs = linear_depths(-6.0, 6.0, count)
    raw = [1.0 / (1.0 + math.exp(-x)) for x in xs]
    low, high = raw[0], raw[-1]
    return [round(100.0 * (r - low) / (high - low), 2) for r in raw]


def parse_depths(text: str) -> list[float]:
    """"0,50,100" (list), "0:100:11" (linear, start:stop:count) or "sigmoid:11"."""
    text = text.strip()
    if text.startswith("sigmoid:"):
        count = _count(text.split(":", 1)[1], text)
        return sigmoid_depths(count)
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise UsageError(f"malformed depth range {text!r}: use start:stop:count, e.g. 0:100:11")
        start, stop = _depth(parts[0]), _depth(parts[1])
        return linear_depths(start, stop, _count(parts[2], text))
    depths = sorted({_depth(part) for part in text.split(",") if part.strip()})
    if not depths:
        raise UsageError("empty depth list")
    if len(depths) > MAX_DEPTHS:
        raise UsageError(f"depth list holds {len(depths)} depths, more than {MAX_DEPTHS} (every 0.1%)")
    return depths


def _count(text: str, whole: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise UsageError(f"malformed depth grid {whole!r}: the count must be an integer") from None
    if count < 1:
        raise UsageError(f"malformed depth grid {whole!r}: the count must be at least 1")
    if count > MAX_DEPTHS:
        raise UsageError(f"depth grid {whole!r} asks for {count} depths, more than {MAX_DEPTHS} (every 0.1%)")
    return count
