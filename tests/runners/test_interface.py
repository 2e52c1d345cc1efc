"""The declared runner interface: every registered runner has every `Runner` member, and identities
are computed from the class alone and never change (every resume key of existing runs hashes them)."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from lc_bench.errors import UsageError
from lc_bench.models import ModelRef
from lc_bench.registry import RUNNERS
from lc_bench.runners.base import Runner, RunnerContext, RunnerDefaults, RunnerOptions, parse_options

# A model that does not exist: computing an identity must not try to load it.
GHOST = RunnerContext(model=ModelRef(name="org/some-model", source="/does/not/exist"), tokenizer=None)  # type: ignore[arg-type]

CLASS_MEMBERS = ("name", "options_model", "feeds_token_ids", "volatile_options")
METHODS = ("identity_of", "identity", "served_by", "prepare", "generate", "usage_summary", "close")


def test_the_protocol_declares_every_member_the_run_loop_uses():
    declared = {name for name in vars(Runner) if not name.startswith("_")} | set(Runner.__annotations__)
    assert declared == {*CLASS_MEMBERS, *METHODS, "context", "options"}


@pytest.mark.parametrize("name", RUNNERS.names())
def test_every_registered_runner_satisfies_the_protocol(name):
    runner_class = RUNNERS.get(name)
    assert runner_class.name == name
    assert issubclass(runner_class.options_model, RunnerOptions)
    assert isinstance(runner_class.feeds_token_ids, bool)
    # a misspelt volatile option would silently stay in the identity
    assert set(runner_class.volatile_options) <= set(runner_class.options_model.model_fields)
    for method in METHODS:
        assert callable(getattr(runner_class, method)), method
        ours = list(inspect.signature(getattr(runner_class, method)).parameters)
        declared = list(inspect.signature(getattr(Runner, method)).parameters)
        assert ours == declared, f"{name}.{method}{ours} != Runner.{method}{declared}"
    assert list(inspect.signature(runner_class).parameters) == ["context", "options"]


def test_only_runners_that_tokenize_for_the_model_refuse_a_separate_tokenizer():
    feeding = {name for name in RUNNERS.names() if RUNNERS.get(name).feeds_token_ids}
    assert {"hf", "vllm", "ray"} <= feeding and not feeding & {"openai", "echo", "constant"}


# Hard-computed from the per-runner `runner_identity(...)` calls these replaced: do not edit.
PINNED = [
    ("echo", {}, {"runner": "echo", "model": "org/some-model", "text": "I do not know.", "script": None}),
    ("echo", {"text": "x", "delay_s": 1.0, "fail_every": 3, "script": "/tmp/s.json"},
     {"runner": "echo", "model": "org/some-model", "text": "x", "script": "/tmp/s.json"}),
    ("constant", {"text": "nope"}, {"runner": "constant", "model": "org/some-model", "text": "nope", "script": None}),
    ("hf", {}, {"runner": "hf", "model": "org/some-model", "dtype": "auto", "attn_implementation": None}),
    ("hf", {"device": "cpu", "dtype": "bfloat16", "batch_size": 2, "max_batch_tokens": 9,
            "attn_implementation": "sdpa"},
     {"runner": "hf", "model": "org/some-model", "dtype": "bfloat16", "attn_implementation": "sdpa"}),
    ("vllm", {}, {"runner": "vllm", "model": "org/some-model", "dtype": "auto", "quantization": None}),
    ("vllm", {"tensor_parallel_size": 2, "dtype": "float16", "quantization": "awq", "max_num_seqs": 4,
              "cpu_kv_cache_gib": 3, "max_model_len": 4096, "enforce_eager": True},
     {"runner": "vllm", "model": "org/some-model", "dtype": "float16", "quantization": "awq"}),
    ("openai", {}, {"runner": "openai", "model": "org/some-model", "served_model": "org/some-model", "mode": "chat",
                    "extra_body": {}}),
    ("openai", {"base_url": "https://x/v1", "served_model": "srv", "mode": "completions", "api_key_env": "K",
                "concurrency": 3, "extra_body": {"top_k": 1}, "price_input_per_mtok": 1.0},
     {"runner": "openai", "model": "org/some-model", "served_model": "srv", "mode": "completions",
      "extra_body": {"top_k": 1}}),
    ("ray", {}, {"runner": "hf", "model": "org/some-model", "dtype": "auto", "attn_implementation": None}),
    ("ray", {"worker_runner": "vllm", "num_workers": 5, "worker_options": {"dtype": "bfloat16", "max_num_seqs": 2}},
     {"runner": "vllm", "model": "org/some-model", "dtype": "bfloat16", "quantization": None}),
]


@pytest.mark.parametrize(("name", "options", "expected"), PINNED)
def test_identities_are_unchanged_and_need_no_model(name, options, expected):
    runner_class = RUNNERS.get(name)
    identity = runner_class.identity_of(GHOST, parse_options(runner_class, options))
    assert list(identity.items()) == list(expected.items())


@pytest.mark.parametrize(
    ("worker_runner", "worker_options"),
    [("hf", {"batch_size": 3, "dtype": "float16"}), ("vllm", {"tensor_parallel_size": 4, "quantization": "awq"})],
)
def test_ray_identity_is_the_inner_runners(worker_runner, worker_options):
    ray_class, inner_class = RUNNERS.get("ray"), RUNNERS.get(worker_runner)
    options = parse_options(ray_class, {"worker_runner": worker_runner, "worker_options": worker_options,
                                        "num_workers": 7, "chunk_size": 1})
    inner = inner_class.identity_of(GHOST, parse_options(inner_class, worker_options))
    assert ray_class.identity_of(GHOST, options) == inner


def test_a_built_ray_runner_reports_the_inner_identity_and_checks_worker_options():
    pytest.importorskip("ray")
    ray_class, hf_class = RUNNERS.get("ray"), RUNNERS.get("hf")
    runner = ray_class(GHOST, parse_options(ray_class, {"worker_options": {"dtype": "bfloat16"}}))
    assert runner.identity() == hf_class.identity_of(GHOST, parse_options(hf_class, {"dtype": "bfloat16"}))
    with pytest.raises(UsageError, match="runner hf: option batch_sise"):
        ray_class(GHOST, parse_options(ray_class, {"worker_options": {"batch_sise": 2}}))


def test_computing_identities_imports_no_model_library():
    script = (
        "import sys\n"
        "from lc_bench.models import ModelRef\n"
        "from lc_bench.registry import RUNNERS\n"
        "from lc_bench.runners.base import RunnerContext, parse_options\n"
        "context = RunnerContext(model=ModelRef(name='m', source='/does/not/exist'), tokenizer=None)\n"
        "for name in ('echo', 'constant', 'hf', 'vllm', 'openai', 'ray'):\n"
        "    cls = RUNNERS.get(name)\n"
        "    cls.identity_of(context, parse_options(cls, {}))\n"
        "print(sorted(m for m in ('torch', 'transformers', 'vllm', 'ray', 'aiohttp') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


class _Minimal(RunnerDefaults):
    """A runner that overrides nothing optional."""

    name = "minimal"
    options_model = RunnerOptions

    def __init__(self, context: RunnerContext, options: RunnerOptions) -> None:
        self.context = context
        self.options = options


def test_defaults_are_inert_and_identity_is_the_class_identity():
    runner = _Minimal(GHOST, RunnerOptions())
    assert runner.feeds_token_ids is False and runner.volatile_options == ()
    assert runner.prepare(10_000) is None and runner.usage_summary() is None and runner.close() is None
    assert runner.identity() == _Minimal.identity_of(GHOST, RunnerOptions()) == {
        "runner": "minimal", "model": "org/some-model"
    }


def test_a_subclass_identity_uses_its_own_volatile_options():
    class Options(RunnerOptions):
        placement: str = "here"
        answer_style: str = "short"

    class Placed(_Minimal):
        options_model = Options
        volatile_options = ("placement",)

    assert Placed.identity_of(GHOST, Options(placement="there")) == {
        "runner": "minimal", "model": "org/some-model", "answer_style": "short"
    }
