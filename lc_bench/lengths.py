"""Length lists and token budgets. k = 1024, so "128k" is 131072 tokens (RULER's convention)."""

from __future__ import annotations

import re

from lc_bench.errors import UsageError

_LENGTH = re.compile(r"^(\d+)([kKmM]?)$")
_UNITS = {"": 1, "k": 1024, "m": 1024 * 1024}


def parse_length(text: str) -> int:
    """Parse one length such as "4k", "131072" or "1m"."""
    match = _LENGTH.match(text.strip())
    if not match:
        raise UsageError(f"malformed length {text!r}: use a number with an optional k suffix, e.g. 4k")
    value = int(match.group(1)) * _UNITS[match.group(2).lower()]
    if value <= 0:
        raise UsageError(f"length {text!r} must be positive")
    return value


def parse_lengths(text: str) -> list[int]:
    """Parse "1k,2k,4k" (a list) or "4k:128k" (every power-of-two step from 4k to 128k).

    Returns sorted, de-duplicated lengths.
    """
    values: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            raise UsageError(f"malformed length list {text!r}: empty item")
        if ":" in part:
            start_text, _, stop_text = part.partition(":")
            start, stop = parse_length(start_text), parse_length(stop_text)
            if stop < start:
                raise UsageError(f"malformed length range {part!r}: stop is below start")
            length = start
            while length <= stop:
                values.add(length)
                length *= 2
        else:
            values.add(parse_length(part))
    return sorted(values)


def format_length(tokens: int) -> str:
    """The inverse of parse_length for display: 131072 -> "128k", 1500 -> "1500"."""
    if tokens % (1024 * 1024) == 0:
        return f"{tokens // (1024 * 1024)}m"
    if tokens % 1024 == 0:
        return f"{tokens // 1024}k"
    return str(tokens)


def input_budget(target_length: int, max_new_tokens: int) -> int:
    """RULER's rule: input tokens + max_new_tokens <= target length."""
    budget = target_length - max_new_tokens
    if budget <= 0:
        raise UsageError(
            f"length {format_length(target_length)} leaves no room for the prompt "
            f"after {max_new_tokens} new tokens"
        )
    return budget


def check_context_window(lengths: list[int], context_window: int | None, model: str) -> None:
    """Refuse lengths the model cannot take, before anything is built or written."""
    if context_window is None:
        return
    too_long = [length for length in lengths if length > context_window]
    if too_long:
        shown = ", ".join(format_length(length) for length in too_long)
        raise UsageError(
            f"length {shown} exceeds the context window of {model} ({context_window} tokens)"
        )
