"""What each run's manifest says about the model and settings behind its records.

Records name their model by its short name only; two checkpoints called `final` in different
folders must still never share a row, and two settings of one model (another seed, another output
budget) never one cell. The manifests tell them apart: the model's fingerprint (or, for runs
written before fingerprints, its path) and each invocation's settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lc_bench.store import read_manifest

UNKNOWN_SETTINGS = "settings ?"  # records written before settings ids (release 0.1)


@dataclass(frozen=True)
class RunFacts:
    model_ids: list[str] = field(default_factory=list)  # per run (its index in the run list)
    model_paths: list[str] = field(default_factory=list)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # settings id -> what it stands for
    invocations: dict[str, list[str]] = field(default_factory=dict)  # settings id -> "run: started" entries


def read_run_facts(run_dirs: list[Path]) -> RunFacts:
    facts = RunFacts()
    for run_dir in run_dirs:
        manifest = read_manifest(run_dir)
        facts.model_ids.append(manifest.model_fingerprint or manifest.model_path or "")
        facts.model_paths.append(manifest.model_path or "")
        for invocation in manifest.invocations:
            settings = invocation.get("settings")
            if isinstance(settings, dict) and "id" in settings:
                detail = {key: value for key, value in settings.items() if key != "id"}
                facts.settings.setdefault(str(settings["id"]), detail)
                facts.invocations.setdefault(str(settings["id"]), []).append(
                    f"{run_dir.name}: {invocation.get('started', '?')}"
                )
    return facts


def settings_labels(ids: list[str], facts: RunFacts) -> dict[str, str]:
    """A readable label per settings id: the values in which these settings differ
    (e.g. "seed=5", "max_new_tokens=64, temperature=0.7")."""
    known = {i: facts.settings[i] for i in ids if i in facts.settings}
    keys = sorted({key for detail in known.values() for key in detail})
    differing = [key for key in keys if len({repr(detail.get(key)) for detail in known.values()}) > 1]
    labels = {}
    for settings_id in ids:
        if settings_id not in known:
            labels[settings_id] = UNKNOWN_SETTINGS
            continue
        parts = [f"{key}={known[settings_id].get(key)}" for key in differing]
        labels[settings_id] = ", ".join(parts) or settings_id[:8]
    return labels
