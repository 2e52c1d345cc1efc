"""tiktoken encodings for hosted OpenAI models, whose own tokenizer is not an HF folder.

`--tokenizer tiktoken` picks the encoding from the model's name (tiktoken's own table, so a new
model name is mapped as tiktoken maps it); `--tokenizer tiktoken:o200k_base` names it outright.

Plain `tiktoken` downloads its encoding files at first use, which fails offline. `quicktok-v1`
ships cl100k_base and o200k_base with ids byte-identical to tiktoken's, so it is preferred when
installed and tiktoken is the fallback. The manifest records which backend produced the ids.

There is no chat template to apply: a hosted chat endpoint wraps each message in a few tokens of
its own (about 3 per message plus 3 for the reply with OpenAI's models), so lengths here count the
prompt's content. The server's own count lives in each record's usage.prompt_tokens.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from lc_bench.errors import UsageError
from lc_bench.schema import ChatMessage
from lc_bench.tokenizers import ModelTokenizer

TIKTOKEN_PREFIX = "tiktoken"


class TiktokenTokenizer(ModelTokenizer):
    """A tiktoken-style BPE encoding behind the ModelTokenizer interface (no chat template)."""

    def __init__(self, encoding: Any, encoding_name: str, backend: str) -> None:
        super().__init__(hf_tokenizer=None, name=f"{TIKTOKEN_PREFIX}:{encoding_name}")
        self.encoding = encoding
        self.backend = backend

    @property
    def has_chat_template(self) -> bool:
        return False

    @property
    def chat_template_sha256(self) -> str | None:
        return None

    def encode(self, text: str) -> list[int]:
        # ordinary text only: a literal "<|endoftext|>" in a document is text, not a control token
        return list(self.encoding.encode_ordinary(text))

    def decode(self, ids: Sequence[int]) -> str:
        return self.encoding.decode(list(ids))

    def render(
        self, messages: Sequence[ChatMessage], use_chat_template: bool = True, answer_prefix: str = ""
    ) -> str:
        return "".join(message.content for message in messages) + answer_prefix

    def encode_with_offsets(self, text: str, add_special_tokens: bool = False) -> tuple[list[int], list[int]]:
        # no special tokens to add: a hosted endpoint wraps the prompt itself
        ids = self.encode(text)
        return ids, self._char_offsets(text, ids)

    def prompt_ids(
        self, messages: Sequence[ChatMessage], use_chat_template: bool = True, answer_prefix: str = ""
    ) -> list[int]:
        return self.encode(self.render(messages, use_chat_template, answer_prefix))

    def _char_offsets(self, text: str, ids: list[int]) -> list[int]:
        """Each token's start as a character index; a token starting inside a multi-byte
        character starts at that character (tiktoken's decode_with_offsets does the same)."""
        char_starts: list[int] = []  # byte offset at which each character starts
        position = 0
        for char in text:
            char_starts.append(position)
            position += len(char.encode("utf-8"))
        offsets: list[int] = []
        byte_offset = 0
        for token in ids:
            offsets.append(max(0, bisect_right(char_starts, byte_offset) - 1))
            byte_offset += len(self.encoding.decode_single_token_bytes(token))
        return offsets


def is_tiktoken_spec(spec: str | None) -> bool:
    return spec is not None and (spec == TIKTOKEN_PREFIX or spec.startswith(TIKTOKEN_PREFIX + ":"))


def encoding_name_for(spec: str, model_name: str) -> str:
    """`tiktoken:NAME` names the encoding; bare `tiktoken` maps the model name as tiktoken does."""
    _, _, named = spec.partition(":")
    if named:
        return named
    served = model_name.rsplit("/", 1)[-1]
    try:
        from tiktoken.model import encoding_name_for_model

        return encoding_name_for_model(served)
    except ImportError:
        pass
    except KeyError:
        raise UsageError(
            f"tiktoken has no encoding for model {served!r}: pass --tokenizer tiktoken:o200k_base (or cl100k_base)"
        ) from None
    try:
        import quicktok

        return quicktok.encoding_for_model(served).name
    except ImportError:
        raise UsageError("the tiktoken tokenizer needs a package: pip install 'lc_bench[tiktoken]'") from None
    except Exception:  # noqa: BLE001 - quicktok raises a plain error for an unknown name
        raise UsageError(
            f"no known encoding for model {served!r}: pass --tokenizer tiktoken:o200k_base (or cl100k_base)"
        ) from None


def load_tiktoken(spec: str, model_name: str) -> TiktokenTokenizer:
    """The encoding through quicktok (offline, bundled), else through tiktoken (may download)."""
    name = encoding_name_for(spec, model_name)
    try:
        import quicktok

        return TiktokenTokenizer(quicktok.get_encoding(name), name, f"quicktok-v1 {_version('quicktok-v1')}")
    except ImportError:
        pass
    except Exception:  # noqa: BLE001 - an encoding quicktok does not bundle: try tiktoken
        pass
    try:
        import tiktoken
    except ImportError:
        raise UsageError("the tiktoken tokenizer needs a package: pip install 'lc_bench[tiktoken]'") from None
    try:
        encoding = tiktoken.get_encoding(name)
    except ValueError:
        raise UsageError(f"unknown tiktoken encoding {name!r} (e.g. o200k_base, cl100k_base)") from None
    except Exception as exc:  # noqa: BLE001 - tiktoken fetches encoding files over the network
        reason = type(exc).__name__
        raise UsageError(f"tiktoken could not load {name}: {reason} (offline? install quicktok-v1)") from None
    return TiktokenTokenizer(encoding, name, f"tiktoken {_version('tiktoken')}")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"
