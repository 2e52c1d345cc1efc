"""Resume cost and time to first request: spec keys and streaming against the old path, measured
in the same run on the same settings.

Before (the baseline): every sample is built before the first request and on every resume (the
grid tasks' `grid_task` switched off, so keys hash the built samples). After: grid tasks list specs,
a finished run's rerun builds nothing, and samples stream into the runner while it works.

For each (length x samples) case: first run, rerun of the finished run, and the time from the
start of the run to the runner's first request, with the `constant` runner.
Targets: rerun <= 0.05x the first run; first request within seconds.

Usage: python benchmarks/resume_cost.py [--cases 1k:1000,8k:20] [--model PATH] [--task niah_single_1]
(default model: lc_bench.models.default_model(), the embedded SmolLM2, whose window is 8k; 128k cases
need a model with a 128k window via --model)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import lc_bench
from lc_bench.lengths import parse_length
from lc_bench.runners.testing import ConstantRunner
from lc_bench.tasks.niah import Niah
from lc_bench.tasks.qa import QATask
from lc_bench.tasks.synthetic import UnitTask

GRID_CLASSES = (Niah, UnitTask, QATask)


def set_grid(on: bool) -> None:
    for cls in GRID_CLASSES:
        cls.grid_task = on
    Niah.grid_depths = on


class FirstRequest:
    """Wraps the constant runner's generate: the time its first request was taken."""

    def __init__(self) -> None:
        self.at: float | None = None
        original = ConstantRunner.generate

        def generate(runner, requests):  # noqa: ANN001, ANN202
            def watched():  # noqa: ANN202
                for request in requests:
                    if self.at is None:
                        self.at = time.perf_counter()
                    yield request

            return original(runner, watched())

        ConstantRunner.generate = generate


def one_run(model: str, task: str, length: int, samples: int, out: Path, watch: FirstRequest) -> tuple[float, float]:
    watch.at = None
    began = time.perf_counter()
    result = lc_bench.evaluate(model=model, tasks=task, lengths=[length], depths="50", samples=samples,
                               runner="constant", out=out, name="bench", write_outputs=False)
    wall = time.perf_counter() - began
    first = (watch.at - began) if watch.at is not None else float("nan")
    assert result.summary.total == samples, result.summary
    return wall, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="1k:1000,8k:20", help="LENGTH:SAMPLES,...")
    parser.add_argument("--task", default="niah_single_1")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    if args.model is None:
        from lc_bench.models import default_model

        args.model = default_model().source
    watch = FirstRequest()
    print(f"task {args.task}, model {args.model}, constant runner")
    with tempfile.TemporaryDirectory() as folder:  # imports and the tokenizer's first load are no one's cost
        one_run(args.model, args.task, 1024, 1, Path(folder), watch)
    for case in args.cases.split(","):
        length_text, count = case.split(":")
        length, samples = parse_length(length_text), int(count)
        row = {}
        for mode, on in (("before", False), ("after", True)):
            set_grid(on)
            with tempfile.TemporaryDirectory() as folder:
                first, first_request = one_run(args.model, args.task, length, samples, Path(folder), watch)
                rerun, _ = one_run(args.model, args.task, length, samples, Path(folder), watch)
            row[mode] = (first, rerun, first_request)
            print(f"{length_text} x {samples} {mode:>6}: first run {first:7.2f} s, rerun {rerun:7.2f} s "
                  f"({rerun / first:.3f}x), first request after {first_request:6.2f} s")
        (b_first, b_rerun, b_req), (a_first, a_rerun, a_req) = row["before"], row["after"]
        print(f"{length_text} x {samples} ratios: rerun/first {a_rerun / a_first:.3f}x "
              f"(before {b_rerun / b_first:.3f}x, target <= 0.05x); "
              f"rerun after/before {a_rerun / b_rerun:.3f}x; first request after/before "
              f"{a_req / b_req:.3f}x; first run after/before {a_first / b_first:.3f}x")


if __name__ == "__main__":
    main()
