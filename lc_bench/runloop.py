"""The run loop: config -> samples -> requests -> completions -> scored records in the store.

Everything that can be bad input is checked before the run folder is created, so a refused run
writes nothing. Every request becomes exactly one record, successful or not.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lc_bench.axes import TaskReport
from lc_bench.config import DEFAULT_PROTOCOL, RunConfig
from lc_bench.errors import UsageError
from lc_bench.lengths import check_context_window
from lc_bench.manifest import build_manifest
from lc_bench.models import ModelRef, context_window, model_fingerprint, resolve_model, resolve_served_model
from lc_bench.registry import RUNNERS, TASKS
from lc_bench.run_identity import choose_run_dir, settings_of
from lc_bench.runners.base import Runner, RunnerContext, RunnerOptions, parse_options, public_options
from lc_bench.schema import RECORD_SCHEMA_VERSION, Completion, GenerationParams, Record, Request, Sample
from lc_bench.specs import SampleSpec, spec_keys
from lc_bench.store import RunStore, check_writable
from lc_bench.tasks.base import BuildContext, FollowUp, Task, make_task
from lc_bench.tasks.datafiles import fixture_policy, one_warning_per_run
from lc_bench.tokenizers import ModelTokenizer, resolve_tokenizer

PROMPT_EXCERPT = 400
# Sample fields a Record carries as they are (the prompt itself is kept only as hash, head and tail)
SAMPLE_FIELDS_IN_RECORD = set(Record.model_fields) & set(Sample.model_fields)


@dataclass
class RunSummary:
    run_dir: Path
    total: int
    skipped: int
    generated: int
    errors: int
    wall_s: float
    foreign_lines: int = 0  # lines of records.jsonl / stages.jsonl skipped as not records


class Progress:
    """Progress hooks; the CLI plugs in `lc_bench.progress.RichRunProgress`, the library default is
    silent. Every hook has a default here, and the run loop skips hooks an object lacks: an object
    with only start/advance/stop (written before the others existed) keeps working.

    Order: `preparing` and `building` while the run is prepared, `plan` and `start` once, `advance`
    per record, `stop` once at the end, also when the run is refused or interrupted before `start`.
    """

    def preparing(self, message: str) -> None:
        """A step before the first request that can take a while ("loading MODEL ...")."""

    def building(self, task: str, count: int, seconds: float) -> None:
        """One task's samples are built: `count` of them in `seconds`."""

    def plan(self, cells: dict[tuple[str, int], tuple[int, int]]) -> None:
        """Per (task, target_length) cell: (samples, already recorded); called just before start."""

    def start(self, total: int, already_done: int) -> None: ...

    def advance(self, record: Record) -> None: ...

    def stop(self) -> None: ...


class ProgressHooks(Progress):
    """The run loop's side of a progress object: hooks it lacks are skipped, and stop() reaches it
    once. An error in its stop() never hides the run's own error or interrupt (an interrupted run
    must still end with the CLI's resume line): it is kept in `stop_error` and raised only after a
    run that succeeded."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.stopped = False
        self.stop_error: Exception | None = None

    def _call(self, name: str, *args: Any) -> None:
        hook = getattr(self.progress, name, None)
        if hook is not None:
            hook(*args)

    def preparing(self, message: str) -> None:
        self._call("preparing", message)

    def building(self, task: str, count: int, seconds: float) -> None:
        self._call("building", task, count, seconds)

    def plan(self, cells: dict[tuple[str, int], tuple[int, int]]) -> None:
        self._call("plan", cells)

    def start(self, total: int, already_done: int) -> None:
        self._call("start", total, already_done)

    def advance(self, record: Record) -> None:
        self._call("advance", record)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        try:
            self._call("stop")
        except Exception as exc:  # noqa: BLE001 - raised after a successful run, never over its own error
            self.stop_error = exc


# Sample fields added after release 0.1: left out of the key while at their default, so runs made
# before them resume instead of starting over.
LATER_SAMPLE_FIELDS = ("stop_tokens", "min_new_tokens")


def sample_key(sample: Sample, runner_identity: dict[str, Any], params: GenerationParams) -> str:
    """The resume key: a hash of everything that decides a record's output."""
    dumped = sample.model_dump(mode="json", exclude={"metadata", "focus_excerpt"})
    for name in LATER_SAMPLE_FIELDS:
        if getattr(sample, name) == Sample.model_fields[name].get_default():
            del dumped[name]
    payload = {
        "sample": dumped,
        "runner": runner_identity,
        "generation": params.model_dump(mode="json"),
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def build_context(tokenizer: ModelTokenizer, config: RunConfig) -> BuildContext:
    return BuildContext(
        tokenizer=tokenizer,
        lengths=tuple(config.lengths),
        depths=tuple(config.depths),
        samples_per_cell=config.samples_per_cell,
        seed=config.seed,
        max_new_tokens=config.max_new_tokens,
        protocol=config.protocol,
    )


def build_samples(
    tasks: list[Task], tokenizer: ModelTokenizer, config: RunConfig, progress: Progress | None = None
) -> tuple[list[Sample], dict[tuple[str, int], int]]:
    """Every task's samples, and how many each left out per length (they could not fit); each
    task's count and seconds go to `progress.building` as it finishes."""
    context = build_context(tokenizer, config)
    samples: list[Sample] = []
    for task in tasks:
        began = time.perf_counter()
        try:
            built = list(task.build(context))
        except UsageError as exc:
            raise UsageError(f"task {task.name}: {exc}") from None
        samples.extend(built)
        if progress is not None:
            ProgressHooks(progress).building(task.name, len(built), time.perf_counter() - began)
    return samples, context.skipped


FIXTURES_SUFFIX = "+fixtures"


def labelled_for_fixtures(config: RunConfig, used: list[str]) -> RunConfig:
    """A paper protocol whose build fell back to shipped fixtures is recorded as NAME+fixtures,
    never as the paper's; labelled once however many builds used them."""
    if not used or config.protocol == DEFAULT_PROTOCOL or config.protocol.endswith(FIXTURES_SUFFIX):
        return config
    return config.model_copy(update={"protocol": config.protocol + FIXTURES_SUFFIX})


def build_under_protocol(
    tasks: list[Task], tokenizer: ModelTokenizer, config: RunConfig, progress: Progress | None = None
) -> tuple[list[Sample], dict[tuple[str, int], int], RunConfig]:
    """Samples built under the protocol's data policy: a paper protocol refuses shipped fixtures
    unless the run allows them, and a run that used them is labelled `PROTOCOL+fixtures`."""
    with fixture_policy(config.protocol, fixtures_allowed(config)) as policy:
        samples, skipped = build_samples(tasks, tokenizer, config, progress)
    return samples, skipped, labelled_for_fixtures(config, policy.used)


def fixtures_allowed(config: RunConfig) -> bool:
    return config.protocol == DEFAULT_PROTOCOL or config.allow_fixtures


def task_specs(task: Task, context: BuildContext) -> list[SampleSpec] | None:
    """A task's sample specs (None for a task that must be built to be known, or predates specs)."""
    specs = getattr(task, "specs", None)
    return specs(context) if specs is not None else None


def spec_cells(specs: list[SampleSpec]) -> dict[tuple[int, float | None], list[SampleSpec]]:
    """Specs grouped by (length, depth) cell, in grid order."""
    cells: dict[tuple[int, float | None], list[SampleSpec]] = {}
    for spec in specs:
        cells.setdefault((spec.target_length, spec.depth), []).append(spec)
    return cells


# samples built per call for a task that builds only the indices asked (`builds_indices`): the first
# request goes out after this many; a task that builds the whole cell anyway builds it in one call
STREAM_CHUNK = 8


def spec_chunks(task: Task, pending: list[SampleSpec]) -> Iterator[list[SampleSpec]]:
    """Pending specs in the order they are built: cell by cell, in chunks where the task allows."""
    step = STREAM_CHUNK if getattr(task, "builds_indices", False) else None
    for cell in spec_cells(pending).values():
        size = step or len(cell)
        for begin in range(0, len(cell), size):
            yield cell[begin:begin + size]


def first_spec_per_length(pending: list[tuple[str, SampleSpec]], skip: int) -> list[SampleSpec]:
    """The first pending spec of each target length but `skip` (the length already built)."""
    firsts: dict[int, SampleSpec] = {}
    for _, spec in pending:
        if spec.target_length != skip:
            firsts.setdefault(spec.target_length, spec)
    return list(firsts.values())


def build_specs(task: Task, context: BuildContext, chunk: list[SampleSpec]) -> list[Sample | None]:
    """The samples of one chunk of a cell (None: the task left one out); the caller sets the data policy."""
    first = chunk[0]
    try:
        return task.build_cell(context, first.target_length, first.depth, [spec.index for spec in chunk])
    except UsageError as exc:
        raise UsageError(f"task {task.name}: {exc}") from None


def make_record(
    sample: Sample,
    completion: Completion,
    task: Task,
    model: str,
    runner: str,
    tokenizer: ModelTokenizer,
    stages: tuple[Completion, ...] = (),
    settings: str = "",
    protocol: str = DEFAULT_PROTOCOL,
) -> Record:
    prompt = tokenizer.render(sample.messages, sample.use_chat_template, sample.answer_prefix)
    scores = {} if completion.error else task.score(completion.text, sample.references, sample.metadata)
    shared = sample.model_dump(include=SAMPLE_FIELDS_IN_RECORD)
    return Record(
        **shared,
        schema_version=RECORD_SCHEMA_VERSION,
        key=completion.key,
        family=task.family,
        model=model,
        runner=runner,
        prompt_sha256=hashlib.sha256(prompt.encode("utf-8")).hexdigest(),
        prompt_head=prompt[:PROMPT_EXCERPT],
        prompt_tail=prompt[-PROMPT_EXCERPT:],
        completion=completion,
        stages=stages,
        scores=scores,
        primary_metric=task.primary_metric,
        score=scores.get(task.primary_metric),
        settings=settings,
        protocol=protocol,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def clip_to_window(sample: Sample, window: int) -> Sample:
    """A reply budget that would run past the model's window is cut to what the window has left
    (Ada-LEval's API client does the same: its prompts fill the length, the 1024-token reply comes
    on top). The sample records the budget it asked for; one with no room left is kept as it is, so
    the runner's error says why."""
    room = window - sample.input_tokens
    if sample.input_tokens + sample.max_new_tokens <= window or room < 1:
        return sample
    metadata = {**sample.metadata, "max_new_tokens_requested": sample.max_new_tokens}
    return sample.model_copy(update={"max_new_tokens": room, "metadata": metadata})


@dataclass(frozen=True)
class PreparedRun:
    """Everything validated before the run folder is touched.

    `samples` are the built samples of tasks without specs; a grid task's samples are known by
    their specs (`specs`, by resume key) and built while the run streams (`built` holds those built
    already, to check the task's input before anything is written)."""

    config: RunConfig
    tasks: dict[str, Task]
    model: ModelRef
    fingerprint: str
    tokenizer: ModelTokenizer
    window: int | None
    run_dir: Path
    samples: list[Sample]
    skipped: dict[tuple[str, int], int]  # (task, length) -> samples left out (tasks without specs)
    specs: dict[str, SampleSpec] = field(default_factory=dict)  # key -> spec, every grid sample
    done: frozenset[str] = frozenset()  # keys already recorded when the run was prepared
    built: dict[str, Sample | None] = field(default_factory=dict)  # key -> spec'd sample built already
    context: BuildContext | None = None
    store: RunStore | None = None  # the store that planned (its reading spares `execute` a second parse)

    @property
    def pending_specs(self) -> list[SampleSpec]:
        return [spec for key, spec in self.specs.items() if key not in self.done]

    def max_total_tokens(self) -> int:
        """The longest request still to make (prompt plus reply), for `runner.prepare`; 0: none."""
        longest = max((sample.input_tokens + sample.max_new_tokens for sample in self.samples), default=0)
        for spec in self.pending_specs:  # a grid sample fits its length (input budget + reply)
            longest = max(longest, min(spec.target_length, self.window or spec.target_length))
        return longest


def prepare_run(
    config: RunConfig, progress: Progress | None = None
) -> tuple[PreparedRun, type[Runner], RunnerOptions]:
    """Validate names, options, model, lengths and output dir, build the samples of tasks without
    specs (each task reported to `progress.building`), and list the specs of grid tasks with
    their resume keys; the first pending cell of each grid task is built to check its input.

    Raises UsageError on any bad input; writes nothing.
    """
    task_classes = [TASKS.get(name) for name in config.tasks]
    runner_class = RUNNERS.get(config.runner)
    options = parse_options(runner_class, config.runner_options)
    unknown = set(config.task_params) - {cls.name for cls in task_classes}
    if unknown:
        raise UsageError(f"parameters given for tasks not in the run: {', '.join(sorted(unknown))}")
    tasks = {cls.name: make_task(cls, config.task_params.get(cls.name)) for cls in task_classes}
    if config.tokenizer is not None and runner_class.feeds_token_ids:
        raise UsageError(
            f"--tokenizer is for API models: the {runner_class.name} runner feeds the model's own tokens "
            "(use --runner openai)"
        )
    model = resolve_model(config.model) if config.tokenizer is None else resolve_served_model(config.model)
    tokenizer = resolve_tokenizer(config.tokenizer, model)
    window = context_window(model) if model.is_local or config.tokenizer is None else None
    check_context_window(list(config.lengths), window, model.name)
    runner_context = RunnerContext(model=model, tokenizer=tokenizer)
    served = runner_class.served_by(runner_context, options)
    fingerprint = model_fingerprint(model) if served is None else "api:" + served
    run_dir = choose_run_dir(config, model, fingerprint)
    check_writable(run_dir)
    identity = runner_class.identity_of(runner_context, options)  # checks the options it keys on
    if progress is not None:
        ProgressHooks(progress).preparing(f"building samples for {len(tasks)} task{'s' * (len(tasks) != 1)} ...")
    context = build_context(tokenizer, config)
    params = generation_params(config)
    specs: dict[str, SampleSpec] = {}
    eager: list[Task] = []
    for task in tasks.values():
        listed = task_specs(task, context)
        if listed is None:
            eager.append(task)
        else:
            specs.update(zip(spec_keys(listed, identity, params), listed, strict=True))
    store = RunStore(run_dir)
    done = frozenset(store.done_keys() & specs.keys()) if specs else frozenset()
    samples, skipped, config = build_under_protocol(eager, tokenizer, config, progress)
    built: dict[str, Sample | None] = {}
    if specs:  # build each grid task's first pending chunk now: bad input or data is refused here
        with fixture_policy(config.protocol, fixtures_allowed(config)) as policy:
            for task in tasks.values():
                pending = [(key, spec) for key, spec in specs.items() if spec.task == task.name and key not in done]
                if not pending:
                    continue
                began = time.perf_counter()
                chunk = next(spec_chunks(task, [spec for _, spec in pending]))
                wanted = set(chunk)
                keys = [key for key, spec in pending if spec in wanted]
                built.update(zip(keys, build_specs(task, context, chunk), strict=True))
                # one sample at every other pending length too: a length the task cannot fill (its
                # fixed parts exceed the budget) is bad input, refused before anything is written;
                # kept for the stream, which builds only what is not built yet (never twice)
                key_of = {spec: key for key, spec in pending}
                for spec in first_spec_per_length(pending, skip=chunk[0].target_length):
                    built[key_of[spec]] = build_specs(task, context, [spec])[0]
                if progress is not None:
                    ProgressHooks(progress).building(task.name, len(chunk), time.perf_counter() - began)
        config = labelled_for_fixtures(config, policy.used)
    if window is not None:
        samples = [clip_to_window(sample, window) for sample in samples]
    prepared = PreparedRun(
        config, tasks, model, fingerprint, tokenizer, window, run_dir, samples, skipped, specs, done, built, context,
        store,
    )
    return prepared, runner_class, options


def generation_params(config: RunConfig) -> GenerationParams:
    return GenerationParams(temperature=config.temperature, top_p=config.top_p, seed=config.seed)


def run_evaluation(config: RunConfig, progress: Progress | None = None) -> RunSummary:
    """Run (or resume) an evaluation; raises UsageError before writing anything on bad input."""
    started = time.perf_counter()
    hooks = ProgressHooks(progress or Progress())
    try:
        with one_warning_per_run():
            summary = _run_prepared(config, hooks, started)
    finally:
        hooks.stop()  # a run refused or interrupted before its first sample ends the display too
    if hooks.stop_error is not None:
        raise hooks.stop_error
    return summary


def _run_prepared(config: RunConfig, hooks: ProgressHooks, started: float) -> RunSummary:
    """Prepare the run (bad input refused here), start the runner and execute."""
    prepared, runner_class, options = prepare_run(config, hooks)
    longest = prepared.max_total_tokens()
    if longest and runner_class.feeds_token_ids:
        hooks.preparing(f"loading {prepared.model.name} with the {runner_class.name} runner ...")
    runner = runner_class(RunnerContext(model=prepared.model, tokenizer=prepared.tokenizer), options)
    try:
        if longest:
            runner.prepare(longest)
        return execute(prepared, runner, hooks, started)
    finally:
        runner.close()


def stream_samples(prepared: PreparedRun, keyed: dict[str, Sample], done: set[str]) -> Iterator[tuple[str, Sample]]:
    """(key, sample) of every pending sample, built as they are asked for: first the samples of
    tasks without specs (built already), then each grid task cell by cell."""
    for key, sample in keyed.items():
        if key not in done:
            yield key, sample
    if not prepared.specs:
        return
    context = prepared.context or build_context(prepared.tokenizer, prepared.config)
    keys_of = {spec: key for key, spec in prepared.specs.items()}
    allowed = fixtures_allowed(prepared.config)
    for task in prepared.tasks.values():
        pending = [spec for key, spec in prepared.specs.items() if spec.task == task.name and key not in done]
        for chunk in spec_chunks(task, pending):
            keys = [keys_of[spec] for spec in chunk]
            missing = [spec for spec, key in zip(chunk, keys, strict=True) if key not in prepared.built]
            fresh: Iterator[Sample | None] = iter(())
            if missing:  # samples depend on their spec alone: built apart, they are the same
                with fixture_policy(prepared.config.protocol.removesuffix(FIXTURES_SUFFIX), allowed):
                    fresh = iter(build_specs(task, context, missing))
            samples = [prepared.built.pop(key) if key in prepared.built else next(fresh) for key in keys]
            for key, sample in zip(keys, samples, strict=True):
                if sample is not None:
                    yield key, sample if prepared.window is None else clip_to_window(sample, prepared.window)


def execute(prepared: PreparedRun, runner: Runner, progress: Progress, started: float) -> RunSummary:
    """Generate every sample not yet recorded and append one scored record per completion; grid
    samples are built while earlier requests run (the runner consumes an iterable)."""
    config = prepared.config
    params = generation_params(config)
    identity = runner.identity()
    keyed = {sample_key(sample, identity, params): sample for sample in prepared.samples}
    reports = {name: TaskReport(family=task.family, axes=task.report) for name, task in prepared.tasks.items()}
    manifest = build_manifest(
        config, prepared.model, runner.name, identity, prepared.tokenizer, prepared.window, reports
    )
    manifest.run_name = prepared.run_dir.name
    manifest.model_fingerprint = prepared.fingerprint
    settings, settings_detail = settings_of(config, identity, params)
    store = prepared.store or RunStore(prepared.run_dir)
    manifest = store.open(manifest)
    # every option of this invocation, including those left out of the resume key (never a secret)
    manifest.invocations[-1]["runner_options"] = public_options(runner.options)
    manifest.invocations[-1]["settings"] = {"id": settings, **settings_detail}
    def skipped_samples() -> list[dict[str, Any]]:
        skipped = dict(prepared.skipped)  # tasks built before the run, then grid cells built in it
        # a copy: an API runner's builder thread may still be counting while the run ends
        for cell, count in list((prepared.context.skipped if prepared.context else {}).items()):
            skipped[cell] = skipped.get(cell, 0) + count
        return [
            {"task": task, "target_length": length, "count": count}
            for (task, length), count in sorted(skipped.items())
        ]

    manifest.invocations[-1]["skipped_samples"] = skipped_samples()
    errors = generated = pending_count = 0
    total = len(keyed) + len(prepared.specs)
    try:
        recorded = store.done_keys()
        done = recorded & (keyed.keys() | prepared.specs.keys())
        pending_count = total - len(done)
        cells: dict[tuple[str, int], tuple[int, int]] = {}
        cell_keys = [(key, (s.task, s.target_length)) for key, s in keyed.items()]
        cell_keys += [(key, spec.cell) for key, spec in prepared.specs.items()]
        for key, cell in cell_keys:
            count, already = cells.get(cell, (0, 0))
            cells[cell] = (count + 1, already + (key in done))
        ProgressHooks(progress).plan(cells)
        progress.start(total, len(done))
        first_calls = store.stage_outputs()
        live: dict[str, Sample] = {}  # samples with a request out (or a first call to follow up)
        multi_pending: list[str] = []  # multi-call keys whose first call is done, in order

        def requests() -> Iterator[Request]:
            for key, sample in stream_samples(prepared, keyed, done):
                live[key] = sample
                if key in first_calls:
                    multi_pending.append(key)
                else:
                    yield to_request(key, sample, params)

        def finish(key: str, completion: Completion, stages: tuple[Completion, ...] = ()) -> None:
            nonlocal generated, errors
            sample = live.pop(key)
            task = prepared.tasks[sample.task]
            record = make_record(
                sample, completion.model_copy(update={"key": key}), task, prepared.model.name, runner.name,
                prepared.tokenizer, stages, settings, config.protocol,
            )
            store.append(record)
            generated += 1
            errors += completion.error is not None
            progress.advance(record)

        # a runner that takes an iterable (`streams_requests`) starts while later samples are built;
        # any other (ray, openai, plugins: they sort or count a list) gets them all built first
        stream = requests() if getattr(runner, "streams_requests", False) else list(requests())
        for completion in runner.generate(stream):
            if completion.error is None and prepared.tasks[live[completion.key].task].multi_call:
                store.append_stage(completion)
                first_calls[completion.key] = completion
                multi_pending.append(completion.key)
            else:
                finish(completion.key, completion)
        # second calls of multi-call tasks, from this run's first calls and those a killed run kept
        follow_ups = {key: first_calls[key] for key in multi_pending}
        second = [
            request
            for key, first in follow_ups.items()
            if (request := follow_up_request(key, live[key], first, prepared, params)) is not None
        ]
        for key in follow_ups.keys() - {request.key for request in second}:
            finish(key, follow_ups[key])  # the task wanted no second call for this output
        for completion in runner.generate(second) if second else ():
            finish(completion.key, completion, (follow_ups[completion.key],))
    finally:
        progress.stop()
        invocation = manifest.invocations[-1]
        invocation.update(
            ended=datetime.now(UTC).isoformat(timespec="seconds"),
            generated=generated,
            errors=errors,
            torn_bytes_moved=store.torn_bytes,
            foreign_lines_skipped=store.foreign_lines,
            skipped_samples=skipped_samples(),  # grid cells built while running may leave samples out
        )
        usage = runner.usage_summary()
        if usage is not None:
            invocation["usage"] = usage
        manifest.ended = invocation["ended"]
        store.close(manifest)
    return RunSummary(
        run_dir=prepared.run_dir,
        total=total,
        skipped=total - pending_count,
        generated=generated,
        errors=errors,
        wall_s=time.perf_counter() - started,
        foreign_lines=store.foreign_lines,
    )


def follow_up_request(
    key: str, sample: Sample, first: Completion, prepared: PreparedRun, params: GenerationParams
) -> Request | None:
    """The task's second call for a first output: the sample's key, stage 2 (None: no second call)."""
    follow_up: FollowUp | None = prepared.tasks[sample.task].follow_up(sample, first.text)
    if follow_up is None:
        return None
    return Request(
        key=key,
        stage=2,
        messages=follow_up.messages,
        use_chat_template=follow_up.use_chat_template,
        input_tokens=prepared.tokenizer.count(follow_up.messages, follow_up.use_chat_template),
        max_new_tokens=follow_up.max_new_tokens,
        stop=follow_up.stop,
        params=params,
    )


def to_request(key: str, sample: Sample, params: GenerationParams) -> Request:
    return Request(
        key=key,
        messages=sample.messages,
        use_chat_template=sample.use_chat_template,
        answer_prefix=sample.answer_prefix,
        input_tokens=sample.input_tokens,
        max_new_tokens=sample.max_new_tokens,
        stop=sample.stop,
        stop_tokens=sample.stop_tokens,
        min_new_tokens=sample.min_new_tokens,
        params=params,
    )
