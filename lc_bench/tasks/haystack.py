"""Haystack text sources and their token-space view.

A haystack is tokenized once per tokenizer; samples are cut from it in token space, and
sentence boundaries are kept as token indices so needles land between sentences.

The default essay haystack is the shipped public-domain corpus (`corpus.natural_corpus`), long
enough that no prompt up to a million tokens repeats its text: a repeated filler would make the
needle the one sentence that occurs once. `essay-zh` is its Chinese half; `lc-essays` the
project's earlier six essays (~6,000 words, repeated to fill long prompts). Each sample records
how many times its haystack text repeats (`haystack_repeats`, 0 when it never does).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lc_bench.config import shown_value
from lc_bench.errors import UsageError
from lc_bench.tasks.datafiles import decode_utf8, numbered_jsonl, read_bytes
from lc_bench.tokenizers import ModelTokenizer

NOISE_SENTENCES = (
    "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
)
# a sentence ends at . ! ? (then closing quotes or brackets, then whitespace) or at Chinese
# full-width 。！？ (then closing quotes; Chinese puts no space after them): group 1 is where the
# next sentence starts
_SENTENCE_END = re.compile(r"[.!?][\"'’”)\]]*(\s+)|[。！？][”’」』）]*()")
# tokenizing a million-token corpus costs seconds: a haystack takes a prefix of about this many
# characters per token needed (English prose ~4.3, Chinese ~0.5-1), grown until it is enough
PROBE_CHARS = 20_000  # characters tokenized to learn the corpus' characters per token
PREFIX_MARGIN = 1.05  # prefix sized for 5% more tokens than needed ...
PREFIX_GROWTH = 1.25  # ... and grown by a quarter when the corpus is denser further on
CORPUS_SOURCES = {"essay": "en", "essay-zh": "zh"}


def default_essays() -> str:
    """The project's own prose (six essays, ~6,000 words), shipped inside the package."""
    folder = resources.files("lc_bench") / "data" / "essays"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".txt"))
    return "\n\n".join((folder / name).read_text(encoding="utf-8").strip() for name in names)


SEAM_TOKENS = 2  # tokens a seam between two lines may merge or split, at most


def line_tokens(tokenizer: ModelTokenizer, line: str) -> int:
    """The fewest tokens one more `line` adds to newline-joined lines, seams included."""
    return max(0, len(tokenizer.encode(line + "\n" + line)) - len(tokenizer.encode(line)) - SEAM_TOKENS)


def noise_text(lines: int = 200) -> str:
    """RULER's noise haystack: one repeated line (more copies are added by repetition)."""
    return "\n".join([NOISE_SENTENCES] * lines)


def load_corpus(source: str) -> str:
    """Text for a haystack source: "essay" (public-domain English books), "essay-zh" (Chinese),
    "lc-essays" (the project's six essays), "noise", a folder of .txt files (e.g. RULER's
    PaulGrahamEssays folder), FILE.jsonl:FIELD, a .txt file, or hf:DATASET_ID[:FIELD] (loaded
    through `datasets`). A source without text is refused: repeating nothing would give short
    prompts labelled with the requested length."""
    if source in CORPUS_SOURCES:
        from lc_bench.tasks.corpus import natural_corpus

        return natural_corpus(CORPUS_SOURCES[source])
    if source == "lc-essays":
        return default_essays()
    if source == "noise":
        return noise_text()
    return _require_text(_load_user_corpus(source), source)


def _load_user_corpus(source: str) -> str:
    if source.startswith("hf:"):
        return _load_hf_corpus(source[3:])
    path_text, _, field = source.partition(".jsonl:")
    if field:
        return _load_jsonl(Path(path_text + ".jsonl"), field)
    path = Path(source).expanduser()
    if path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise UsageError(f"haystack folder {source} holds no .txt files")
        return "\n\n".join(_read_text(f).strip() for f in files)
    if path.is_file():
        return _read_text(path)
    raise UsageError(
        f"haystack {source!r} not found: use essay, essay-zh, lc-essays, noise, a folder of .txt, "
        "FILE.jsonl:FIELD or hf:ID"
    )


def _require_text(text: str, source: str) -> str:
    if not text.strip():
        raise UsageError(f"haystack {source} holds no text (its files or fields are empty or only whitespace)")
    return text


def _read_text(path: Path) -> str:
    return decode_utf8(read_bytes(path, "haystack file"), f"haystack file {path}")


def _load_jsonl(path: Path, field: str) -> str:
    if not path.exists():
        raise UsageError(f"haystack file {path} not found")
    texts = []
    for number, row in numbered_jsonl(path):
        if field not in row:
            raise UsageError(f"{path}:{number} has no field {field!r}")
        if not isinstance(row[field], str):
            raise UsageError(f"{path}:{number}: field {field!r} should be text, got {shown_value(row[field])}")
        texts.append(row[field].strip())
    return "\n\n".join(texts)


def _load_hf_corpus(spec: str) -> str:
    dataset_id, _, field = spec.partition(":")
    from datasets import load_dataset

    try:
        dataset = load_dataset(dataset_id, split="train")
    except Exception as exc:  # noqa: BLE001
        raise UsageError(f"cannot load dataset {dataset_id}: {str(exc).splitlines()[0]}") from None
    field = field or "text"
    if field not in dataset.column_names:
        raise UsageError(f"dataset {dataset_id} has no column {field!r}")
    texts = dataset[field]
    for number, text in enumerate(texts, 1):
        if not isinstance(text, str):
            raise UsageError(
                f"dataset {dataset_id}: row {number}: column {field!r} should be text, got {shown_value(text)}"
            )
    return "\n\n".join(text.strip() for text in texts)


@dataclass(frozen=True)
class TokenHaystack:
    """A corpus in token space: ids plus the token indices where sentences start and where each
    copy of the text starts (one copy: the text never repeats)."""

    ids: tuple[int, ...]
    sentence_starts: tuple[int, ...]
    copy_starts: tuple[int, ...] = (0,)

    @property
    def repeats(self) -> int:
        """Copies of the text beyond the first in the whole haystack."""
        return len(self.copy_starts) - 1

    def repeats_within(self, tokens: int) -> int:
        """How many times the text repeats in the haystack's first `tokens` tokens (0: never)."""
        return sum(1 for start in self.copy_starts[1:] if start < tokens)

    def boundary_near(self, position: int, limit: int) -> int:
        """The sentence start closest to `position` within [0, limit]; 0 (the haystack's start)
        counts as a boundary, `limit` (where the cut may fall mid-sentence) does not."""
        index = bisect_left(self.sentence_starts, position)
        candidates = [0]
        for i in (index - 2, index - 1, index):
            if 0 <= i < len(self.sentence_starts) and self.sentence_starts[i] <= limit:
                candidates.append(self.sentence_starts[i])
        return min(candidates, key=lambda c: (abs(c - position), c))


def tokenize_haystack(tokenizer: ModelTokenizer, text: str, min_tokens: int, repeat: bool) -> TokenHaystack:
    """`text` in token space, at least `min_tokens` long (0: all of it). A long corpus is
    tokenized only as far as needed; a short one is repeated (separated by a blank line) until
    it is long enough, and the copies are recorded."""
    if min_tokens <= 0:
        return _tokenize_with_sentences(tokenizer, text)
    prefix_chars = int(min_tokens * _chars_per_token(tokenizer, text) * PREFIX_MARGIN) + 1000
    while prefix_chars < len(text):
        base = _tokenize_with_sentences(tokenizer, _prefix(text, prefix_chars))
        if len(base.ids) >= min_tokens:
            return base
        prefix_chars = int(prefix_chars * PREFIX_GROWTH)
    base = _tokenize_with_sentences(tokenizer, text)
    if len(base.ids) >= min_tokens:
        return base
    if not repeat:
        raise UsageError(
            f"haystack has {len(base.ids)} tokens, fewer than the {min_tokens} needed, and repetition is "
            "disabled (repeat_haystack=false): give a longer corpus or allow repetition"
        )
    copies = -(-min_tokens // max(1, len(base.ids))) + 1
    separator = "\n\n"
    joined = separator.join([text] * copies)
    copy_chars = tuple(k * (len(text) + len(separator)) for k in range(copies))
    return _tokenize_with_sentences(tokenizer, joined, copy_chars)


@lru_cache(maxsize=16)
def _chars_per_token(tokenizer: ModelTokenizer, text: str) -> float:
    """Characters per token at the corpus' start, from a small probe: the prefix a length needs is
    sized from it (a fixed guess over-tokenized Chinese and small vocabularies about twice over).
    Kept per tokenizer and text, as their tokenization is: every length of a run asks again."""
    probe = _prefix(text, PROBE_CHARS)
    return len(probe) / max(1, len(tokenizer.encode(probe)))


def _prefix(text: str, chars: int) -> str:
    """The text up to the last whitespace before `chars`, so no word is cut in two."""
    cut = text.rfind(" ", 0, chars)
    newline = text.rfind("\n", 0, chars)
    end = max(cut, newline)
    return text[: end if end > 0 else chars]


@lru_cache(maxsize=16)
def _tokenize_with_sentences(
    tokenizer: ModelTokenizer, text: str, copy_chars: tuple[int, ...] = (0,)
) -> TokenHaystack:
    """`text` in token space, with sentence starts and the token index of each copy's first
    character (`copy_chars`: where each copy of a repeated text begins), from one encode."""
    token_ids, token_starts = tokenizer.encode_with_offsets(text)
    ids = tuple(token_ids)
    # a boundary is the first token at or after the whitespace that ends a sentence: BPE
    # tokenizers attach that space to the next word (" The"), SentencePiece marks it ("▁The");
    # after Chinese full stops the next character starts the sentence
    char_starts = [m.start(1) if m.group(1) is not None else m.start(2) for m in _SENTENCE_END.finditer(text)]
    starts = sorted({bisect_left(token_starts, c) for c in char_starts if c < len(text)})
    return TokenHaystack(
        ids=ids,
        sentence_starts=tuple(s for s in starts if 0 < s < len(ids)),
        copy_starts=tuple(bisect_left(token_starts, char) for char in copy_chars),
    )
