"""Shared fixtures: a tiny random model (unit tier) and the real SmolLM2 (integration tier)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
# a gate run inside the tests must never append to the real job summary of a GitHub Actions run
os.environ.pop("GITHUB_STEP_SUMMARY", None)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.helpers.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir: Path):
    from lc_bench.models import resolve_model
    from lc_bench.tokenizers import load_tokenizer

    return load_tokenizer(resolve_model(str(tiny_model_dir)))


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """The embedded default model, converted once per machine into the lc_bench cache."""
    from lc_bench.errors import UsageError
    from lc_bench.models import default_model

    try:
        return Path(default_model().source)
    except UsageError as exc:  # the package is part of `make test`'s install
        pytest.fail(f"default model unavailable: {exc}")


@pytest.fixture(scope="session")
def smollm2_tokenizer(smollm2_dir: Path):
    from lc_bench.models import default_model
    from lc_bench.tokenizers import load_tokenizer

    return load_tokenizer(default_model())
