"""How an API call's failure is classified, and how long to wait before the next attempt.

Retry what can succeed later (429, 5xx, timeouts, resets, malformed bodies); never retry what
cannot (a prompt longer than the model's context, a bad request, a refused key). Waits grow
exponentially with full jitter (so many clients do not retry in lockstep), are capped, and never
undercut the server's own Retry-After unless it asks for more than its own cap: a Retry-After of
`inf`, 1e308 or a date years ahead must not hang a run.

Messages carry whole response bodies: the runner scrubs secrets from them before cutting them to
length (a key cut in half is no longer recognisable, yet still a leak).
"""

from __future__ import annotations

import math
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
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date): never negative,
    possibly `inf` (the caller caps it); None when absent, NaN or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def classify_status(status: int, body: str, retry_after: str | None) -> ApiError:
    """The error for a non-2xx response; its message holds the whole body, uncut (see above)."""
    message = f"HTTP {status}: {body}"
    if status == 429:
        return ApiError("RateLimited", message, True, parse_retry_after(retry_after))
    if status >= 500:
        return ApiError("ServerError", message, True, parse_retry_after(retry_after))
    if status in (400, 413, 422) and CONTEXT_LENGTH_PATTERN.search(body):
        return ApiError("ContextLengthExceeded", message, False)
    if status in (408, 409):
        return ApiError("ServerError", message, True, parse_retry_after(retry_after))
    return ApiError(f"HTTP{status}", message, False)


@dataclass(frozen=True)
class Backoff:
    """Full-jitter exponential backoff: wait U(0, min(cap, base * 2**(attempt-1))), at least the
    server's Retry-After as far as `retry_after_cap_s` (the runner passes its `backoff_max_s` for
    both caps, so no wait exceeds that)."""

    base_s: float = 1.0
    cap_s: float = 60.0
    retry_after_cap_s: float = 600.0

    def wait_s(self, attempt: int, retry_after_s: float | None, rng: random.Random) -> float:
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1))
        jittered = rng.uniform(0, ceiling)
        asked = retry_after_s if retry_after_s is not None and retry_after_s > 0 else 0.0  # NaN too
        return max(jittered, min(asked, self.retry_after_cap_s))
