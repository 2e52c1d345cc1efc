"""`lc-bench show RUN SAMPLE_ID`: rebuild the full prompt of a recorded sample.

Records keep a prompt's sha256 and a few hundred characters of its head and tail, not the prompt
(at 128k tokens it would dominate the file). Every prompt is deterministic from the run's resolved
configuration (seed, task parameters, lengths, depths) and the model's tokenizer, so it can be
built again on demand. The rebuilt prompt is checked against the stored sha256: a match proves it
is the prompt the model saw; a mismatch says the data, the tokenizer or lc_bench changed since.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lc_bench.config import RunConfig
from lc_bench.errors import UsageError
from lc_bench.models import resolve_model, resolve_served_model
from lc_bench.registry import TASKS
from lc_bench.schema import Sample
from lc_bench.store import RECORDS, iter_records, read_manifest
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.datafiles import fixture_policy
from lc_bench.tokenizers import ModelTokenizer, resolve_tokenizer


@dataclass(frozen=True)
class ShownPrompt:
    """A recorded sample's prompt as rebuilt, and whether it is the one the model saw."""

    record: dict[str, Any]
    prompt: str
    matches: bool
    input_tokens: int
    focus_char: int | None  # where the sample's evidence (e.g. its needle) starts in the prompt


def find_record(run_dir: Path, sample_id: str, key: str | None = None) -> dict[str, Any]:
    """The latest record of `sample_id` (or the record `key`) in a run folder."""
    path = run_dir / RECORDS
    if not path.exists():
        raise UsageError(f"{run_dir} holds no {RECORDS}: is it a run folder?")
    found = None
    ids = set()
    for record in iter_records(path):
        ids.add(record["sample_id"])
        if record["sample_id"] == sample_id and (key is None or record["key"] == key):
            found = record
    if found is None:
        near = sorted(i for i in ids if i.split("/")[0] == sample_id.split("/")[0])[:5]
        hint = f" (e.g. {', '.join(near)})" if near else f" ({len(ids)} sample ids in the run)"
        raise UsageError(f"no record of sample {sample_id!r}{' with key ' + key if key else ''} in {run_dir}{hint}")
    return found


def _configs(run_dir: Path, record: dict[str, Any]) -> list[RunConfig]:
    """The configurations that may have built the record: its settings' invocations first."""
    manifest = read_manifest(run_dir)
    invocations = list(reversed(manifest.invocations))
    settings = record.get("settings") or ""
    ordered = [i for i in invocations if (i.get("settings") or {}).get("id") == settings] + invocations
    configs, seen = [], set()
    for invocation in [*ordered, {"config": manifest.config}]:
        raw = invocation.get("config")
        if not isinstance(raw, dict) or repr(raw) in seen:
            continue
        seen.add(repr(raw))
        try:
            configs.append(RunConfig.model_validate({**raw, "runner_options": {}}))
        except UsageError:
            continue
    if not configs:
        raise UsageError(f"the manifest of {run_dir} holds no readable run configuration")
    return configs


def _tokenizer(config: RunConfig) -> ModelTokenizer:
    model = resolve_model(config.model) if config.tokenizer is None else resolve_served_model(config.model)
    return resolve_tokenizer(config.tokenizer, model)


def _rebuild(config: RunConfig, tokenizer: ModelTokenizer, record: dict[str, Any], all_lengths: bool) -> Sample | None:
    name = record["task"]
    task = make_task(TASKS.get(name), config.task_params.get(name))
    lengths = tuple(config.lengths) if all_lengths else (int(record["target_length"]),)
    context = BuildContext(
        tokenizer=tokenizer,
        lengths=lengths,
        depths=tuple(config.depths),
        samples_per_cell=config.samples_per_cell,
        seed=config.seed,
        max_new_tokens=config.max_new_tokens,
    )
    with fixture_policy(config.protocol, allowed=True):  # rebuilt from whatever data the run used
        built = task.build(context)
    return next((s for s in built if s.sample_id == record["sample_id"]), None)


def show_prompt(run_dir: Path, sample_id: str, key: str | None = None) -> ShownPrompt:
    """Rebuild the recorded sample's prompt and check it against the stored sha256."""
    record = find_record(run_dir, sample_id, key)
    best: tuple[Sample, str, ModelTokenizer] | None = None
    for config in _configs(run_dir, record):
        tokenizer = _tokenizer(config)
        for all_lengths in (False, True):  # one length is enough for most tasks, and much faster
            sample = _rebuild(config, tokenizer, record, all_lengths)
            if sample is None:
                continue
            prompt = tokenizer.render(sample.messages, sample.use_chat_template, sample.answer_prefix)
            if hashlib.sha256(prompt.encode("utf-8")).hexdigest() == record["prompt_sha256"]:
                return _shown(record, sample, prompt, tokenizer, True)
            best = best or (sample, prompt, tokenizer)
    if best is None:
        raise UsageError(f"sample {sample_id!r} cannot be built again from the manifest of {run_dir}")
    return _shown(record, best[0], best[1], best[2], False)


def _shown(
    record: dict[str, Any], sample: Sample, prompt: str, tokenizer: ModelTokenizer, matches: bool
) -> ShownPrompt:
    focus = None
    if sample.needle_token_position is not None:
        _, offsets = tokenizer.encode_rendered(prompt)
        if 0 <= sample.needle_token_position < len(offsets):
            focus = offsets[sample.needle_token_position]
    return ShownPrompt(record=record, prompt=prompt, matches=matches, input_tokens=sample.input_tokens,
                       focus_char=focus)


def excerpt(shown: ShownPrompt, chars: int) -> str:
    """`chars` characters either side of the sample's evidence, marked with [>>> and <<<]."""
    if shown.focus_char is None:
        raise UsageError(f"sample {shown.record['sample_id']} has no recorded evidence position (no needle)")
    start = max(0, shown.focus_char - chars)
    end = min(len(shown.prompt), shown.focus_char + chars)
    return (("..." if start else "") + shown.prompt[start : shown.focus_char] + "[>>>"
            + shown.prompt[shown.focus_char : end] + "<<<]" + ("..." if end < len(shown.prompt) else ""))
