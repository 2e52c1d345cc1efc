"""Seeded generators for needles and word lists, using RULER's vocabulary.

RULER draws keys from adjective-noun pairs and CWE words from nouns, adjectives and verbs of the
`wonderwords` package; lc_bench reads the same lists from that package's files, so no download
is needed and vocabularies match the reference.
"""

from __future__ import annotations

import random
import string
import uuid
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=4)
def _wordlist(name: str) -> tuple[str, ...]:
    text = (resources.files("wonderwords") / "assets" / name).read_text(encoding="utf-8")
    return tuple(sorted({line.strip() for line in text.splitlines() if line.strip()}))


def nouns() -> tuple[str, ...]:
    return _wordlist("nounlist.txt")


def adjectives() -> tuple[str, ...]:
    return _wordlist("adjectivelist.txt")


def verbs() -> tuple[str, ...]:
    return _wordlist("verblist.txt")


@lru_cache(maxsize=1)
def common_vocabulary() -> tuple[str, ...]:
    """Nouns + adjectives + verbs, de-duplicated and sorted (RULER's CWE vocabulary)."""
    return tuple(sorted(set(nouns()) | set(adjectives()) | set(verbs())))


def random_key(rng: random.Random) -> str:
    """An adjective-noun key such as "curious-lantern" (uniform over RULER's pairs)."""
    return f"{rng.choice(adjectives())}-{rng.choice(nouns())}"


def random_number(rng: random.Random, digits: int = 7) -> str:
    return str(rng.randint(10 ** (digits - 1), 10**digits - 1))


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def random_letters(rng: random.Random, length: int, alphabet: str = string.ascii_lowercase) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


GENERATORS = {"numbers": random_number, "uuids": random_uuid, "words": random_key}
