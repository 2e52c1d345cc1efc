"""Streaming: grid samples are built while the runner already works on the first requests."""

from __future__ import annotations

from types import SimpleNamespace

from lc_bench.runloop import STREAM_CHUNK, spec_chunks
from lc_bench.runners.testing import EchoRunner
from lc_bench.tasks.base import BuildContext, TaskBase
from lc_bench.tasks.niah import Niah
from tests.test_resume_keys import build_calls, grid_tasks, run  # noqa: F401 - fixtures


def test_the_runner_sees_its_first_request_before_the_last_sample_is_built(
    tiny_model_dir, tmp_path, build_calls, monkeypatch  # noqa: F811
):
    seen: list[tuple[str, int]] = []  # (request key, builds done when the runner took it)
    original = EchoRunner.generate

    def generate(self, requests):
        def recorded():
            for request in requests:
                seen.append((request.key, len(build_calls)))
                yield request

        return original(self, recorded())

    monkeypatch.setattr(EchoRunner, "generate", generate)
    result = run(tiny_model_dir, tmp_path, lengths=(1024, 2048), tasks="niah_single_1")
    cells = 2 * 2  # lengths x depths, one build per cell
    checks = 1  # one sample of every other pending length, tried before the run (bad input first)
    assert result.summary.generated == 8 and len(seen) == 8 and len(build_calls) == cells + checks
    assert seen[0][1] == 1 + checks  # only the first cell was built when the first request went out
    assert [builds for _, builds in seen] == sorted(builds for _, builds in seen)
    assert set(result.records["score"]) == {100.0}


class Counted(TaskBase):
    """A grid task that builds only the indices asked (`context.cell_indices()`)."""

    name = "counted"
    grid_task = True
    builds_indices = True

    def __init__(self) -> None:
        self.built: list[int] = []

    def build(self, context):
        samples = []
        for length in context.lengths:
            for index in context.cell_indices():
                self.built.append(index)
                samples.append(SimpleNamespace(sample_id=f"counted/{length}/{index}"))
        return samples


def test_a_task_that_builds_only_the_asked_indices_is_built_in_small_chunks(tiny_tokenizer):
    task = Counted()
    context = BuildContext(tokenizer=tiny_tokenizer, lengths=(1024,), depths=(), samples_per_cell=20, seed=0)
    specs = task.specs(context)
    chunks = list(spec_chunks(task, specs[3:]))
    assert [len(chunk) for chunk in chunks] == [STREAM_CHUNK, STREAM_CHUNK, 17 - 2 * STREAM_CHUNK]
    samples = task.build_cell(context, 1024, None, [spec.index for spec in chunks[0]])
    assert [s.sample_id for s in samples] == [f"counted/1024/{i}" for i in range(3, 3 + STREAM_CHUNK)]
    assert task.built == list(range(3, 3 + STREAM_CHUNK))
    assert task.build_one(context, specs[19]).sample_id == "counted/1024/19" and task.built[-1] == 19


def make_requests(count: int, tokens: int = 100):
    from lc_bench.schema import ChatMessage, GenerationParams, Request

    return [
        Request(key=f"k{i}", messages=(ChatMessage(role="user", content=f"q{i}"),), input_tokens=tokens + i,
                max_new_tokens=8, params=GenerationParams(), use_chat_template=True)
        for i in range(count)
    ]


def test_request_windows_close_at_a_count_or_a_token_budget():
    from lc_bench.runners.hf import request_windows

    requests = make_requests(10)
    assert [len(w) for w in request_windows(iter(requests), max_requests=4)] == [4, 4, 2]
    assert [len(w) for w in request_windows(requests, max_requests=100, max_tokens=250)] == [3, 3, 3, 1]
    assert [r.key for w in request_windows(requests, max_requests=3) for r in w] == [r.key for r in requests]


class FakeEngine:
    """vLLM's engine as the runner uses it: requests added, then stepped; one finishes per step."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.queue: list[str] = []

    def add_request(self, key, prompt, sampling):
        self.log.append(f"add {key}")
        self.queue.append(key)

    def has_unfinished_requests(self):
        return bool(self.queue)

    def step(self):
        key = self.queue.pop(0)
        self.log.append(f"done {key}")
        return [SimpleNamespace(request_id=key, finished=True)]


def test_vllm_takes_requests_a_window_at_a_time_and_tokenizes_them_as_they_join(monkeypatch):
    from lc_bench.runners import hf, vllm
    from lc_bench.schema import Completion

    log: list[str] = []
    engine = FakeEngine(log)
    runner = object.__new__(vllm.VLLMRunner)
    runner._llm, runner._model_len = SimpleNamespace(llm_engine=engine), 10_000
    monkeypatch.setattr(hf, "WINDOW_REQUESTS", 4)
    monkeypatch.setattr(vllm, "request_windows", lambda requests: hf.request_windows(requests, max_requests=4))
    monkeypatch.setattr(runner, "_engine", lambda needed: runner._llm, raising=False)
    monkeypatch.setattr(runner, "_sampling", lambda request: None, raising=False)

    def prompt_ids(request):
        log.append(f"tokenize {request.key}")
        return [0] * request.input_tokens

    monkeypatch.setattr(runner, "_prompt_ids", prompt_ids, raising=False)
    monkeypatch.setattr(runner, "_completion", lambda request, output, n: Completion(key=request.key, text=str(n)),
                        raising=False)

    def stream():
        for request in make_requests(10):
            log.append(f"built {request.key}")
            yield request

    completions = list(runner.generate(stream()))
    assert sorted(c.key for c in completions) == sorted(f"k{i}" for i in range(10))
    assert {c.key: c.text for c in completions}["k3"] == "103"
    assert log.index("done k3") < log.index("built k9")  # generation began before the last sample existed
    assert log.index("tokenize k8") > log.index("done k3")  # ids made only as a window joins
    assert log[:4] == ["built k0", "built k1", "built k2", "built k3"]
    assert log[8] == "add k3"  # longest first within a window


def test_a_length_a_task_cannot_fill_is_refused_before_anything_is_written(tiny_model_dir, tmp_path):
    """Streaming builds cells during the run, so each pending length is tried once beforehand: cwe's
    fixed parts outgrow the 4k budget with the tiny tokenizer, while 2k builds."""
    from tests.e2e.test_cli import lc_bench_in_process

    out = tmp_path / "results"
    result = lc_bench_in_process("run", "--tasks", "cwe", "--lengths", "2k,4k", "--runner", "echo", "--model",
                                 str(tiny_model_dir), "--out", str(out), check_rc=2)
    assert result.stderr.strip().splitlines()[-1].startswith("lc-bench: error: task cwe: the prompt's fixed parts")
    assert not out.exists()


def test_an_api_run_sends_its_first_request_before_the_last_sample_is_built(
    tiny_model_dir, tmp_path, build_calls, monkeypatch  # noqa: F811
):
    """The openai runner pulls requests from the stream on a thread of its own: the endpoint is
    answering the first cell's requests while later cells are still being built."""
    import time

    import lc_bench
    from tests.helpers.fake_openai import FakeOpenAIServer

    built_at: list[float] = []
    waited: list[bool] = []
    original = Niah.build

    def build(self, context):
        # the last cell (a streamed chunk, not the one-sample check before the run) waits for the
        # endpoint's first request: it arrives only if requests go out while cells are being built
        if context.lengths == (3072,) and len(context.cell_indices()) == 2 and context.depths == (100.0,):
            deadline = time.monotonic() + 120  # a hang guard: without streaming no request comes
            while not server.state.attempts and time.monotonic() < deadline:
                time.sleep(0.01)
            waited.append(bool(server.state.attempts))
        samples = original(self, context)
        built_at.append(time.monotonic())
        return samples

    monkeypatch.setattr(Niah, "build", build)
    monkeypatch.setenv("FAKE_API_KEY", "sk-stream-test")
    with FakeOpenAIServer() as server:
        result = lc_bench.evaluate(
            model=str(tiny_model_dir), tasks="niah_single_1", lengths=[1024, 2048, 3072], depths="0,100",
            runner="openai", runner_options={"base_url": server.url, "api_key_env": "FAKE_API_KEY"},
            out=tmp_path, name="api", write_outputs=False, samples=2,
        )
        first_request = min(attempt.at for attempt in server.state.attempts)
    assert result.summary.generated == 12 and set(result.records["score"]) == {100.0}
    assert waited == [True]  # the endpoint had a request while the last cell was still to be built
    assert len(built_at) >= 6 and first_request < max(built_at)


def test_a_request_that_cannot_be_sent_becomes_an_error_record(tiny_model_dir, tmp_path, monkeypatch):
    """An exception before the HTTP call (e.g. a template refusing a message) is recorded for its
    sample, never lost in an event-loop callback."""
    import lc_bench
    from lc_bench.runners.openai import OpenAIRunner
    from tests.helpers.fake_openai import FakeOpenAIServer

    original = OpenAIRunner._complete
    failed: list[str] = []

    async def complete(self, session, request, gate, limits):
        if not failed:
            failed.append(request.key)
            raise RuntimeError("cannot render this request")
        return await original(self, session, request, gate, limits)

    monkeypatch.setattr(OpenAIRunner, "_complete", complete)
    monkeypatch.setenv("FAKE_API_KEY", "sk-stream-test")
    with FakeOpenAIServer() as server:
        result = lc_bench.evaluate(
            model=str(tiny_model_dir), tasks="niah_single_1", lengths=[1024], depths="0,100", runner="openai",
            runner_options={"base_url": server.url, "api_key_env": "FAKE_API_KEY"},
            out=tmp_path, name="api", write_outputs=False, samples=2,
        )
    assert result.summary.generated == 4 and result.summary.errors == 1
    import json

    rows = [json.loads(line) for line in (result.run_dir / "records.jsonl").read_text().splitlines()]
    errors = [row["completion"]["error"] for row in rows if row["completion"]["error"]]
    assert [(row["key"]) for row in rows if row["completion"]["error"]] == failed
    assert len(errors) == 1 and "cannot render this request" in errors[0]["message"]


def test_every_sample_of_a_run_is_built_once(tiny_model_dir, tmp_path, grid_tasks, monkeypatch):  # noqa: F811
    # the one sample per other length tried before the run (bad input first) is kept for the stream,
    # which builds only the samples not built yet
    built: list[tuple[str, int, float | None, int]] = []
    original = TaskBase.build_cell

    def build_cell(self, context, length, depth, indices):
        built.extend((self.name, length, depth, index) for index in indices)
        return original(self, context, length, depth, indices)

    monkeypatch.setattr(TaskBase, "build_cell", build_cell)
    result = run(tiny_model_dir, tmp_path, lengths=(1024, 2048, 3072), tasks="niah_single_1,vt")
    assert result.summary.generated == 3 * 2 * 2 + 3 * 2
    assert len(built) == len(set(built)) == result.summary.generated
