"""How an API call's failure is classified, and how long to wait before the next attempt.

Retry what can succeed later (429, 5xx, timeouts, resets, malformed bodies); never retry what
cannot (a prompt longer than the model's context, a bad request, a refused key). Waits grow
exponentially with full jitter (so many clients do not retry in lockstep), are capped, and never
undercut the server's own Retry-After.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

CONTEXT_LENGTH_PATTERN = re.compile(
    r"context[ _]length|maximum context|context window|context_length_exceeded|too many tokens"
    r"|exceeds? (the )?(model'?s? )?(max|context)",
    re.IGNORECASE,
)


class ApiError(Exception):
    """A failed attempt: `kind` is the recorded error type; `retryable` decides another attempt."""

    def __init__(self, kind: str, message: str, retryable: bool, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable
        self.retry_after_s = retry_after_s


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def classify_status(status: int, body: str, retry_after: str | None) -> ApiError:
    """The error for a non-2xx response."""
    snippet = " ".join(body.split())[:300]
    if status == 429:
        return ApiError("RateLimited", f"HTTP 429: {snippet}", True, parse_retry_after(retry_after))
    if status >= 500:
        return ApiError("ServerError", f"HTTP {status}: {snippet}", True, parse_retry_after(retry_after))
    if status in (400, 413, 422) and CONTEXT_LENGTH_PATTERN.search(body):
        return ApiError("ContextLengthExceeded", f"HTTP {status}: {snippet}", False)
    if status in (408, 409):
        return ApiError("ServerError", f"HTTP {status}: {snippet}", True, parse_retry_after(retry_after))
    return ApiError(f"HTTP{status}", f"HTTP {status}: {snippet}", False)


@dataclass(frozen=True)
class Backoff:
    """Full-jitter exponential backoff: wait U(0, min(cap, base * 2**(attempt-1))), at least Retry-After."""

    base_s: float = 1.0
    cap_s: float = 60.0

    def wait_s(self, attempt: int, retry_after_s: float | None, rng: random.Random) -> float:
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1))
        jittered = rng.uniform(0, ceiling)
        return max(jittered, retry_after_s or 0.0)
