"""The model's own tokenizer: the single definition of "length" in lc_bench.

Tasks measure prompts with `prompt_ids`, and local runners feed exactly those ids to the model,
so the recorded input length is the length the model saw.

Loading: a local HF folder whose tokenizer transformers would take from `tokenizer.json` as is
loads through the `tokenizers` library alone, its chat template rendered with jinja2 exactly as
transformers' `apply_chat_template` does (same sandbox, options, filters and globals). That
skips importing transformers and torch (seconds, hundreds of MiB) for runs and commands that
never touch the model. Anything else (GGUF files, hub ids, tokenizer classes that rebuild or
patch the tokenizer, templates needing features not mirrored here) loads through
`transformers.AutoTokenizer`, as before. Both paths give identical ids, offsets and text
(tests/test_tokenizer_fast_path.py); `ModelTokenizer.hf` still yields the transformers object,
created on first use, for the code that needs it (the hf runner).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from lc_bench.errors import UsageError
from lc_bench.models import ModelRef
from lc_bench.schema import ChatMessage

# tokenizer classes that transformers builds straight from tokenizer.json without changing it
PLAIN_TOKENIZER_CLASSES = frozenset({"PreTrainedTokenizerFast", "TokenizersBackend"})
# tokenizer_config keys that make transformers alter the tokenizer.json pipeline or run custom code
ALTERING_CONFIG_KEYS = frozenset({
    "auto_map", "add_bos_token", "add_eos_token", "add_prefix_space", "post_processor",
    "fix_mistral_regex", "legacy", "from_slow", "do_lower_case",
})
# the named special tokens transformers passes to chat templates (SPECIAL_TOKENS_ATTRIBUTES)
SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
MISTRAL_REGEX_VOCAB = 100000  # above this transformers may patch the pre-tokenizer's regex
GENERATION_TAG = re.compile(r"\{%-?\s*generation\s*-?%\}")


class TokenStarts(Sequence[int]):
    """Each token's start offset in the encoded text, read off the encoding when first asked for.

    Turning a 32k-token encoding's offsets into Python integers took 10-17 ms here, where encoding a
    32k-token word list takes about 37 ms; a fit that only counts tokens (its pieces are counted
    elsewhere) never asks for them. Indexing, slicing (a list), iteration, `len`, `bisect` and comparison with a
    list behave as the list of starts would, but each access goes through Python: code that reads
    many offsets takes `as_list()` (or uses `encode_rendered`, which returns lists)."""

    __slots__ = ("_encoding", "_count", "_starts")

    def __init__(self, encoding: Any, count: int) -> None:
        self._encoding = encoding
        self._count = count
        self._starts: list[int] | None = None

    def as_list(self) -> list[int]:
        if self._starts is None:
            self._starts = [start for start, _ in self._encoding.offsets]
            self._encoding = None
        return self._starts

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        return self.as_list()[index]

    def __iter__(self) -> Any:
        return iter(self.as_list())

    def __eq__(self, other: object) -> bool:
        return self.as_list() == (other.as_list() if isinstance(other, TokenStarts) else other)

    def __add__(self, other: list[int]) -> list[int]:
        return self.as_list() + list(other)

    def __radd__(self, other: list[int]) -> list[int]:
        return list(other) + self.as_list()

    __hash__ = None  # type: ignore[assignment] - a sequence compared by value, as a list is

    def __repr__(self) -> str:
        return repr(self.as_list())


class ModelTokenizer:
    """Wraps a Hugging Face tokenizer with the few operations lc_bench needs.

    Either a transformers tokenizer (`hf_tokenizer`) or, on the fast path, a bare
    `tokenizers.Tokenizer` (`fast`) with the chat template and special tokens read from the
    folder; then `hf` is built on first access by `hf_loader`.
    """

    def __init__(
        self,
        hf_tokenizer: Any = None,
        name: str = "",
        backend: str = "transformers",
        *,
        fast: Any = None,
        chat_template: str | None = None,
        special_tokens: dict[str, str] | None = None,
        hf_loader: Callable[[], Any] | None = None,
    ) -> None:
        # subclasses (the tiktoken encodings) bring their own encoder and need neither
        if hf_tokenizer is None and fast is None and hf_loader is None and type(self) is ModelTokenizer:
            raise ValueError("ModelTokenizer needs a transformers tokenizer or a tokenizers.Tokenizer")
        self._hf = hf_tokenizer
        self._hf_loader = hf_loader
        self.fast = fast  # tokenizers.Tokenizer on the fast path, else None
        self._chat_template = chat_template
        self._special_tokens = special_tokens or {}
        self.name = name
        self.backend = backend  # which library produced the ids (the manifest says)

    @property
    def hf(self) -> Any:
        """The transformers tokenizer; on the fast path, loaded (with transformers) on first use."""
        if self._hf is None:
            if self._hf_loader is None:
                raise AttributeError("this tokenizer has no transformers counterpart")
            self._hf = self._hf_loader()
        return self._hf

    def special_token_id(self, name: str) -> int | None:
        """The id of a named special token ("eos_token", "pad_token"), or None. On the fast path it
        is read from the folder's files: loading the transformers tokenizer for two ids cost the hf
        runner seconds at start (the plain script it is measured against loads none)."""
        if self.fast is not None:
            token = self._special_tokens.get(name)
            return None if token is None else self.fast.token_to_id(token)
        return getattr(self.hf, f"{name}_id", None)

    @property
    def chat_template(self) -> Any:
        if self.fast is not None:
            return self._chat_template
        return getattr(self.hf, "chat_template", None)

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template)

    @property
    def chat_template_sha256(self) -> str | None:
        template = self.chat_template
        if not template:
            return None
        text = template if isinstance(template, str) else repr(sorted(template.items()))
        return hashlib.sha256(text.encode()).hexdigest()

    def _encode(self, text: str, add_special_tokens: bool) -> list[int]:
        if self.fast is not None:
            return list(self.fast.encode(text, add_special_tokens=add_special_tokens).ids)
        return list(self.hf.encode(text, add_special_tokens=add_special_tokens))

    def encode(self, text: str) -> list[int]:
        """Token ids of plain text, no special tokens (needles and haystacks)."""
        return self._encode(text, add_special_tokens=False)

    def encode_with_offsets(self, text: str, add_special_tokens: bool = False) -> tuple[list[int], list[int]]:
        """Ids of `text` and each token's start offset in it (plain text: no special tokens)."""
        if self.fast is not None:
            encoding = self.fast.encode(text, add_special_tokens=add_special_tokens)
            return list(encoding.ids), [start for start, _ in encoding.offsets]
        encoding = self.hf(text, add_special_tokens=add_special_tokens, return_offsets_mapping=True)
        return list(encoding["input_ids"]), [start for start, _ in encoding["offset_mapping"]]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of token ids without special tokens. Uses the Rust backend directly when there
        is one: transformers' wrapper spends more time type-checking a 128k-id list than decoding."""
        if self.fast is not None:
            return self.fast.decode(list(ids), skip_special_tokens=True)
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
            conversation = [m.model_dump() for m in messages]
            if self.fast is not None:
                text = _compiled_template(self._chat_template).render(
                    messages=conversation, tools=None, documents=None, add_generation_prompt=True,
                    **self._special_tokens,
                )
            else:
                text = self.hf.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        else:
            text = "".join(m.content for m in messages)
        return text + answer_prefix

    def encode_rendered(self, text: str, use_chat_template: bool = True) -> tuple[list[int], list[int]]:
        """Ids of a rendered prompt and each token's start offset in `text` (special tokens as
        `_adds_special_tokens` says)."""
        return self.encode_with_offsets(text, add_special_tokens=self._adds_special_tokens(use_chat_template))

    def encode_rendered_for_count(self, text: str, use_chat_template: bool = True) -> tuple[list[int], Sequence[int]]:
        """`encode_rendered` for a fit that counts tokens and never reads offsets: the offsets come
        as `TokenStarts`, converted only if something asks for them."""
        add_special_tokens = self._adds_special_tokens(use_chat_template)
        if self.fast is None:
            return self.encode_with_offsets(text, add_special_tokens=add_special_tokens)
        encoding = self.fast.encode(text, add_special_tokens=add_special_tokens)
        ids = encoding.ids
        return ids, TokenStarts(encoding, len(ids))

    def prompt_ids(
        self, messages: Sequence[ChatMessage], use_chat_template: bool = True, answer_prefix: str = ""
    ) -> list[int]:
        """Ids the model is fed; local runners use exactly these."""
        text = self.render(messages, use_chat_template, answer_prefix)
        return self._encode(text, add_special_tokens=self._adds_special_tokens(use_chat_template))

    def _adds_special_tokens(self, use_chat_template: bool) -> bool:
        """A rendered chat template carries its own special tokens; a raw prompt gets the
        tokenizer's usual ones (e.g. BOS), as `generate` would add them."""
        return not (use_chat_template and self.has_chat_template)

    def count(
        self, messages: Sequence[ChatMessage], use_chat_template: bool = True, answer_prefix: str = ""
    ) -> int:
        return len(self.prompt_ids(messages, use_chat_template, answer_prefix))


@lru_cache(maxsize=16)
def _compiled_template(template: str) -> Any:
    """The chat template compiled as transformers' `_compile_jinja_template` does (without its
    `{% generation %}` tracker: templates using it take the transformers path)."""
    from datetime import datetime

    import jinja2.exceptions
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x: Any, ensure_ascii: bool = False, indent: Any = None, separators: Any = None,
               sort_keys: bool = False) -> str:
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format: str) -> str:
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(template)


def _token_text(value: Any) -> str | None:
    """A special token as tokenizer_config.json stores it: a string or an AddedToken dict."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    return None


def load_fast(ref: ModelRef) -> ModelTokenizer | None:
    """The tokenizer through `tokenizers` + jinja2 alone, or None when transformers would build
    something different from `tokenizer.json` (then the caller takes the transformers path)."""
    if ref.gguf_file or not ref.is_local:
        return None
    folder = Path(ref.source)
    tokenizer_file, config_file = folder / "tokenizer.json", folder / "tokenizer_config.json"
    if not tokenizer_file.is_file() or not config_file.is_file():
        return None
    if (folder / "additional_chat_templates").exists() or any(folder.glob("chat_template_*")):
        return None  # several named templates: transformers picks among them
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict) or config.get("tokenizer_class") not in PLAIN_TOKENIZER_CLASSES:
        return None
    if ALTERING_CONFIG_KEYS & config.keys() or config.get("split_special_tokens"):
        return None
    if config.get("extra_special_tokens") or config.get("additional_special_tokens"):
        return None
    if any(key.endswith("_token") and key not in SPECIAL_TOKEN_NAMES for key in config):
        return None  # model-specific special tokens: transformers registers them
    template_file = folder / "chat_template.jinja"
    if template_file.is_file():
        template: Any = template_file.read_text(encoding="utf-8")
    else:
        template = config.get("chat_template")
    if template is not None and not isinstance(template, str):
        return None  # a list of named templates
    if template and GENERATION_TAG.search(template):
        return None

    from tokenizers import Tokenizer

    try:
        fast = Tokenizer.from_file(str(tokenizer_file))
    except Exception:  # noqa: BLE001 - let transformers try, and report its error
        return None
    if fast.post_processor is None or fast.get_vocab_size() > MISTRAL_REGEX_VOCAB:
        return None
    added = {token.content: index for index, token in fast.get_added_tokens_decoder().items()}
    for index, token in (config.get("added_tokens_decoder") or {}).items():
        content = _token_text(token)
        if content is None or added.get(content) != int(index):
            return None
    special: dict[str, str] = {}
    for key in SPECIAL_TOKEN_NAMES:
        if config.get(key) is None:
            continue
        text = _token_text(config[key])
        if text is None or text not in added:
            return None  # transformers would add it to the vocabulary
        special[key] = text
    fast.no_truncation()
    fast.no_padding()
    fast.encode_special_tokens = False
    from importlib.metadata import version

    return ModelTokenizer(
        name=ref.name,
        backend=f"tokenizers {version('tokenizers')}",
        fast=fast,
        chat_template=template or None,
        special_tokens=special,
        hf_loader=lambda: _load_transformers(ref),
    )


def _load_transformers(ref: ModelRef) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(ref.source, gguf_file=ref.gguf_file)
    except Exception as exc:  # noqa: BLE001 - any loader failure is bad input here
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"cannot load the tokenizer of {ref.name}: {first_line}") from None


@lru_cache(maxsize=8)
def load_tokenizer(ref: ModelRef, fast: bool = True) -> ModelTokenizer:
    """Load the tokenizer of a ModelRef; one line and exit 2 when it cannot be loaded.
    `fast=False` forces the transformers path (the equivalence tests compare the two)."""
    if fast:
        loaded = load_fast(ref)
        if loaded is not None:
            return loaded
    hf = _load_transformers(ref)
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
