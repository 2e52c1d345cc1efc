"""The shipped natural-text corpus: long enough for a million-token haystack, never repeating."""

import hashlib
import re
from collections import Counter
from importlib import resources

import pytest

from lc_bench.errors import UsageError
from lc_bench.tasks.corpus import CORPUS_LANGUAGES, natural_corpus

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")


def repeated_paragraphs(text: str, min_chars: int = 200) -> list[str]:
    counts = Counter(p for p in text.split("\n\n") if len(p) > min_chars)
    return [p[:80] for p, n in counts.items() if n > 1]


def test_english_holds_a_million_words_without_repeated_paragraphs():
    text = natural_corpus("en")
    assert len(text.split()) >= 1_000_000
    assert repeated_paragraphs(text) == []


def test_chinese_holds_700k_han_characters_without_repeated_paragraphs():
    text = natural_corpus("zh")
    assert len(HAN.findall(text)) >= 700_000
    assert repeated_paragraphs(text) == []


@pytest.mark.parametrize("language", CORPUS_LANGUAGES)
def test_no_project_gutenberg_boilerplate_or_editorial_debris(language):
    text = natural_corpus(language)
    for marker in ("Project Gutenberg", "gutenberg.org", "*** START OF", "*** END OF", "Produced by", "<w ", "\\nd"):
        assert marker not in text, marker
    assert not re.search(r"[\ue000-\uf8ff\ufffd]", text)  # private-use glyphs, replacement characters


@pytest.mark.parametrize("language", CORPUS_LANGUAGES)
def test_paragraphs_are_single_lines_separated_by_one_blank_line(language):
    text = natural_corpus(language)
    assert "\r" not in text and "\n\n\n" not in text
    paragraphs = text.rstrip("\n").split("\n\n")
    assert all(p and "\n" not in p and p == p.strip() for p in paragraphs)


@pytest.mark.parametrize("language", CORPUS_LANGUAGES)
def test_sources_md_describes_the_shipped_text(language):
    """SOURCES.md is written with the data: it carries each file's sha256, so a rebuilt corpus
    without its regenerated SOURCES.md fails here."""
    sources = (resources.files("lc_bench") / "data" / "corpus" / "SOURCES.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(natural_corpus(language).encode("utf-8")).hexdigest()
    assert f"| {language}.txt.xz |" in sources and digest in sources


def test_corpus_is_read_once():
    assert natural_corpus("en") is natural_corpus("en")


def test_unknown_language_is_a_one_line_usage_error():
    with pytest.raises(UsageError, match="no natural corpus for language 'fr': use one of en, zh"):
        natural_corpus("fr")
