"""Client-side requests-per-minute and tokens-per-minute limits (asyncio token buckets).

Providers enforce both; staying under them avoids a storm of 429s that would cost retries and
wall time. Each bucket refills continuously; a request waits until both have room.
"""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """`rate_per_minute` units per minute, bursting up to one minute's worth."""

    def __init__(self, rate_per_minute: float, clock=time.monotonic) -> None:  # noqa: ANN001
        self.capacity = float(rate_per_minute)
        self.rate_per_s = rate_per_minute / 60.0
        self.available = self.capacity
        self._clock = clock
        self._updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self.available = min(self.capacity, self.available + (now - self._updated) * self.rate_per_s)
        self._updated = now

    async def take(self, units: float) -> float:
        """Wait until `units` are available (a request larger than the burst waits for a full bucket);
        returns the seconds waited."""
        units = min(units, self.capacity)
        waited = 0.0
        async with self._lock:
            while True:
                self._refill()
                if self.available >= units:
                    self.available -= units
                    return waited
                delay = (units - self.available) / self.rate_per_s
                await asyncio.sleep(delay)
                waited += delay


class RateLimits:
    """Both limits together; None disables one."""

    def __init__(self, requests_per_minute: float | None, tokens_per_minute: float | None) -> None:
        self.requests = TokenBucket(requests_per_minute) if requests_per_minute else None
        self.tokens = TokenBucket(tokens_per_minute) if tokens_per_minute else None

    async def acquire(self, tokens: int) -> None:
        if self.requests is not None:
            await self.requests.take(1)
        if self.tokens is not None:
            await self.tokens.take(tokens)
