"""The `tokenizers` + jinja2 fast path gives exactly what transformers' AutoTokenizer gives, and
loading through it imports neither transformers nor torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lc_bench.models import resolve_model
from lc_bench.schema import ChatMessage
from lc_bench.tokenizers import ModelTokenizer, load_fast, load_tokenizer
from tests.helpers import HANG_GUARD_S

HAYSTACK = (
    "The lantern hung by the  door.\n\nIt was   lit at dusk; nobody knew who lit it. "
    "Naïve café owners — 東京 and Zürich — counted 1,234,567 coins 🪙 before\tdawn.  "
)
CONVERSATIONS = [
    (ChatMessage(role="user", content="Where is the lantern?"),),
    (
        ChatMessage(role="system", content="Answer briefly."),
        ChatMessage(role="user", content=HAYSTACK * 5 + "\nWhat was counted?"),
    ),
    (
        ChatMessage(role="user", content="first question"),
        ChatMessage(role="assistant", content=" an answer with spaces  "),
        ChatMessage(role="user", content="and <|end|> <|im_end|> inside the text\n"),
    ),
    (ChatMessage(role="user", content=""),),
]
PREFIXES = ["", "The answer is", " Answer:\n"]


def assert_same(fast: ModelTokenizer, slow: ModelTokenizer) -> None:
    assert fast.fast is not None and slow.fast is None
    assert fast.has_chat_template == slow.has_chat_template
    assert fast.chat_template_sha256 == slow.chat_template_sha256
    for name in ("eos_token", "pad_token", "bos_token", "unk_token", "mask_token"):
        assert fast.special_token_id(name) == slow.special_token_id(name) == getattr(slow.hf, f"{name}_id"), name
    for messages in CONVERSATIONS:
        for use_chat_template in (True, False):
            for prefix in PREFIXES:
                text = fast.render(messages, use_chat_template, prefix)
                assert text == slow.render(messages, use_chat_template, prefix)
                ids = fast.prompt_ids(messages, use_chat_template, prefix)
                assert ids == slow.prompt_ids(messages, use_chat_template, prefix)
                assert fast.count(messages, use_chat_template, prefix) == len(ids)
                assert fast.encode_rendered(text, use_chat_template) == slow.encode_rendered(text, use_chat_template)
                assert fast.decode(ids) == slow.decode(ids)
    for text in (HAYSTACK, HAYSTACK * 20, " leading space", "", "<|end|>x<pad>"):
        assert fast.encode(text) == slow.encode(text)
        for special in (False, True):
            assert fast.encode_with_offsets(text, special) == slow.encode_with_offsets(text, special)
        assert fast.decode(fast.encode(text)) == slow.decode(slow.encode(text))


def test_tiny_model_fast_path_matches_transformers(tiny_model_dir):
    ref = resolve_model(str(tiny_model_dir))
    fast, slow = load_tokenizer(ref), load_tokenizer(ref, fast=False)
    assert fast.backend.startswith("tokenizers ") and slow.backend.startswith("transformers ")
    assert_same(fast, slow)


def test_the_transformers_object_is_built_on_first_use(tiny_model_dir):
    fast = load_fast(resolve_model(str(tiny_model_dir)))
    assert fast is not None and fast._hf is None
    assert fast.hf.eos_token == "<|end|>" and fast.hf.chat_template == fast.chat_template


def copy_tokenizer(source: Path, target: Path, **config_changes) -> Path:
    target.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "config.json"):
        if (source / name).exists():
            (target / name).write_bytes((source / name).read_bytes())
    config = json.loads((target / "tokenizer_config.json").read_text())
    config.update(config_changes)
    (target / "tokenizer_config.json").write_text(json.dumps(config))
    return target


@pytest.mark.parametrize("changes", [
    {"tokenizer_class": "LlamaTokenizer"},
    {"add_bos_token": True},
    {"chat_template": [{"name": "default", "template": "{{ messages }}"}]},
    {"chat_template": "{% generation %}{{ messages[0]['content'] }}{% endgeneration %}"},
    {"bos_token": "<not-in-vocab>"},
    {"image_token": "<img>"},
])
def test_configs_transformers_would_change_take_the_transformers_path(tiny_model_dir, tmp_path, changes):
    folder = copy_tokenizer(tiny_model_dir, tmp_path / "copy", **changes)
    assert load_fast(resolve_model(str(folder))) is None


def test_a_template_in_the_config_renders_like_transformers(tiny_model_dir, tmp_path):
    template = (
        "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system') }}"
        "{% endif %}[{{ m['role'] | upper }}] {{ m['content'] | trim }} {{ m | tojson }}\n{% endfor %}"
        "{% if add_generation_prompt %}[ASSISTANT]{{ eos_token }}{% endif %}"
    )
    folder = copy_tokenizer(tiny_model_dir, tmp_path / "copy", chat_template=template, bos_token="<|system|>")
    ref = resolve_model(str(folder))
    fast, slow = load_fast(ref), load_tokenizer(ref, fast=False)
    assert fast is not None and fast.chat_template == template
    messages = (ChatMessage(role="user", content="  hi \"there\" é  "), ChatMessage(role="assistant", content="ok"))
    assert fast.render(messages, answer_prefix="x") == slow.render(messages, answer_prefix="x")
    assert fast.prompt_ids(messages) == slow.prompt_ids(messages)
    from jinja2.exceptions import TemplateError

    with pytest.raises(TemplateError, match="no system"):
        fast.render((ChatMessage(role="system", content="s"),))


def test_loading_imports_neither_transformers_nor_torch(tiny_model_dir):
    code = (
        "import sys\n"
        "from lc_bench.models import resolve_model\n"
        "from lc_bench.tokenizers import load_tokenizer\n"
        f"tok = load_tokenizer(resolve_model({str(tiny_model_dir)!r}))\n"
        "from lc_bench.schema import ChatMessage\n"
        "tok.count((ChatMessage(role='user', content='hello'),))\n"
        "from lc_bench.models import context_window\n"
        f"assert context_window(resolve_model({str(tiny_model_dir)!r})) > 0  # the run's window check too\n"
        "print(tok.backend, 'torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_GUARD_S, check=True,
    )
    backend, torch_loaded, transformers_loaded = result.stdout.split()[-3:]
    assert result.stdout.startswith("tokenizers ")
    assert (torch_loaded, transformers_loaded) == ("False", "False")


def test_an_echo_run_goes_through_the_fast_path(tiny_model_dir, tmp_path):
    import lc_bench

    result = lc_bench.evaluate(
        model=str(tiny_model_dir), tasks="niah_single_1", lengths=[1024], depths="0,100", runner="echo",
        out=tmp_path, name="fast", write_outputs=False,
    )
    assert result.summary.generated == 2
    assert list(result.records["score"]) == [100.0, 100.0]
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["tokenizer_backend"].startswith("tokenizers ")
    slow = load_tokenizer(resolve_model(str(tiny_model_dir)), fast=False)
    for row in result.records.itertuples():
        assert row.input_tokens > 0
    assert slow.chat_template_sha256 == manifest["chat_template_sha256"]


@pytest.mark.integration
def test_smollm2_fast_path_matches_transformers(smollm2_dir):
    from lc_bench.models import default_model

    ref = default_model()
    fast, slow = load_tokenizer(ref), load_tokenizer(ref, fast=False)
    assert_same(fast, slow)


def test_the_window_is_read_from_config_json_without_transformers(tmp_path):
    from lc_bench.models import ModelRef, _window_in_json, context_window

    nested = tmp_path / "vlm"
    nested.mkdir()
    config = {"model_type": "x", "text_config": {"max_position_embeddings": 32768}}
    (nested / "config.json").write_text(json.dumps(config))
    assert context_window(ModelRef(name="vlm", source=str(nested), gguf_file=None, is_local=True)) == 32768
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"n_positions": 1024, "max_position_embeddings": True}))
    assert _window_in_json(flat) == 1024  # a boolean is not a window
    flat.write_text("{not json")
    assert _window_in_json(flat) is None  # unreadable: transformers decides
