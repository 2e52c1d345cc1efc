"""An OpenAI-compatible server on loopback that misbehaves on purpose, written for the tests.

It answers /v1/chat/completions and /v1/completions by echoing the prompt (so needle tasks score
100) prefixed with the fault mode it chose for that prompt, e.g. "[429] ...". Modes are assigned
round robin to prompts in the order they first arrive, so every mode is exercised once there are
as many prompts as modes:

  ok          answer at once
  429         first attempt: 429 with Retry-After: 1
  500x2       first two attempts: 500
  timeout     first attempt: answer after `slow_s` (longer than the client's timeout)
  malformed   first attempt: 200 with a body that is not JSON
  reset       first attempt: close the connection without a response
  context     always: 400 "maximum context length" (must not be retried)
  always500   always: 500 (the client must give up after its attempts)
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULT_MODES = ("ok", "429", "500x2", "timeout", "malformed", "reset", "context", "always500")


@dataclass
class Attempt:
    prompt_hash: str
    mode: str
    status: int | str
    at: float
    authorization: str | None


@dataclass
class ServerState:
    modes: tuple[str, ...]
    slow_s: float = 2.5
    delay_s: float = 0.0
    die_after: int | None = None  # successful answers before the replica "dies"
    assigned: dict[str, str] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    answered: int = 0
    models: set[str] = field(default_factory=set)  # the `model` field of each request
    dead: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def mode_for(self, prompt_hash: str) -> tuple[str, int]:
        with self.lock:
            if prompt_hash not in self.assigned:
                self.assigned[prompt_hash] = self.modes[len(self.assigned) % len(self.modes)]
            seen = sum(1 for a in self.attempts if a.prompt_hash == prompt_hash)
            return self.assigned[prompt_hash], seen + 1


def _prompt_of(body: dict) -> str:
    if "messages" in body:
        users = [m["content"] for m in body["messages"] if m["role"] == "user"]
        return users[-1] if users else ""
    return body.get("prompt", "")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: ServerState

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._send(200, json.dumps({"data": [{"id": "fake", "object": "model"}]}).encode())

    def do_POST(self) -> None:  # noqa: N802
        state = self.state
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        with state.lock:
            state.models.add(str(body.get("model")))
        if state.dead:
            self._reset()
            return
        prompt = _prompt_of(body)
        prompt_hash = hashlib.sha256(prompt.encode()).hexdigest()[:16]
        mode, attempt = state.mode_for(prompt_hash)

        def log(status: int | str) -> None:
            with state.lock:
                state.attempts.append(
                    Attempt(prompt_hash, mode, status, time.monotonic(), self.headers.get("Authorization"))
                )

        if mode == "429" and attempt == 1:
            log(429)
            self._send(429, b'{"error": {"message": "rate limited"}}', {"Retry-After": "1"})
        elif (mode == "500x2" and attempt <= 2) or mode == "always500":
            log(500)
            self._send(500, b'{"error": {"message": "internal error"}}')
        elif mode == "timeout" and attempt == 1:
            log("timeout")
            time.sleep(state.slow_s)
            self._reset()
        elif mode == "malformed" and attempt == 1:
            log("malformed")
            self._send(200, b'{"choices": [{"text": "cut off')
        elif mode == "reset" and attempt == 1:
            log("reset")
            self._reset()
        elif mode == "context":
            log(400)
            message = "This model's maximum context length is 16 tokens. However, you requested 900 tokens."
            self._send(400, json.dumps({"error": {"message": message, "code": "context_length_exceeded"}}).encode())
        else:
            if state.delay_s:
                time.sleep(state.delay_s)
            with state.lock:
                if state.die_after is not None and state.answered >= state.die_after:
                    state.dead = True
            if state.dead:
                self._reset()
                return
            log(200)
            text = f"[{mode}] {prompt}"
            choice = {"index": 0, "finish_reason": "stop"}
            if "messages" in body:
                choice["message"] = {"role": "assistant", "content": text}
            else:
                choice["text"] = text
            usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": len(text.split())}
            with state.lock:
                state.answered += 1
            self._send(200, json.dumps({"id": "x", "object": "chat.completion", "choices": [choice],
                                        "usage": usage}).encode())


class FakeOpenAIServer:
    """Start with `with FakeOpenAIServer(...) as server:`; `server.url` is the /v1 root."""

    def __init__(self, modes: tuple[str, ...] = ("ok",), **state: object) -> None:
        self.state = ServerState(modes=modes, **state)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.state.dead = True
        self.httpd.shutdown()
        self.httpd.server_close()
