"""Throughput of the `openai` runner against a loopback server with a fixed latency.

A server that answers every request after `latency` seconds allows at most concurrency / latency
requests per second; the runner should reach >= 90% of that (issue 5). The server is a minimal
asyncio HTTP/1.1 responder in a separate process, so its work does not share the client's loop.

    python benchmarks/api_throughput.py [--requests 1000] [--concurrency 64] [--latency 0.25]
        [--lm-eval-python PATH]

`--lm-eval-python` names a Python that has lm-evaluation-harness (`pip install 'lm-eval[api]'`,
best in its own venv: its pins differ from lc_bench's); without it, this Python is used when it
can import `lm_eval`. Its `local-chat-completions` model then sends the same requests at the same
concurrency to the same server. The two clients take turns over `--rounds` rounds, alternating who
goes first (lc_bench first in odd rounds, lm-eval first in even ones), so neither always gets the
warmer machine; the figures and the ratio are printed for each order. Where lm-eval is not
available the script says so and reports lc_bench alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import subprocess
import sys
import time

ANSWER = json.dumps(
    {"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "42"}}],
     "usage": {"prompt_tokens": 10, "completion_tokens": 1}}
).encode()


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            await asyncio.sleep(latency)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(ANSWER)).encode() + b"\r\n\r\n" + ANSWER)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def serve(sock: socket.socket, latency: float) -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: _handle(r, w, latency), sock=sock, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def run_client(port: int, count: int, concurrency: int) -> float:
    from lc_bench.models import ModelRef
    from lc_bench.runners.base import RunnerContext
    from lc_bench.runners.openai import OpenAIOptions, OpenAIRunner
    from lc_bench.schema import ChatMessage, Request

    runner = OpenAIRunner(
        RunnerContext(model=ModelRef(name="bench", source="bench"), tokenizer=None),  # type: ignore[arg-type]
        OpenAIOptions(base_url=f"http://127.0.0.1:{port}/v1", concurrency=concurrency, timeout_s=30),
    )
    requests = [
        Request(key=f"{n:08d}", messages=(ChatMessage(role="user", content=f"question {n}"),),
                use_chat_template=True, max_new_tokens=8)
        for n in range(count)
    ]
    started = time.perf_counter()
    completions = list(runner.generate(requests))
    elapsed = time.perf_counter() - started
    errors = sum(c.error is not None for c in completions)
    if len(completions) != count or errors:
        raise SystemExit(f"expected {count} answers, got {len(completions)} with {errors} errors")
    return elapsed


# Runs inside lm-eval's own Python: LocalChatCompletion's generate_until on the same requests.
LM_EVAL_CLIENT = """
import json, sys, time
from lm_eval.api.instance import Instance
from lm_eval.models.api_models import JsonChatStr
from lm_eval.models.openai_completions import LocalChatCompletion

port, count, concurrency = (int(x) for x in sys.argv[1:4])
model = LocalChatCompletion(base_url=f"http://127.0.0.1:{port}/v1/chat/completions", model="bench",
                            num_concurrent=concurrency, max_retries=3, tokenizer_backend=None, timeout=30)
requests = [
    Instance("generate_until", {}, (JsonChatStr(json.dumps([{"role": "user", "content": f"question {n}"}])),
             {"max_gen_toks": 8, "until": []}), n)
    for n in range(count)
]
started = time.perf_counter()
answers = model.generate_until(requests, disable_tqdm=True)
elapsed = time.perf_counter() - started
assert len(answers) == count and all(a == "42" for a in answers), answers[:3]
print(elapsed)
"""


def find_lm_eval(python: str | None) -> str | None:
    """The Python to run lm-eval with: the one given, else this one when it has lm_eval."""
    if python:
        return python
    import importlib.util

    return sys.executable if importlib.util.find_spec("lm_eval") is not None else None


def run_lm_eval(python: str, port: int, count: int, concurrency: int) -> float:
    result = subprocess.run(
        [python, "-c", LM_EVAL_CLIENT, str(port), str(count), str(concurrency)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError("lm-eval client failed: " + (result.stderr.strip().splitlines() or ["?"])[-1])
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.25)
    parser.add_argument("--rounds", type=int, default=2, help="rounds; who goes first alternates (>= 2: both orders)")
    parser.add_argument("--lm-eval-python", help="a Python with lm-eval installed, to compare against")
    args = parser.parse_args()
    lm_eval_python = find_lm_eval(args.lm_eval_python)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = multiprocessing.get_context("fork").Process(target=serve, args=(sock, args.latency), daemon=True)
    server.start()
    rounds: list[dict] = []
    lm_eval_problem = None if lm_eval_python else "lm-eval is not installed here (pass --lm-eval-python)"
    try:
        time.sleep(0.5)
        for number in range(max(args.rounds, 1)):
            order = ["lc_bench", "lm-eval"] if number % 2 == 0 else ["lm-eval", "lc_bench"]
            timings: dict = {"first": order[0], "lc_bench": None, "lm-eval": None}
            for client in order:
                if client == "lc_bench":
                    timings[client] = run_client(port, args.requests, args.concurrency)
                elif lm_eval_python and lm_eval_problem is None:
                    try:
                        timings[client] = run_lm_eval(lm_eval_python, port, args.requests, args.concurrency)
                    except RuntimeError as exc:
                        lm_eval_problem = str(exc)
            rounds.append(timings)
    finally:
        server.terminate()
    ideal = args.concurrency / args.latency
    print(f"{args.requests} requests, concurrency {args.concurrency}, server latency {args.latency:g} s, "
          f"{len(rounds)} round(s)")
    print(f"ideal     {ideal:8.1f} requests/s (concurrency / latency)")
    for number, timings in enumerate(rounds, 1):
        ours, peer = timings["lc_bench"], timings["lm-eval"]
        order = f" ({timings['first']} first)" if peer is not None else ""
        line = (f"round {number}{order}: "
                f"lc_bench {args.requests / ours:8.1f} requests/s in {ours:.2f} s")
        if peer is not None:
            line += (f"; lm-eval {args.requests / peer:.1f} requests/s in {peer:.2f} s (local-chat-completions); "
                     f"lc_bench / lm-eval {peer / ours:.2f}x")
        print(line)
    elapsed = statistics.median(t["lc_bench"] for t in rounds)
    achieved = args.requests / elapsed
    verdict = "met" if achieved >= 0.9 * ideal else "MISSED"
    print(f"lc_bench  {achieved:8.1f} requests/s (median of the rounds)")
    print(f"ratio     {achieved / ideal:.3f} of ideal (target >= 0.90: {verdict})")
    for first in ("lc_bench", "lm-eval"):
        ratios = [t["lm-eval"] / t["lc_bench"] for t in rounds if t["first"] == first and t["lm-eval"] is not None]
        if ratios:
            print(f"{first} first: lc_bench / lm-eval {statistics.median(ratios):.2f}x "
                  f"(throughput ratio, median of {len(ratios)} round(s))")
    if lm_eval_problem:
        print(f"lm-eval   not measured: {lm_eval_problem}")


if __name__ == "__main__":
    main()
