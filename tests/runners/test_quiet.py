"""The runners that load transformers turn its progress bars off themselves: the CLI no longer
imports transformers at startup to do it."""

from __future__ import annotations

import sys
from types import ModuleType

import pytest
from transformers.utils import logging as hf_logging

from lc_bench.errors import UsageError
from lc_bench.models import ModelRef
from lc_bench.runners.base import RunnerContext
from lc_bench.runners.hf import HFOptions, HFRunner
from lc_bench.runners.vllm import VLLMOptions, VLLMRunner

GHOST = RunnerContext(model=ModelRef(name="ghost", source="/does/not/exist"), tokenizer=None)  # type: ignore[arg-type]


@pytest.fixture
def bars_on():
    """Progress bars enabled, as in a process that imported transformers before any CLI setting."""
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.enable_progress_bar()
    yield
    (hf_logging.enable_progress_bar if was_enabled else hf_logging.disable_progress_bar)()


def test_the_hf_runner_silences_transformers_before_loading(bars_on):
    with pytest.raises(UsageError, match="cannot load model ghost"):
        HFRunner(GHOST, HFOptions(device="cpu"))
    assert not hf_logging.is_progress_bar_enabled()


def test_the_vllm_runner_silences_transformers_when_it_imports_vllm(bars_on, monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", ModuleType("vllm"))  # only the import is needed here
    VLLMRunner(GHOST, VLLMOptions())
    assert not hf_logging.is_progress_bar_enabled()
