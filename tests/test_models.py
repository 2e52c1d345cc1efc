import pytest

from lc_bench.errors import UsageError
from lc_bench.models import context_window, resolve_model


def test_local_folder(tiny_model_dir):
    ref = resolve_model(str(tiny_model_dir))
    assert ref.is_local and ref.gguf_file is None
    assert context_window(ref) == 32768


def test_missing_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="model path not found"):
        resolve_model(str(tmp_path / "nope"))
    with pytest.raises(UsageError, match="model path not found"):
        resolve_model("./weights.gguf")


def test_folder_without_a_model_is_refused(tmp_path):
    with pytest.raises(UsageError, match="no config.json"):
        resolve_model(str(tmp_path))


def test_hub_ids_are_kept_for_users_with_network():
    ref = resolve_model("meta-llama/Llama-3.1-8B-Instruct")
    assert not ref.is_local and ref.source == "meta-llama/Llama-3.1-8B-Instruct"
