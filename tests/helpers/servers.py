"""Real servers started by the peer tests: a free loopback port and a wait until they answer."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request

from tests.helpers import HANG_GUARD_S


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(url: str, server: subprocess.Popen, seconds: float = HANG_GUARD_S) -> None:
    """Poll `url` until it answers; fail at once if the server process died."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            assert server.poll() is None, "the server exited before it answered"
            assert time.monotonic() < deadline, f"the server did not answer {url} within {seconds:g} s"
            time.sleep(1)
