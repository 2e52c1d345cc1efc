"""The `openai` runner against a fault-injecting OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from lc_bench.runners.endpoints import EndpointPool
from lc_bench.runners.retry import Backoff, classify_status, parse_retry_after
from tests.e2e.test_cli import lc_bench, records
from tests.helpers.fake_openai import FAULT_MODES, FakeOpenAIServer

SECRET = "sk-test-0123456789abcdef"


def run_args(model_dir, out, *options: str) -> list[str]:
    return [
        "run", "--runner", "openai", "--model", str(model_dir), "--lengths", "1k", "--depths", "0:100:11",
        "--samples", "2", "--out", str(out), "--name", "api", *[x for o in options for x in ("--runner-opt", o)],
    ]


def test_every_sample_ends_as_one_record_with_the_right_outcome(tiny_model_dir, tmp_path, monkeypatch):
    out = tmp_path / "results"
    monkeypatch.setenv("FAKE_API_KEY", SECRET)
    with FakeOpenAIServer(modes=FAULT_MODES, slow_s=2.5) as server:
        result = lc_bench(
            *run_args(tiny_model_dir, out, f"base_url={server.url}", "api_key_env=FAKE_API_KEY", "timeout_s=1",
                      "backoff_s=0.05", "max_attempts=4", "concurrency=6", "price_input_per_mtok=2.5",
                      "price_output_per_mtok=10"),
            check_rc=1,  # the context-length and always-500 samples end as recorded errors
        )
        attempts = list(server.state.attempts)
        assigned = dict(server.state.assigned)
    rows = records(out / "api")
    assert len(rows) == 22 and len({r["key"] for r in rows}) == 22  # every sample once
    modes = Counter(assigned.values())
    assert modes == {mode: (3 if i < 22 % 8 else 2) for i, mode in enumerate(FAULT_MODES)}  # all exercised
    expected_attempts = {"ok": 1, "429": 2, "500x2": 3, "timeout": 2, "malformed": 2, "reset": 2}
    for row in rows:
        completion = row["completion"]
        if completion["error"] is None:
            mode = completion["text"].split("]")[0].lstrip("[")
            assert completion["attempts"] == expected_attempts[mode], (mode, completion)
            assert row["scores"]["string_match_all"] == 100.0  # the echo reached the scorer intact
            assert completion["prompt_tokens"] > 0 and completion["latency_s"] > 0
        elif completion["error"]["type"] == "ContextLengthExceeded":
            assert completion["attempts"] == 1 and "maximum context length" in completion["error"]["message"]
        else:
            assert completion["error"]["type"] == "ServerError" and completion["attempts"] == 4
    errors = Counter(r["completion"]["error"]["type"] for r in rows if r["completion"]["error"])
    assert errors == {"ContextLengthExceeded": modes["context"], "ServerError": modes["always500"]}
    # Retry-After was honoured: the second try of a 429'd prompt came at least a second later
    for prompt_hash in {a.prompt_hash for a in attempts if a.status == 429}:
        times = [a.at for a in attempts if a.prompt_hash == prompt_hash]
        assert times[1] - times[0] >= 0.95
    # the key went to the server, and nowhere else
    assert {a.authorization for a in attempts} == {f"Bearer {SECRET}"}
    for path in (out / "api").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in result.stdout + result.stderr
    manifest = json.loads((out / "api" / "manifest.json").read_text())
    usage = manifest["invocations"][-1]["usage"]
    assert usage["requests"] == 22 - 4 and usage["failed"] == 4
    cost = (usage["prompt_tokens"] * 2.5 + usage["completion_tokens"] * 10) / 1e6
    assert usage["cost_usd"] == pytest.approx(cost, abs=1e-8) and cost > 0
    assert manifest["invocations"][-1]["runner_options"]["api_key_env"] == "FAKE_API_KEY"
    assert manifest["invocations"][-1]["runner_options"]["timeout_s"] == 1.0


def test_completions_mode_sends_the_rendered_prompt(tiny_model_dir, tmp_path):
    out = tmp_path / "results"
    with FakeOpenAIServer() as server:
        lc_bench(*run_args(tiny_model_dir, out, f"base_url={server.url}", "mode=completions"))
    rows = records(out / "api")
    assert len(rows) == 22 and all(r["completion"]["error"] is None for r in rows)
    # the server saw the chat template and the answer prefix: the echo ends with the prefix
    assert all(r["completion"]["text"].startswith("[ok] ") for r in rows)
    assert all(r["prompt_tail"] in r["completion"]["text"] for r in rows)


def test_two_replicas_one_killed_mid_run(tiny_model_dir, tmp_path):
    out = tmp_path / "results"
    with FakeOpenAIServer(delay_s=0.05) as alive, FakeOpenAIServer(delay_s=0.05, die_after=4) as dying:
        lc_bench(*run_args(tiny_model_dir, out, "concurrency=4", "backoff_s=0.05"),
                 "--endpoints", f"{alive.url},{dying.url}")
        served = (alive.state.answered, dying.state.answered)
    rows = records(out / "api")
    assert len(rows) == 22 and len({r["key"] for r in rows}) == 22
    assert all(r["completion"]["error"] is None for r in rows)
    assert served[1] == 4 and served[0] >= 18


def test_an_unset_key_variable_is_bad_input(tiny_model_dir, tmp_path):
    result = lc_bench(*run_args(tiny_model_dir, tmp_path / "r", "api_key_env=LC_BENCH_NO_SUCH_KEY"), check_rc=2)
    assert "LC_BENCH_NO_SUCH_KEY" in result.stderr and result.stderr.count("\n") == 1
    bad_url = lc_bench(*run_args(tiny_model_dir, tmp_path / "r", "base_url=localhost:8000"), check_rc=2)
    assert "is not an http(s) URL" in bad_url.stderr


def test_classify_status():
    assert classify_status(429, "slow down", "2").retry_after_s == 2.0
    assert classify_status(503, "", None).retryable
    context = classify_status(400, "Requested tokens (9000) exceed context window of 8192", None)
    assert context.kind == "ContextLengthExceeded" and not context.retryable
    assert classify_status(401, "bad key", None).kind == "HTTP401" and not classify_status(401, "", None).retryable


def test_retry_after_as_an_http_date():
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after("soon", now) is None and parse_retry_after("-3", now) == 0.0


def test_backoff_is_capped_jittered_and_respects_retry_after():
    import random

    backoff, rng = Backoff(base_s=1.0, cap_s=8.0), random.Random(0)
    waits = [backoff.wait_s(attempt, None, rng) for attempt in range(1, 12) for _ in range(20)]
    assert max(waits) <= 8.0 and min(waits) >= 0.0 and len(set(waits)) > 100
    assert backoff.wait_s(1, 30.0, rng) == 30.0


def test_endpoint_pool_rests_a_dead_replica():
    now = [0.0]
    pool = EndpointPool(["http://a/v1", "http://b/v1/"], rest_s=10, clock=lambda: now[0])
    assert [pool.pick() for _ in range(4)] == ["http://a/v1", "http://b/v1"] * 2
    pool.mark_down("http://b/v1")
    assert {pool.pick() for _ in range(4)} == {"http://a/v1"}
    now[0] = 11.0
    assert {pool.pick() for _ in range(4)} == {"http://a/v1", "http://b/v1"}


def test_token_bucket_waits_for_refill(monkeypatch):
    import asyncio

    from lc_bench.runners.ratelimit import TokenBucket

    now = [0.0]

    async def fake_sleep(seconds):
        now[0] += seconds

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    bucket = TokenBucket(60, clock=lambda: now[0])  # one a second, bursting to 60

    async def scenario():
        assert await bucket.take(60) == 0.0  # the first minute's burst is free
        waited = await bucket.take(3)
        assert waited == pytest.approx(3.0)
        assert await bucket.take(1000) == pytest.approx(60.0)  # larger than the burst: a full bucket

    asyncio.run(scenario())
