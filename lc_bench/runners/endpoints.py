"""Client-side spreading over replicas, for users without a router: round robin over the
endpoints that are up, and a replica that refuses connections is rested for a while so its share
fails over to the others. When every replica is resting, the one that rested longest is tried."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence


class EndpointPool:
    def __init__(self, urls: Sequence[str], rest_s: float = 15.0, clock=time.monotonic) -> None:  # noqa: ANN001
        if not urls:
            raise ValueError("at least one endpoint is needed")
        self.urls = [url.rstrip("/") for url in urls]
        self.rest_s = rest_s
        self._clock = clock
        self._down_since: dict[str, float] = {}
        self._turn = itertools.cycle(range(len(self.urls)))

    def pick(self) -> str:
        now = self._clock()
        for _ in range(len(self.urls)):
            url = self.urls[next(self._turn)]
            since = self._down_since.get(url)
            if since is None or now - since >= self.rest_s:
                return url
        return min(self.urls, key=lambda url: self._down_since.get(url, 0.0))

    def mark_down(self, url: str) -> None:
        self._down_since[url] = self._clock()

    def mark_up(self, url: str) -> None:
        self._down_since.pop(url, None)

    @property
    def down(self) -> list[str]:
        now = self._clock()
        return [url for url, since in self._down_since.items() if now - since < self.rest_s]
