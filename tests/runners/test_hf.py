"""The hf runner drives a real (tiny, random) Llama through transformers."""

import pytest

from lc_bench.errors import UsageError
from lc_bench.models import resolve_model
from lc_bench.runners.base import RunnerContext
from lc_bench.runners.hf import HFOptions, HFRunner, plan_batches
from lc_bench.schema import ChatMessage, Request


@pytest.fixture(scope="module")
def runner(tiny_model_dir, tiny_tokenizer):
    ref = resolve_model(str(tiny_model_dir))
    built = HFRunner(RunnerContext(model=ref, tokenizer=tiny_tokenizer), HFOptions(batch_size=4))
    yield built
    built.close()


def test_the_runner_starts_without_the_transformers_tokenizer(runner, tiny_model_dir):
    # the end-of-sequence and padding ids come from the fast path's files: loading the transformers
    # tokenizer for them cost seconds at every start (the plain script it is measured against loads none)
    from lc_bench.tokenizers import load_tokenizer

    tokenizer = load_tokenizer(resolve_model(str(tiny_model_dir)))
    started = HFRunner(RunnerContext(model=resolve_model(str(tiny_model_dir)), tokenizer=tokenizer), HFOptions())
    try:
        assert tokenizer._hf is None
        assert started.eos_ids == runner.eos_ids and started.pad_id == runner.pad_id
        assert tokenizer.hf.eos_token_id in started.eos_ids
    finally:
        started.close()


def make_requests(texts, max_new=6, stop=()):
    return [
        Request(key=f"k{i}", messages=(ChatMessage(role="user", content=t),), use_chat_template=True,
                max_new_tokens=max_new, stop=stop)
        for i, t in enumerate(texts)
    ]


def test_one_completion_per_request_with_exact_prompt_tokens(runner, tiny_tokenizer):
    texts = ["The river ran past the mill. " * n for n in (1, 5, 20, 21)]
    reqs = make_requests(texts)
    out = {c.key: c for c in runner.generate(reqs)}
    assert set(out) == {r.key for r in reqs}
    for request in reqs:
        completion = out[request.key]
        assert completion.error is None
        assert completion.prompt_tokens == tiny_tokenizer.count(request.messages)
        assert 0 < completion.completion_tokens <= 6
        assert completion.finish_reason in ("stop", "length")


def test_greedy_is_deterministic_and_batch_independent(runner):
    reqs = make_requests(["Bread needs time. " * 3, "Bread needs time. " * 3 + "Patience."])
    together = {c.key: c.text for c in runner.generate(reqs)}
    alone = {c.key: c.text for r in reqs for c in runner.generate([r])}
    assert together == alone


def test_a_failing_batch_is_retried_singly_and_errors_are_recorded(runner, monkeypatch):
    original = runner._generate_batch
    calls = []

    def flaky(requests, prompts):
        calls.append(len(requests))
        if len(requests) > 1 or requests[0].key == "k1":
            raise RuntimeError("CUDA out of memory (simulated)")
        return original(requests, prompts)

    monkeypatch.setattr(runner, "_generate_batch", flaky)
    out = {c.key: c for c in runner.generate(make_requests(["a b c. " * 4, "a b c. " * 4, "a b c. " * 4]))}
    assert calls[0] == 3 and calls[1:] == [1, 1, 1]
    assert out["k1"].error.type == "RuntimeError" and out["k1"].finish_reason == "error"
    assert out["k0"].error is None and out["k2"].error is None


def test_batches_are_longest_first_and_bounded():
    lengths = [100, 1000, 990, 500, 1000]
    batches = plan_batches(lengths, [10] * 5, batch_size=2, max_batch_tokens=10**6)
    assert batches[0] == [1, 4] and batches[1] == [2] and batches[2] == [3]
    assert plan_batches([1000, 1000], [10, 10], batch_size=8, max_batch_tokens=1500) == [[0], [1]]
    assert plan_batches([10, 10], [10, 20], batch_size=8, max_batch_tokens=10**6) == [[1], [0]]


def test_identity_leaves_out_placement_options(runner):
    identity = runner.identity()
    assert identity["runner"] == "hf" and "batch_size" not in identity and "device" not in identity


@pytest.mark.parametrize(("device", "message"), [("cuda", "no CUDA GPU is visible"), ("cuda:3", "no CUDA GPU"),
                                                 ("mps", "MPS is not available")])
def test_a_device_the_machine_lacks_is_one_line(device, message):
    import torch

    from lc_bench.runners.hf import usable_device

    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("this machine has an accelerator")
    with pytest.raises(UsageError, match=message):
        usable_device(torch, device)
    assert usable_device(torch, "auto") == "cpu" and usable_device(torch, "cpu") == "cpu"
