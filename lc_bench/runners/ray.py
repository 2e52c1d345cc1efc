"""`ray`: many machines evaluating one suite, through Ray (an existing distributed engine).

Requests are cut into small chunks and spread over `num_workers` Ray actors, each of which drives
an ordinary `hf` or `vllm` runner on its own GPU(s) or CPUs. Completions come back to this process
as chunks finish and are appended to the one store here, so resume and exactly-once behave as in a
single-process run. The identity is the inner runner's: a run started with `--runner hf` resumes
under `--runner ray` (and back) without regenerating anything.

`address` joins an existing cluster (`ray start --head` ..., or `auto`); without it a local cluster
is started. For one model too large for a GPU, use the vllm runner's own tensor/pipeline
parallelism instead (optionally with `distributed_executor_backend=ray`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain, islice
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.errors import UsageError
from lc_bench.models import ModelRef
from lc_bench.registry import RUNNERS
from lc_bench.runners.base import RunnerContext, RunnerDefaults, RunnerOptions, error_completion, parse_options
from lc_bench.schema import Completion, Request

INSTALL_HINT = "the ray runner needs Ray: pip install 'lc_bench[ray]'"


class RayOptions(RunnerOptions):
    address: str | None = Field(None, description="cluster address (e.g. auto, ray://head:10001); default: local")
    num_workers: int = Field(2, ge=1)
    worker_runner: Literal["hf", "vllm"] = "hf"
    worker_options: dict[str, Any] = Field(default_factory=dict, description="options of each worker's runner")
    num_cpus_per_worker: float = Field(1.0, ge=0)
    num_gpus_per_worker: float = Field(0.0, ge=0)
    chunk_size: int = Field(4, ge=1, description="requests per task: smaller streams sooner, larger batches better")


class _Worker:
    """A Ray actor holding one inner runner (and its loaded model) for the whole run."""

    def __init__(self, runner_name: str, options: dict[str, Any], model: ModelRef) -> None:
        from lc_bench.tokenizers import load_tokenizer

        runner_class = RUNNERS.get(runner_name)
        context = RunnerContext(model=model, tokenizer=load_tokenizer(model))
        self.runner = runner_class(context, parse_options(runner_class, options))

    def generate(self, requests: list[Request]) -> list[Completion]:
        return list(self.runner.generate(requests))


@RUNNERS.register("ray")
class RayRunner(RunnerDefaults):
    """Shards requests over Ray actors that each run an `hf` or `vllm` runner."""

    name: ClassVar[str] = "ray"
    options_model: ClassVar[type[RunnerOptions]] = RayOptions
    feeds_token_ids: ClassVar[bool] = True  # runs the model here, on its own tokenizer's ids
    streams_requests: ClassVar[bool] = True  # chunks are taken from the stream as actors free up

    def __init__(self, context: RunnerContext, options: RayOptions) -> None:
        try:
            import ray
        except ImportError:
            raise UsageError(INSTALL_HINT) from None
        self._ray = ray
        self.context = context
        self.options = options
        # Validate the inner options here, so a typo fails before any actor starts.
        parse_options(RUNNERS.get(options.worker_runner), options.worker_options)
        self._actors: list[Any] = []

    @classmethod
    def identity_of(cls, context: RunnerContext, options: RayOptions) -> dict[str, Any]:
        """The inner runner's identity: the outputs are that runner's outputs, so a run resumes
        under `--runner hf` or `--runner ray` alike."""
        inner_class = RUNNERS.get(options.worker_runner)
        return inner_class.identity_of(context, parse_options(inner_class, options.worker_options))

    def _start(self) -> list[Any]:
        if self._actors:
            return self._actors
        ray = self._ray
        if not ray.is_initialized():
            ray.init(address=self.options.address, include_dashboard=False, log_to_driver=False,
                     ignore_reinit_error=True)
        actor_class = ray.remote(num_cpus=self.options.num_cpus_per_worker,
                                 num_gpus=self.options.num_gpus_per_worker)(_Worker)
        self._actors = [
            actor_class.remote(self.options.worker_runner, self.options.worker_options, self.context.model)
            for _ in range(self.options.num_workers)
        ]
        return self._actors

    def generate(self, requests: Iterable[Request]) -> Iterator[Completion]:
        source = iter(requests)
        first = list(islice(source, self.options.chunk_size))
        if not first:
            return
        ray = self._ray
        actors = self._start()
        # chunks are taken from the stream as actors free up: samples are built while others run,
        # and only the chunks in flight are held
        chunks = chain([first], iter(lambda: list(islice(source, self.options.chunk_size)), []))
        idle = list(actors)
        pending: dict[Any, tuple[Any, list[Request]]] = {}
        while True:
            while idle and (work := next(chunks, None)) is not None:
                actor = idle.pop()
                pending[actor.generate.remote(work)] = (actor, work)
            if not pending:
                break
            done, _ = ray.wait(list(pending), num_returns=1)
            actor, work = pending.pop(done[0])
            idle.append(actor)
            try:
                completions = ray.get(done[0])
            except Exception as exc:  # noqa: BLE001 - a worker failure becomes error records, retried on resume
                completions = [error_completion(request.key, exc) for request in work]
            yield from completions

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []
