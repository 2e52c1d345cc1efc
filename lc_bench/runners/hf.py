"""Hugging Face transformers runner (`hf`): CPU or GPU, greedy by default, batched by length.

Prompts are tokenized with the same `ModelTokenizer.prompt_ids` that tasks use to measure them,
so the model sees exactly the recorded number of input tokens. Requests are sorted longest first
(an out-of-memory error shows up at once, not after hours) and batched with similar lengths to
keep padding small. A failing batch is retried one request at a time; a failing request becomes
an error record.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Annotated, Any, ClassVar, Literal

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
from lc_bench.runners.quiet import quiet_transformers
from lc_bench.schema import Completion, Request


class HFOptions(RunnerOptions):
    device: str = Field("auto", description="auto | cpu | cuda | cuda:N | mps")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    batch_size: Annotated[int, Field(ge=1)] | Literal["auto"] = Field(
        "auto",
        description=(
            "auto: 1 on CPU, 8 on GPU. On CPU a batch runs no faster than its prompts one by one on "
            "long prompts and needs more memory (SmolLM2 on 2 cores: batch 4 of 1.6-2k-token prompts "
            "1.30-1.83x slower and 1.32-1.85x the peak memory of batch 1 in two runs; at 8k, 38 s per "
            "prompt alone vs 51 s batched); tiny models and short prompts can gain from a set N: measure with "
            "benchmarks/hf_batching.py"
        ),
    )
    max_batch_tokens: int = Field(65536, ge=1, description="cap on padded tokens per batch")
    attn_implementation: str | None = Field(None, description="e.g. sdpa, flash_attention_2")


# a runner that sorts or batches takes this many requests (or prompt and reply tokens) at a time from
# the run loop's stream: longest first within a window, and the first batch runs after one window
WINDOW_REQUESTS = 256
WINDOW_TOKENS = 2_000_000


def request_windows(
    requests: Iterable[Request], max_requests: int = WINDOW_REQUESTS, max_tokens: int = WINDOW_TOKENS
) -> Iterator[list[Request]]:
    """Consecutive groups of requests, each closed at `max_requests` or `max_tokens` (input plus
    reply tokens); a list given whole is still cut, so memory stays bounded either way."""
    window: list[Request] = []
    tokens = 0
    for request in requests:
        window.append(request)
        tokens += (request.input_tokens or 0) + request.max_new_tokens
        if len(window) >= max_requests or tokens >= max_tokens:
            yield window
            window, tokens = [], 0
    if window:
        yield window


def plan_batches(
    lengths: Sequence[int], max_new: Sequence[int], batch_size: int, max_batch_tokens: int
) -> list[list[int]]:
    """Indices grouped into batches: longest first; a batch holds prompts within 20% of its
    longest, one output budget, and at most `max_batch_tokens` padded tokens."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], -max_new[i]))
    batches: list[list[int]] = []
    for index in order:
        if batches:
            batch = batches[-1]
            widest = max(lengths[batch[0]], lengths[index]) + max_new[batch[0]]
            if (
                len(batch) < batch_size
                and max_new[batch[0]] == max_new[index]
                and lengths[index] * 5 >= lengths[batch[0]] * 4  # within 20%: little padding
                and widest * (len(batch) + 1) <= max_batch_tokens
            ):
                batch.append(index)
                continue
        batches.append([index])
    return batches


def usable_device(torch: Any, requested: str) -> str:
    """The device to load onto; one line (before the model loads) when the machine lacks it."""
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = requested.partition(":")[2]
        if count == 0:
            raise UsageError(f"runner hf: device={requested} but no CUDA GPU is visible; use device=cpu or auto")
        if index and (not index.isdigit() or int(index) >= count):
            raise UsageError(f"runner hf: device={requested} but {count} CUDA GPU(s) are visible (cuda:0-{count - 1})")
    if requested == "mps" and not torch.backends.mps.is_available():
        raise UsageError("runner hf: device=mps but MPS is not available here; use device=cpu or auto")
    return requested


@RUNNERS.register("hf")
class HFRunner(RunnerDefaults):
    """Hugging Face transformers on CPU or GPU; HF folders and GGUF files."""

    name: ClassVar[str] = "hf"
    # generate() takes any iterable of requests, a window at a time: the run loop streams samples into it
    streams_requests: ClassVar[bool] = True
    options_model: ClassVar[type[RunnerOptions]] = HFOptions
    feeds_token_ids: ClassVar[bool] = True  # runs the model here, on its own tokenizer's ids
    # batch composition can change padded numerics slightly, but not what is being evaluated
    volatile_options: ClassVar[tuple[str, ...]] = ("device", "batch_size", "max_batch_tokens")

    def __init__(self, context: RunnerContext, options: HFOptions) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        quiet_transformers()
        self.context = context
        self.options = options
        self.tokenizer = context.tokenizer
        device = usable_device(torch, options.device)
        dtype: Any = "auto" if options.dtype == "auto" else getattr(torch, options.dtype)
        if options.dtype == "auto" and device == "cpu":
            dtype = torch.float32  # half precision on CPU is slow and, for small models, wrong
        kwargs: dict[str, Any] = {"dtype": dtype}
        if options.attn_implementation:
            kwargs["attn_implementation"] = options.attn_implementation
        model = context.model
        try:
            self.model = AutoModelForCausalLM.from_pretrained(
                model.source, gguf_file=model.gguf_file, **kwargs
            )
        except Exception as exc:  # noqa: BLE001 - any loader failure is bad input
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UsageError(f"cannot load model {model.name}: {first}") from None
        self.model.to(device)
        self.model.eval()
        self.device = device
        self.batch_size = options.batch_size if options.batch_size != "auto" else (1 if device == "cpu" else 8)
        self.torch = torch
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        eos_id = self.tokenizer.special_token_id("eos_token")
        if eos_id is not None:
            self.eos_ids.add(eos_id)
        pad = self.tokenizer.special_token_id("pad_token")
        self.pad_id = pad if pad is not None else (min(self.eos_ids) if self.eos_ids else 0)

    def generate(self, requests: Iterable[Request]) -> Iterator[Completion]:
        """Requests are taken a window at a time (`request_windows`), so the first batch runs while
        later samples are still being built; a prompt becomes ids only when its batch runs."""
        for window in request_windows(requests):
            yield from self._generate_window(window)

    def _generate_window(self, requests: list[Request]) -> Iterator[Completion]:
        for batch in self._batches(requests):
            members = [requests[i] for i in batch]
            try:
                yield from self._generate_batch(members, [self._prompt_ids(r) for r in members])
            except Exception as exc:  # noqa: BLE001 - recorded per request, never fatal
                if len(batch) == 1:
                    yield error_completion(requests[batch[0]].key, exc)
                    continue
                self._free_memory()
                for request in members:
                    try:
                        yield from self._generate_batch([request], [self._prompt_ids(request)])
                    except Exception as single_exc:  # noqa: BLE001
                        yield error_completion(request.key, single_exc)
                        self._free_memory()

    def _prompt_ids(self, request: Request) -> list[int]:
        return self.tokenizer.prompt_ids(request.messages, request.use_chat_template, request.answer_prefix)

    def _prompt_len(self, request: Request) -> int:
        """The prompt's token count for batching: the recorded count (the tasks measured it with the
        same `prompt_ids`), or the ids themselves for a request that has none."""
        return request.input_tokens if request.input_tokens is not None else len(self._prompt_ids(request))

    def _batches(self, requests: Sequence[Request]) -> list[list[int]]:
        """Batches of request indices; requests with other token stops never share one (the end
        ids and the minimum length are per `generate` call)."""
        groups: dict[tuple[tuple[str, ...], int], list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault((request.stop_tokens, request.min_new_tokens), []).append(index)
        batches = []
        for members in groups.values():
            planned = plan_batches(
                [self._prompt_len(requests[i]) for i in members],
                [requests[i].max_new_tokens for i in members],
                self.batch_size,
                self.options.max_batch_tokens,
            )
            batches.extend([members[i] for i in batch] for batch in planned)
        return batches

    def _generate_batch(self, requests: list[Request], prompts: list[list[int]]) -> list[Completion]:
        torch = self.torch
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):  # left padding keeps every prompt's end aligned
            input_ids[row, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
            attention[row, width - len(prompt) :] = 1
        first = requests[0]
        kwargs: dict[str, Any] = {
            "max_new_tokens": first.max_new_tokens,
            "pad_token_id": self.pad_id,
        }
        if first.params.temperature > 0:
            torch.manual_seed(first.params.seed)
            kwargs.update(do_sample=True, temperature=first.params.temperature, top_p=first.params.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        extra_ends = stop_token_ids(self.tokenizer, first.stop_tokens)
        if extra_ends or first.min_new_tokens:
            # LongBench's samsum: eos_token_id gains the newline id; min_length keeps it (and the
            # end of sequence) from ending the reply at its first token
            kwargs.update(eos_token_id=sorted(self.eos_ids | set(extra_ends)), min_new_tokens=first.min_new_tokens)
        stops = sorted({s for r in requests for s in r.stop})
        if stops:
            kwargs.update(stop_strings=stops, tokenizer=self.tokenizer.hf)
        started = time.perf_counter()
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids.to(self.device), attention_mask=attention.to(self.device), **kwargs
            )
        latency = (time.perf_counter() - started) / len(requests)
        completions = []
        for row, request in enumerate(requests):
            new_ids = output[row, width:].tolist()
            completions.append(self._completion(request, len(prompts[row]), new_ids, latency))
        return completions

    def _completion(self, request: Request, prompt_tokens: int, new_ids: list[int], latency: float) -> Completion:
        ends = self.eos_ids | set(stop_token_ids(self.tokenizer, request.stop_tokens))
        end = next(
            (i for i, token in enumerate(new_ids) if token in ends and i >= request.min_new_tokens), None
        )
        generated = new_ids if end is None else new_ids[:end]
        text, stopped = cut_at_stop(self.tokenizer.decode(generated), request.stop)
        finished = end is not None or stopped or len(generated) < request.max_new_tokens
        return Completion(
            key=request.key,
            text=text,
            finish_reason="stop" if finished else "length",
            prompt_tokens=prompt_tokens,
            completion_tokens=len(generated) + (1 if end is not None else 0),
            latency_s=round(latency, 4),
        )

    def _free_memory(self) -> None:
        if self.device.startswith("cuda"):
            self.torch.cuda.empty_cache()

    def close(self) -> None:
        del self.model
        self._free_memory()
