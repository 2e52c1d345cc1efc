"""Which run folder a run belongs in, and which settings its records were made with.

Two different models never share a folder: a folder records its model's fingerprint
(`models.model_fingerprint`), a run with the same default folder name but another fingerprint
gets its own folder (`NAME-<fingerprint>__RUNNER`), and an explicit `--name` holding another model
is refused. Settings that change outputs (seed, temperature, an output-budget override, the
runner's output-relevant options, the protocol of a paper preset) get a short id on every record,
so the leaderboard never pools two settings into one cell.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from lc_bench.config import DEFAULT_PROTOCOL, RunConfig
from lc_bench.errors import UsageError
from lc_bench.models import ModelRef
from lc_bench.schema import GenerationParams
from lc_bench.store import MANIFEST, read_manifest


def default_run_name(model: ModelRef, runner: str, fingerprint: str | None = None) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model.name).strip("-") or "model"
    suffix = "-" + fingerprint.split(":")[-1][:8] if fingerprint else ""
    return f"{slug}{suffix}__{runner}"


def _holds_other_model(run_dir: Path, model: ModelRef, fingerprint: str) -> bool:
    """True when the folder's manifest names another model (by fingerprint, or for a folder
    written before fingerprints by its model path)."""
    if not (run_dir / MANIFEST).exists():
        return False
    manifest = read_manifest(run_dir)
    if manifest.model_fingerprint is not None:
        return manifest.model_fingerprint != fingerprint
    return manifest.model_path is not None and manifest.model_path != model.display_path


def choose_run_dir(config: RunConfig, model: ModelRef, fingerprint: str) -> Path:
    if config.run_name:
        run_dir = config.out_dir / config.run_name
        if _holds_other_model(run_dir, model, fingerprint):
            raise UsageError(
                f"run dir {run_dir} holds another model than {model.display_path} ({fingerprint}): "
                "choose another --name or --out"
            )
        return run_dir
    run_dir = config.out_dir / default_run_name(model, config.runner)
    if _holds_other_model(run_dir, model, fingerprint):
        return config.out_dir / default_run_name(model, config.runner, fingerprint)
    return run_dir


def settings_of(config: RunConfig, identity: dict[str, Any], params: GenerationParams) -> tuple[str, dict[str, Any]]:
    """(short id, what it stands for): everything beyond the model that decides outputs."""
    detail = {
        **params.model_dump(mode="json"),
        "max_new_tokens": config.max_new_tokens,
        **{f"runner.{name}": value for name, value in identity.items() if name not in ("runner", "model")},
    }
    if config.protocol != DEFAULT_PROTOCOL:  # absent at the default, so ids of earlier runs still match
        detail["protocol"] = config.protocol
    canonical = json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12], detail
