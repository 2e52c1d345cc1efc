"""The `openai` runner against a server that leaks, lies and stalls (tests/helpers/fake_openai.py):
keys echoed back in any encoding never reach a record, malformed answers cost one error record
each and nothing else, a Retry-After of `inf` cannot hang a run, latencies are each request's own
time, and Ctrl-C ends a run with requests in flight at once."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import UTC, datetime
from urllib.parse import quote, quote_plus

import pytest

from lc_bench.errors import UsageError
from lc_bench.models import ModelRef
from lc_bench.runners.base import RunnerContext, public_options
from lc_bench.runners.openai import OpenAIOptions, OpenAIRunner, read_answer
from lc_bench.runners.retry import Backoff, parse_retry_after
from lc_bench.runners.secrets import REDACTED, Scrubber, secret_values
from lc_bench.schema import ChatMessage, Completion, Request
from tests.e2e.test_cli import lc_bench, records
from tests.helpers.fake_openai import FakeOpenAIServer

# A '/', a '+' and a double space: its raw, JSON, URL and reflowed forms all differ.
SECRET = "sk-zqxlive/quartzy+jumbox  wyvernq=="
SECRET_PIECES = ("zqxlive", "quartzy", "jumbox", "wyvernq")  # no part of it may survive, anywhere
EXTRA_SECRET = "xk-plumbix/vortexq+glyphz"  # an api_key inside extra_body, sent in every request's body
EXTRA_PIECES = ("plumbix", "vortexq", "glyphz")
MALFORMED = {  # mode -> what the recorded message must say
    "notutf8": "not UTF-8",
    "notjson": "not JSON",
    "notobject": "response is an array, not an object",
    "nochoices": "`choices` is missing",
    "emptychoices": "`choices` is an empty list",
    "choicesnotlist": "`choices` is an object, not a list",
    "contentnumber": "is a number, not a string",
    "contentlist": "is an array, not a string",
    "contentnull": "is null, not a string",
    "finishunknown": 'unknown finish_reason "banana"',
}
HANG_GUARD_S = 30  # each scenario takes well under a second; this long means it hung


def runner_for(server: FakeOpenAIServer, tokenizer, **options) -> OpenAIRunner:
    settings = {"base_url": server.url, "served_model": "fake", "backoff_s": 0.0, **options}
    return OpenAIRunner(RunnerContext(ModelRef("fake", "fake", is_local=False), tokenizer), OpenAIOptions(**settings))


def request(key: str, mode: str | None = None, input_tokens: int = 10) -> Request:
    marker = f"[[mode:{mode}]] " if mode else ""
    return Request(
        key=key, messages=(ChatMessage(role="user", content=f"{marker}where is the needle? ({key})"),),
        use_chat_template=True, max_new_tokens=8, input_tokens=input_tokens,
    )


def generate(runner: OpenAIRunner, requests: list[Request]) -> list[Completion]:
    """The completions in the order they came, failing (not hanging) if the run never ends: the
    run goes on a daemon thread, which a hung runner cannot keep alive past the test session."""
    came: list[Completion] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            came.extend(runner.generate(requests))
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            failed.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_GUARD_S)
    runner.close()
    if thread.is_alive():
        pytest.fail(f"generate did not finish within {HANG_GUARD_S} s")
    if failed:
        raise failed[0]
    return came


# --- 1. secrets -------------------------------------------------------------------------------


def _u_escaped(secret: str, hex_format: str) -> str:
    """`secret` with every character but letters and digits written as JSON `\\uXXXX` escapes."""
    def escape(char: str) -> str:
        units = char.encode("utf-16-be")
        return "".join(f"\\u{int.from_bytes(units[i:i + 2], 'big'):{hex_format}}" for i in range(0, len(units), 2))

    return "".join(c if c.isalnum() else escape(c) for c in secret)


def _forms(secret: str) -> list[str]:
    """Every way a server may echo `secret` back."""
    json_plain = json.dumps(secret)[1:-1]
    return [
        secret,
        json_plain,
        json_plain.replace("/", "\\/"),
        _u_escaped(secret, "04X"),
        _u_escaped(secret, "04x"),
        json.dumps(json.dumps(secret))[3:-3],  # JSON inside JSON
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        quote(secret, safe="").lower(),
        secret.replace("  ", " "),  # whitespace normalised
        secret.replace("  ", "\n\t  \r"),  # reflowed
        secret.replace("  ", "\\n"),  # reflowed, then JSON-escaped
    ]


@pytest.mark.parametrize("form", _forms(SECRET) + _forms("pä$$wörd😀 with spaces"))
def test_the_scrubber_finds_every_echoed_form(form):
    scrub = Scrubber([SECRET, "pä$$wörd😀 with spaces"])
    assert scrub(f"before {form} after") == f"before {REDACTED} after"


def test_the_scrubber_leaves_everything_else_alone():
    scrub = Scrubber([SECRET, "", "  "])
    text = "sk-zqxlive/quartzy+jumbox is not the key, nor is wyvernq"
    assert scrub(text) == text and Scrubber([])(text) == text
    assert scrub.json({"a": [SECRET, 3, None], SECRET: 1.5}) == {"a": [REDACTED, 3, None], REDACTED: 1.5}


def test_echoed_keys_never_reach_a_completion(tiny_tokenizer, monkeypatch):
    monkeypatch.setenv("FAKE_API_KEY", SECRET)
    modes = ["keylate", "keyjson", "keyurl", "keyspaces", "keycontent", "echobody"]
    extra_body = {"top_k": 1, "api_key": EXTRA_SECRET, "headers": {"Authorization": f"Bearer {EXTRA_SECRET}"}}
    with FakeOpenAIServer() as server:
        runner = runner_for(server, tiny_tokenizer, api_key_env="FAKE_API_KEY", max_attempts=1,
                            extra_body=extra_body)
        completions = {c.key: c for c in generate(runner, [request(mode, mode) for mode in modes])}
        sent = {a.authorization for a in server.state.attempts}
    assert sent == {f"Bearer {SECRET}"}  # the key did travel, in the header
    written = json.dumps([c.model_dump() for c in completions.values()]) + json.dumps(runner.usage_summary())
    leaked = [piece for piece in SECRET_PIECES + EXTRA_PIECES if piece in written]
    assert not leaked, written
    for mode in ("keylate", "keyjson", "keyurl", "keyspaces"):
        error = completions[mode].error
        assert error is not None and error.type == "ServerError" and REDACTED in error.message, (mode, error)
    assert completions["keycontent"].text.startswith(f"[keycontent] the key is {REDACTED}. [[mode:keycontent]] where")
    echoed = completions["echobody"].text
    assert '"top_k": 1' in echoed and echoed.count(REDACTED) == 2  # the request itself, minus its secrets


def test_the_manifest_masks_nested_secrets_and_keeps_real_settings():
    options = OpenAIOptions(
        api_key_env="OPENAI_API_KEY",
        extra_body={
            "api_key": EXTRA_SECRET, "max_tokens": 5, "skip_special_tokens": False, "top_k": 1,
            "headers": {"Authorization": "Bearer x", "X-Api-Key": "y", "accept": "json"},
            "auth": {"user": "u", "password": "p"}, "tools": [{"accessToken": "z", "name": "t"}],
        },
    )
    shown = public_options(options)
    assert shown["api_key_env"] == "OPENAI_API_KEY"  # a variable's name, not its value
    assert shown["extra_body"] == {
        "api_key": REDACTED, "max_tokens": 5, "skip_special_tokens": False, "top_k": 1,
        "headers": {"Authorization": REDACTED, "X-Api-Key": REDACTED, "accept": "json"},
        "auth": REDACTED, "tools": [{"accessToken": REDACTED, "name": "t"}],
    }
    # the values to scrub: secret-named ones long enough to be real (not the flag-like "x", "y", "p")
    assert secret_values(options.model_dump(mode="json")) == [EXTRA_SECRET]
    identity = OpenAIRunner.identity_of(RunnerContext(ModelRef("m", "m", is_local=False), None), options)
    assert EXTRA_SECRET not in json.dumps(identity) and identity["extra_body"]["max_tokens"] == 5


@pytest.mark.parametrize("key", ["sk-abc\n", "sk-a\tbc", "sk-abc\r\ndef", "sk-\x7fabc", "sk-\u2028abc"])
def test_a_key_with_a_control_character_is_refused_before_any_request(key, monkeypatch):
    monkeypatch.setenv("FAKE_API_KEY", key)
    with pytest.raises(UsageError) as raised:
        OpenAIRunner(RunnerContext(ModelRef("m", "m", is_local=False), None), OpenAIOptions(api_key_env="FAKE_API_KEY"))
    message = str(raised.value)
    assert "FAKE_API_KEY" in message and "control character" in message
    assert "\n" not in message and "abc" not in message


def test_no_run_file_holds_a_key_echoed_by_the_server(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_API_KEY", SECRET)
    out = tmp_path / "results"
    extra = json.dumps({"api_key": EXTRA_SECRET})
    with FakeOpenAIServer(modes=("keylate", "keyjson", "keyurl", "keyspaces", "keycontent", "echobody")) as server:
        lc_bench("run", "--runner", "openai", "--model", str(tiny_model_dir), "--lengths", "1k", "--depths",
                 "0:100:6", "--out", str(out), "--name", "api", "--runner-opt", f"base_url={server.url}",
                 "--runner-opt", "api_key_env=FAKE_API_KEY", "--runner-opt", "max_attempts=1",
                 "--runner-opt", f"extra_body={extra}", check_rc=1)
    lc_bench("leaderboard", str(out / "api"), "--out", str(tmp_path / "board"))
    rows = records(out / "api")
    assert len(rows) == 6 and sum(r["completion"]["error"] is not None for r in rows) == 4
    files = [path for folder in (out, tmp_path / "board") for path in folder.rglob("*") if path.is_file()]
    assert any(path.suffix == ".html" for path in files)
    for path in files:
        data = path.read_bytes()
        assert not [piece for piece in SECRET_PIECES + EXTRA_PIECES if piece.encode() in data], path


# --- 2. malformed answers ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["chat", "completions"])
def test_each_malformed_answer_is_one_error_record_and_the_rest_complete(tiny_tokenizer, mode):
    requests = [request(name, name) for name in MALFORMED]
    requests += [request(name, name) for name in ("usagestring", "usagebad", "badhttp")]
    requests += [request(f"ok{i}") for i in range(6)]
    with FakeOpenAIServer() as server:
        runner = runner_for(server, tiny_tokenizer, mode=mode, concurrency=8, max_attempts=2)
        completions = {c.key: c for c in generate(runner, requests)}
        tries = {a.prompt_hash: 0 for a in server.state.attempts}
        for attempt in server.state.attempts:
            tries[attempt.prompt_hash] += 1
    assert len(completions) == len(requests)
    failed = {key: c for key, c in completions.items() if c.error is not None}
    assert failed.keys() == MALFORMED.keys()
    for key, completion in failed.items():
        assert completion.finish_reason == "error" and completion.attempts == 2, completion
        assert completion.error.type == "MalformedResponse" and MALFORMED[key] in completion.error.message, completion
    for key in ("usagestring", "usagebad"):  # bad accounting is ignored, the answer kept
        kept = completions[key]
        assert kept.text.startswith(f"[{key}] ") and kept.prompt_tokens is None and kept.completion_tokens is None
    assert completions["badhttp"].text.startswith("[badhttp] ") and completions["badhttp"].attempts == 2
    assert all(completions[f"ok{i}"].text.startswith("[ok] ") for i in range(6))
    assert sorted(tries.values()) == [1] * 8 + [2] * (len(MALFORMED) + 1)  # retried once, each on its own
    usage = runner.usage_summary()
    assert usage["failed"] == len(MALFORMED) and usage["requests"] == len(requests) - len(MALFORMED)


def test_a_reasoning_model_out_of_budget_is_an_empty_length_answer():
    body = {"choices": [{"message": {"content": None, "reasoning_content": "hmm"}, "finish_reason": "length"}]}
    answer = read_answer(json.dumps(body).encode(), "chat")
    assert answer.text == "" and answer.finish == "length"


# --- 3. Retry-After ---------------------------------------------------------------------------


def test_retry_after_values_that_are_not_a_sane_delay():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("inf", now) == float("inf") and parse_retry_after("1e308", now) == 1e308
    assert parse_retry_after("nan", now) is None and parse_retry_after("-inf", now) == 0.0
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) > 1e11
    assert parse_retry_after("Fri, 31 Dec 99999 23:59:59 GMT", now) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == 0.0  # in the past
    import random

    backoff, rng = Backoff(base_s=1.0, cap_s=8.0, retry_after_cap_s=8.0), random.Random(0)
    assert backoff.wait_s(1, float("inf"), rng) == 8.0 and backoff.wait_s(1, 1e308, rng) == 8.0
    assert backoff.wait_s(1, 3.0, rng) >= 3.0 and 0.0 <= backoff.wait_s(1, float("nan"), rng) <= 1.0


@pytest.mark.parametrize("retry_after", ["inf", "1e308", "Fri, 31 Dec 9999 23:59:59 GMT", "nan", "-5"])
def test_a_retry_after_of_forever_waits_backoff_max_s(tiny_tokenizer, retry_after):
    with FakeOpenAIServer(modes=("429",), retry_after=retry_after) as server:
        runner = runner_for(server, tiny_tokenizer, backoff_max_s=0.2, max_attempts=3)
        [completion] = generate(runner, [request("a")])
        times = [a.at for a in server.state.attempts]
    assert completion.error is None and completion.attempts == 2 and completion.text.startswith("[429] ")
    assert times[1] - times[0] < HANG_GUARD_S / 2


# --- 4. latency and queueing ------------------------------------------------------------------


def test_latency_is_each_requests_own_time_and_queueing_is_apart(tiny_tokenizer):
    delay = 0.3
    with FakeOpenAIServer(delay_s=delay) as server:
        serial = generate(runner_for(server, tiny_tokenizer, concurrency=1), [request(f"s{i}") for i in range(4)])
        parallel = generate(runner_for(server, tiny_tokenizer, concurrency=4), [request(f"p{i}") for i in range(4)])
    assert all(c.error is None for c in serial + parallel)
    # one at a time: each took the server's delay, not the running total of those before it
    assert all(delay * 0.9 <= c.latency_s < 2 * delay for c in serial), [c.latency_s for c in serial]
    queued = [c.queue_s for c in serial]
    assert queued == sorted(queued) and queued[-1] >= 3 * delay * 0.9  # the last waited for three
    # all at once: nobody waited for a slot
    assert all(delay * 0.9 <= c.latency_s < 2 * delay for c in parallel)
    assert all(c.queue_s < delay / 2 for c in parallel), [c.queue_s for c in parallel]


def test_time_waiting_for_the_rate_limit_is_queueing(tiny_tokenizer):
    # 6000 tokens a minute (100 a second, bursting to 6000): the first request drains the burst,
    # the second (30 tokens) must wait 0.3 s for the bucket before it is sent
    with FakeOpenAIServer() as server:
        runner = runner_for(server, tiny_tokenizer, concurrency=2, tokens_per_minute=6000)
        both = [request("big", input_tokens=5992), request("small", input_tokens=22)]
        done = {c.key: c for c in generate(runner, both)}
    assert done["big"].queue_s < 0.1 and done["small"].queue_s >= 0.25
    assert done["small"].latency_s < done["small"].queue_s


# --- 5. Ctrl-C --------------------------------------------------------------------------------


def test_ctrl_c_cancels_the_requests_in_flight_at_once(tiny_tokenizer):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("a signal's KeyboardInterrupt is raised in the main thread only")
    interrupted: list[float] = []
    with FakeOpenAIServer(delay_s=HANG_GUARD_S) as server:
        runner = runner_for(server, tiny_tokenizer, concurrency=4)

        def press_ctrl_c_once_sent() -> None:
            deadline = time.monotonic() + HANG_GUARD_S
            while len(server.state.assigned) < 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            interrupted.append(time.monotonic())
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            threading.Thread(target=press_ctrl_c_once_sent, daemon=True).start()
            with pytest.raises(KeyboardInterrupt):
                for _ in runner.generate([request(f"r{i}") for i in range(16)]):
                    pass
            runner.close()
            stopped = time.monotonic()
        finally:
            signal.signal(signal.SIGINT, previous)
        time.sleep(0.2)
        sent = len(server.state.assigned)
    assert stopped - interrupted[0] < 2.0
    assert sent == 4  # the twelve requests waiting for a slot were never sent


def test_chat_mode_appends_the_answer_prefix_as_ruler_sends_it():
    from lc_bench.models import ModelRef
    from lc_bench.runners.base import RunnerContext
    from lc_bench.runners.openai import OpenAIOptions, OpenAIRunner
    from lc_bench.schema import ChatMessage, Request

    context = RunnerContext(model=ModelRef(name="m", source="m", is_local=False), tokenizer=None)
    runner = OpenAIRunner(context, OpenAIOptions(base_url="http://127.0.0.1:9/v1"))
    request = Request(key="k", messages=(ChatMessage(role="user", content="...provided text?"),),
                      use_chat_template=True, answer_prefix=" The special magic number is", max_new_tokens=8)
    _, body = runner.payload(request)
    runner.close()
    assert body["messages"][-1]["content"] == "...provided text? The special magic number is"
