"""An OpenAI-compatible server on loopback that misbehaves on purpose, written for the tests.

It answers /v1/chat/completions and /v1/completions by echoing the prompt (so needle tasks score
100) prefixed with the fault mode it chose for that prompt, e.g. "[429] ...". A prompt containing
a marker `[[mode:NAME]]` gets that mode; the others are assigned modes round robin in the order
they first arrive, so every mode is exercised once there are as many prompts as modes:

  ok          answer at once (after `delay_s`)
  429         first attempt: 429 with Retry-After: `retry_after` (1)
  500x2       first two attempts: 500
  timeout     first attempt: answer after `slow_s` (longer than the client's timeout)
  malformed   first attempt: 200 with a body that is not JSON
  reset       first attempt: close the connection without a response
  context     always: 400 "maximum context length" (must not be retried)
  always500   always: 500 (the client must give up after its attempts)
  badhttp     first attempt: a response that is not HTTP (a bad Content-Length)

Malformed 200s, on every attempt (each must end as one error record for its own sample):

  notutf8 notjson notobject nochoices emptychoices choicesnotlist contentnumber contentlist
  contentnull finishunknown

Bad accounting, on every attempt (the text must be kept, the token counts recorded as None):

  usagestring usagebad

Echoes of the API key (the Authorization header's value), which must never reach a record:

  keylate     500 whose body has the key after 290 characters of padding
  keyjson     500 whose JSON body has the key escaped as a JSON encoder may (`\\/`, `\\u00XX`)
  keyurl      500 with the key URL-encoded (quote and quote_plus)
  keyspaces   500 with each run of whitespace in the key reflowed (newline, spaces, tab)
  keycontent  200 whose answer contains the key
  echobody    200 whose answer is the request's whole JSON body (extra_body included)
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus

FAULT_MODES = ("ok", "429", "500x2", "timeout", "malformed", "reset", "context", "always500")
MARKER = re.compile(r"\[\[mode:(\w+)\]\]")
# The body of each malformed-200 mode.
MALFORMED_BODIES = {
    "notutf8": b'{"choices": [{"message": {"content": "caf\xe9"}, "text": "caf\xe9"}]}',
    "notjson": b"<html><body>502 Bad Gateway</body></html>",
    "notobject": b'[{"choices": []}]',
    "nochoices": b'{"id": "x", "object": "chat.completion"}',
    "emptychoices": b'{"choices": []}',
    "choicesnotlist": b'{"choices": {"0": {"message": {"content": "x"}, "text": "x"}}}',
}
# Malformed or odd fields of an otherwise normal 200, by mode.
ODD_CONTENT = {"contentnumber": 42, "contentlist": [{"type": "text", "text": "x"}], "contentnull": None}
ODD_USAGE = {"usagestring": "lots", "usagebad": {"prompt_tokens": -3, "completion_tokens": 2.5}}


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
    retry_after: str = "1"  # the 429 mode's Retry-After header
    die_after: int | None = None  # successful answers before the replica "dies"
    assigned: dict[str, str] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    answered: int = 0
    models: set[str] = field(default_factory=set)  # the `model` field of each request
    marked: set[str] = field(default_factory=set)  # prompts whose mode a marker chose
    dead: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: threading.Event = field(default_factory=threading.Event)  # ends sleeps when the server stops

    def mode_for(self, prompt_hash: str, marked: str | None) -> tuple[str, int]:
        with self.lock:
            if prompt_hash not in self.assigned:
                unmarked = sum(1 for h in self.assigned if h not in self.marked)
                self.assigned[prompt_hash] = marked or self.modes[unmarked % len(self.modes)]
                if marked:
                    self.marked.add(prompt_hash)
            seen = sum(1 for a in self.attempts if a.prompt_hash == prompt_hash)
            return self.assigned[prompt_hash], seen + 1


def _prompt_of(body: dict) -> str:
    if "messages" in body:
        users = [m["content"] for m in body["messages"] if m["role"] == "user"]
        return users[-1] if users else ""
    return body.get("prompt", "")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall between
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
        try:
            self.wfile.write(payload)
        except OSError:  # the client gave up (cancelled, timed out): nothing to tell it
            self.close_connection = True

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
        marker = MARKER.search(prompt)
        mode, attempt = state.mode_for(prompt_hash, marker.group(1) if marker else None)
        # http.server reads headers as Latin-1; the client sent the key's UTF-8 bytes
        key = (self.headers.get("Authorization") or "").removeprefix("Bearer ").encode("latin-1").decode()

        def log(status: int | str) -> None:
            with state.lock:
                state.attempts.append(
                    Attempt(prompt_hash, mode, status, time.monotonic(), self.headers.get("Authorization"))
                )

        if mode == "429" and attempt == 1:
            log(429)
            self._send(429, b'{"error": {"message": "rate limited"}}', {"Retry-After": state.retry_after})
        elif mode == "badhttp" and attempt == 1:
            log("badhttp")
            self.close_connection = True
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n{}")
        elif mode in MALFORMED_BODIES:
            log(mode)
            self._send(200, MALFORMED_BODIES[mode])
        elif mode.startswith("key") and mode != "keycontent":
            log(500)
            self._send(500, _key_echo(mode, key))
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
                state.closed.wait(state.delay_s)
            with state.lock:
                if state.die_after is not None and state.answered >= state.die_after:
                    state.dead = True
            if state.dead:
                self._reset()
                return
            log(200)
            text = f"[{mode}] {prompt}"
            if mode == "keycontent":
                text = f"[{mode}] the key is {key}. {prompt}"
            elif mode == "echobody":
                text = f"[{mode}] {json.dumps(body)}"
            content = ODD_CONTENT.get(mode, text)
            finish = "banana" if mode == "finishunknown" else "stop"
            choice = {"index": 0, "finish_reason": finish}
            if "messages" in body:
                choice["message"] = {"role": "assistant", "content": content}
            else:
                choice["text"] = content
            usage = ODD_USAGE.get(mode, {"prompt_tokens": len(prompt.split()), "completion_tokens": len(text.split())})
            with state.lock:
                state.answered += 1
            self._send(200, json.dumps({"id": "x", "object": "chat.completion", "choices": [choice],
                                        "usage": usage}).encode())


def _key_echo(mode: str, key: str) -> bytes:
    """A 500 body that echoes `key` the way the mode names (see the module's docstring)."""
    if mode == "keylate":
        return ("." * 290 + f" your header was: Authorization: Bearer {key}").encode()
    if mode == "keyjson":
        escaped = "".join(c if c.isalnum() else f"\\u{ord(c):04X}" for c in key)
        message = json.dumps({"error": {"message": f"invalid key {key}", "param": "KEYHERE"}})
        return message.replace("/", "\\/").replace("KEYHERE", escaped).encode()
    if mode == "keyurl":
        return f"GET /auth?key={quote(key, safe='')}&again={quote_plus(key)} failed".encode()
    if mode == "keyspaces":
        return ("bad key: " + re.sub(r"\s+", "\n  \t", key)).encode()
    raise ValueError(f"no key echo for mode {mode}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops the SYNs of a client opening more connections at
    # once, which then retries a second later: a delay that is not the server's, nor the client's
    request_queue_size = 128


class FakeOpenAIServer:
    """Start with `with FakeOpenAIServer(...) as server:`; `server.url` is the /v1 root."""

    def __init__(self, modes: tuple[str, ...] = ("ok",), **state: object) -> None:
        self.state = ServerState(modes=modes, **state)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.state.dead = True
        self.state.closed.set()
        self.httpd.shutdown()
        self.httpd.server_close()
