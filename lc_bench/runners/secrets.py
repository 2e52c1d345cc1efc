"""Keeping secrets out of everything a runner writes (records, manifest, the HTML page, messages).

Two jobs: recognising options that hold secrets by their names (so the manifest masks them), and
scrubbing known secret values out of text. A server can echo a key back in any encoding: raw,
JSON-escaped (`\\/`, `\\u002b`, even JSON inside JSON), URL-encoded, or with its whitespace
reflowed, so the scrubber matches every such form of each secret, and it must run on the raw text
before anything cuts or normalises it (a cut key is no longer recognisable, yet still a leak).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"
# Top-level option names containing one of these hold secrets and never reach the disk (names
# ending in `_env` hold a variable's name, not its value). This substring rule is the one the
# resume keys of existing runs were computed with: it must not change.
SECRET_WORDS = ("key", "token", "secret", "password", "authorization")
# Inside a nested option (extra_body, headers, worker options) names are other programs' fields,
# where the substring rule would hide real settings (`max_tokens`, `skip_special_tokens`): a name
# is a secret when its last word is one of these.
SECRET_LAST_WORDS = frozenset({
    "key", "keys", "apikey", "token", "secret", "secrets", "password", "passwords", "passwd",
    "authorization", "auth", "credential", "credentials", "cookie", "cookies",
})
# A value found by its option's name alone may be a flag or a user name rather than a secret: it is
# scrubbed from this length (real keys are far longer), since redacting a short word from every
# answer would corrupt scores. A key the user handed over as one (api_key_env) is always scrubbed.
MIN_SECRET_CHARS = 8

# An Authorization-style value: the credential after the scheme is what a server may echo alone.
_AUTH_SCHEME = re.compile(r"(?i)(?:bearer|basic|token|apikey)\s+(?P<credential>\S.*)", re.DOTALL)
_WORD_BOUNDARY = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_JSON_SHORT_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}


def is_secret_option(name: str) -> bool:
    """A top-level runner option that holds a secret (left out of what is written)."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS) and not lowered.endswith("_env")


def is_secret_field(name: str) -> bool:
    """A field inside a nested option that holds a secret (`api_key`, `Authorization`, `X-Api-Key`,
    `accessToken`), by its last word; `*_env` names a variable and `max_tokens` counts tokens."""
    words = [word.lower() for word in _WORD_BOUNDARY.split(name) if word]
    return bool(words) and words[-1] in SECRET_LAST_WORDS


def mask_secret_fields(value: Any) -> Any:
    """`value` (parsed JSON) with every secret-named field, at any depth, replaced by REDACTED."""
    if isinstance(value, dict):
        return {
            name: REDACTED if is_secret_field(str(name)) else mask_secret_fields(item) for name, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_secret_fields(item) for item in value]
    return value


def secret_values(options: dict[str, Any]) -> list[str]:
    """Every string of MIN_SECRET_CHARS or more held by a secret-named option or nested field (the
    credential alone, for a value like "Bearer sk-..."): the values to scrub from text."""
    found: list[str] = []

    def strings(value: Any) -> None:
        if isinstance(value, str):
            scheme = _AUTH_SCHEME.fullmatch(value.strip())
            found.append(scheme["credential"] if scheme else value)
        elif isinstance(value, dict):
            for item in value.values():
                strings(item)
        elif isinstance(value, list | tuple):
            for item in value:
                strings(item)

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                (strings if is_secret_field(str(name)) else walk)(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    for name, value in options.items():
        (strings if is_secret_option(name) else walk)(value)
    return [value for value in found if len(value.strip()) >= MIN_SECRET_CHARS]


def _escaped(char: str) -> str:
    """`\\uXXXX` escapes of a character's UTF-16 code units, any hex case, behind one or more
    backslashes (JSON inside JSON doubles them)."""
    units = char.encode("utf-16-be")
    return "".join(
        rf"\\+u(?i:{int.from_bytes(units[i:i + 2], 'big'):04x})" for i in range(0, len(units), 2)
    )


def _char_forms(char: str) -> list[str]:
    """Regex alternatives for one character as it may appear in echoed text."""
    forms = [re.escape(char), _escaped(char)]
    if char in _JSON_SHORT_ESCAPES:
        forms.append(r"\\+" + re.escape(_JSON_SHORT_ESCAPES[char]))
    forms.append("".join(f"%(?i:{byte:02x})" for byte in char.encode("utf-8")))
    if char == " ":
        forms.append(r"\+")  # quote_plus
    return forms


def secret_pattern(secret: str) -> str:
    """A regex for `secret` in raw, JSON-escaped, URL-encoded or whitespace-reflowed form: each
    character may be written in any of its forms, and each run of whitespace in the secret
    matches any run of whitespace (or its escapes)."""
    parts: list[str] = []
    for piece in re.split(r"(\s+)", secret.strip()):
        if not piece:
            continue
        if piece.isspace():
            forms = {r"\s"} | {form for char in set(piece) for form in _char_forms(char)}
            forms |= {form for char in " \t\n\r" for form in _char_forms(char)}
            parts.append("(?:" + "|".join(sorted(forms)) + ")+")
        else:
            parts.extend("(?:" + "|".join(_char_forms(char)) + ")" for char in piece)
    return "".join(parts)


class Scrubber:
    """Replaces every known secret, in any of its echoed forms, with REDACTED (longest first, so a
    secret that contains another is redacted whole)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        kept = sorted({s.strip() for s in secrets if s.strip()}, key=len, reverse=True)
        self._pattern = re.compile("|".join(secret_pattern(s) for s in kept)) if kept else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text) if self._pattern is not None else text

    def json(self, value: Any) -> Any:
        """`value` (parsed JSON) with every string in it, keys included, scrubbed."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self.json(name): self.json(item) for name, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.json(item) for item in value]
        return value


def control_character_at(value: str) -> int | None:
    """The position of the first control character or line break in `value` (None if clean): such
    a key cannot travel in an HTTP header, and is most likely a pasted file's trailing newline."""
    for position, char in enumerate(value):
        if char in "\u2028\u2029\x85" or ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0:
            return position
    return None

