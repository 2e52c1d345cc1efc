"""Seeded generators for needles and word lists, using RULER's vocabulary.

RULER draws keys from adjective-noun pairs and CWE words from nouns, adjectives and verbs of the
`wonderwords` package; lc_bench reads the same lists from that package's files, so no download
is needed and vocabularies match the reference.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources

import numpy as np


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


def distinct_random_letters(
    rng: random.Random, count: int, length: int, seen: set[str] | frozenset[str] = frozenset()
) -> list[str]:
    """`count` new lowercase words of `length` letters, none in `seen` nor repeated: exactly the
    words that calling `random_letters(rng, length)` until `count` are new would give, drawn in bulk
    (cwe invents ~50k words per 128k sample, which one `rng.choice` per letter makes the slowest
    part of building it). `rng` is left in another state than those calls would leave it, so
    it is for a generator whose draws end here."""
    taken = set(seen)
    words: list[str] = []
    for word in _letter_words(rng, length):
        if len(words) >= count:
            break
        if word not in taken:
            taken.add(word)
            words.append(word)
    return words


def _letter_words(rng: random.Random, length: int, block: int = 1 << 16) -> Iterator[str]:
    """The words `random_letters(rng, length)` would draw, one after another. CPython draws each
    letter of `rng.choice(ascii_lowercase)` as a 32-bit Mersenne Twister output shifted to 5 bits,
    skipping values of 26 and up (`_randbelow_with_getrandbits`); `getrandbits(32 * n)` returns
    the next n outputs in order, the first as the lowest word."""
    left = np.empty(0, dtype=np.uint8)
    while True:
        outputs = np.frombuffer(rng.getrandbits(32 * block).to_bytes(4 * block, "little"), dtype="<u4")
        codes = (outputs >> 27).astype(np.uint8)
        letters = np.concatenate((left, codes[codes < 26] + ord("a")))
        whole = len(letters) - len(letters) % length
        text, left = letters[:whole].tobytes().decode("ascii"), letters[whole:]
        yield from (text[i : i + length] for i in range(0, whole, length))


GENERATORS = {"numbers": random_number, "uuids": random_uuid, "words": random_key}
