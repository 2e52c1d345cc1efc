"""Haystack text sources and their token-space view.

A haystack is tokenized once per tokenizer; samples are cut from it in token space, and
sentence boundaries are kept as token indices so needles land between sentences.
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
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(\s+)")


def default_essays() -> str:
    """The project's own prose (six essays, ~6,000 words), shipped inside the package."""
    folder = resources.files("lc_bench") / "data" / "essays"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".txt"))
    return "\n\n".join((folder / name).read_text(encoding="utf-8").strip() for name in names)


def noise_text(lines: int = 200) -> str:
    """RULER's noise haystack: one repeated line (more copies are added by repetition)."""
    return "\n".join([NOISE_SENTENCES] * lines)


def load_corpus(source: str) -> str:
    """Text for a haystack source: "essay", "noise", a folder of .txt files, FILE.jsonl:FIELD,
    a .txt file, or hf:DATASET_ID[:FIELD] (loaded through `datasets`). A source without text is
    refused: repeating nothing would give short prompts labelled with the requested length."""
    if source == "essay":
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
        f"haystack {source!r} not found: use essay, noise, a folder of .txt, FILE.jsonl:FIELD or hf:ID"
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
    """A corpus in token space: ids plus the token indices where sentences start."""

    ids: tuple[int, ...]
    sentence_starts: tuple[int, ...]
    repeats: int

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
    """Tokenize `text`, repeated (separated by a blank line) until it holds `min_tokens` tokens."""
    base = _tokenize_with_sentences(tokenizer, text)
    if len(base.ids) >= min_tokens:
        return base
    if not repeat:
        raise UsageError(
            f"haystack has {len(base.ids)} tokens, fewer than the {min_tokens} needed, and repetition is "
            "disabled (repeat_haystack=false): give a longer corpus or allow repetition"
        )
    copies = -(-min_tokens // max(1, len(base.ids))) + 1
    repeated = _tokenize_with_sentences(tokenizer, "\n\n".join([text] * copies))
    return TokenHaystack(repeated.ids, repeated.sentence_starts, copies)


@lru_cache(maxsize=16)
def _tokenize_with_sentences(tokenizer: ModelTokenizer, text: str) -> TokenHaystack:
    token_ids, token_starts = tokenizer.encode_with_offsets(text)
    ids = tuple(token_ids)
    # a boundary is the first token at or after the whitespace that ends a sentence: BPE
    # tokenizers attach that space to the next word (" The"), SentencePiece marks it ("▁The")
    char_starts = [m.start(1) for m in _SENTENCE_END.finditer(text)]
    starts = sorted({bisect_left(token_starts, c) for c in char_starts if c < len(text)})
    return TokenHaystack(ids=ids, sentence_starts=tuple(s for s in starts if 0 < s < len(ids)), repeats=1)
