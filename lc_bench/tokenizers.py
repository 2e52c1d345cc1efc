"""The model's own tokenizer: the single definition of "length" in lc_bench.

Tasks measure prompts with `prompt_ids`, and local runners feed exactly those ids to the model,
so the recorded input length is the length the model saw.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from lc_bench.errors import UsageError
from lc_bench.models import ModelRef
from lc_bench.schema import ChatMessage


class ModelTokenizer:
    """Wraps a Hugging Face tokenizer with the few operations lc_bench needs."""

    def __init__(self, hf_tokenizer: Any, name: str, backend: str = "transformers") -> None:
        self.hf = hf_tokenizer
        self.name = name
        self.backend = backend  # which library produced the ids (the manifest says)

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.hf, "chat_template", None))

    @property
    def chat_template_sha256(self) -> str | None:
        template = getattr(self.hf, "chat_template", None)
        if not template:
            return None
        text = template if isinstance(template, str) else repr(sorted(template.items()))
        return hashlib.sha256(text.encode()).hexdigest()

    def encode(self, text: str) -> list[int]:
        """Token ids of plain text, no special tokens (needles and haystacks)."""
        return list(self.hf.encode(text, add_special_tokens=False))

    def encode_with_offsets(self, text: str, add_special_tokens: bool = False) -> tuple[list[int], list[int]]:
        """Ids of `text` and each token's start offset in it (plain text: no special tokens)."""
        encoding = self.hf(text, add_special_tokens=add_special_tokens, return_offsets_mapping=True)
        return list(encoding["input_ids"]), [start for start, _ in encoding["offset_mapping"]]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of token ids without special tokens. Uses the Rust backend directly when there
        is one: transformers' wrapper spends more time type-checking a 128k-id list than decoding."""
        backend = getattr(self.hf, "backend_tokenizer", None)
        if backend is not None:
            return backend.decode(list(ids), skip_special_tokens=True)
        return self.hf.decode(list(ids), skip_special_tokens=True)

    def render(
        self, messages: Sequence[ChatMessage], use_chat_template: bool = True, answer_prefix: str = ""
    ) -> str:
        """The exact prompt text: chat template with the generation prompt (or the raw contents),
        then the answer prefix the assistant turn starts with."""
        if use_chat_template and self.has_chat_template:
            text = self.hf.apply_chat_template(
                [m.model_dump() for m in messages], tokenize=False, add_generation_prompt=True
            )
        else:
            text = "".join(m.content for m in messages)
        return text + answer_prefix

    def encode_rendered(self, text: str, use_chat_template: bool = True) -> tuple[list[int], list[int]]:
        """Ids of a rendered prompt and each token's start offset in `text`.

        A rendered chat template carries its own special tokens; a raw prompt gets the
        tokenizer's usual ones (e.g. BOS), as `generate` would add them.
        """
        return self.encode_with_offsets(text, add_special_tokens=not (use_chat_template and self.has_chat_template))

    def prompt_ids(
        self, messages: Sequence[ChatMessage], use_chat_template: bool = True, answer_prefix: str = ""
    ) -> list[int]:
        """Ids the model is fed; local runners use exactly these."""
        text = self.render(messages, use_chat_template, answer_prefix)
        templated = use_chat_template and self.has_chat_template
        return list(self.hf.encode(text, add_special_tokens=not templated))

    def count(
        self, messages: Sequence[ChatMessage], use_chat_template: bool = True, answer_prefix: str = ""
    ) -> int:
        return len(self.prompt_ids(messages, use_chat_template, answer_prefix))


@lru_cache(maxsize=8)
def load_tokenizer(ref: ModelRef) -> ModelTokenizer:
    """Load the tokenizer of a ModelRef; one line and exit 2 when it cannot be loaded."""
    from transformers import AutoTokenizer

    try:
        hf = AutoTokenizer.from_pretrained(ref.source, gguf_file=ref.gguf_file)
    except Exception as exc:  # noqa: BLE001 - any loader failure is bad input here
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"cannot load the tokenizer of {ref.name}: {first_line}") from None
    from importlib.metadata import version

    return ModelTokenizer(hf, name=ref.name, backend=f"transformers {version('transformers')}")


def resolve_tokenizer(spec: str | None, model: ModelRef) -> ModelTokenizer:
    """The tokenizer that defines length: the model's own unless `--tokenizer` names another
    (`tiktoken`, `tiktoken:ENCODING`, or an HF folder / hub id)."""
    if spec is None:
        return load_tokenizer(model)
    from lc_bench.tokenizer_tiktoken import is_tiktoken_spec, load_tiktoken

    if is_tiktoken_spec(spec):
        return load_tiktoken(spec, model.name)
    from lc_bench.models import resolve_model

    return load_tokenizer(resolve_model(spec))
