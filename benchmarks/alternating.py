"""Harness against baseline, run in turns: the shared loop of hf_overhead.py and vllm_overhead.py.

Each repeat times both sides as whole processes; the baseline goes first on odd repeats, so a
machine that slows down during the benchmark favours neither. Every repeat prints both wall times
and their ratio, and the ratio of the CPU time (user + system) the two processes used: on a shared
machine the wall time of the same command varies by 10% from run to run, its CPU time much less.
The summary gives the min and median of each ratio, and the ratio of the summed times, against the
target.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable


def _timed(side: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds and the CPU seconds of the child processes `side` waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    side()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def alternate(
    repeats: int, baseline_name: str, baseline: Callable[[], object], harness: Callable[[int], object],
    target: float = 1.03,
) -> list[float]:
    """Wall-time ratios harness / baseline, one per repeat (`harness(repeat)` may name its run by
    the repeat). Both sides must run their work in child processes (subprocess.run)."""
    print(f"{'repeat':>6} {'order':>14} {baseline_name + ' s':>8} {'lc-bench s':>10} {'ratio':>7} "
          f"{'cpu ' + baseline_name + ' s':>12} {'cpu lc-bench s':>14} {'cpu ratio':>9}")
    walls: list[tuple[float, float]] = []
    cpus: list[tuple[float, float]] = []
    for repeat in range(repeats):
        if repeat % 2:
            base, order = _timed(baseline), f"{baseline_name} first"
            ours = _timed(lambda: harness(repeat))  # noqa: B023 - called at once, in this iteration
        else:
            ours, order = _timed(lambda: harness(repeat)), "lc-bench first"  # noqa: B023
            base = _timed(baseline)
        walls.append((base[0], ours[0]))
        cpus.append((base[1], ours[1]))
        print(f"{repeat:>6} {order:>14} {base[0]:>8.1f} {ours[0]:>10.1f} {ours[0] / base[0]:>6.3f}x "
              f"{base[1]:>12.1f} {ours[1]:>14.1f} {ours[1] / base[1]:>8.3f}x")
    for label, pairs in (("wall", walls), ("cpu", cpus)):
        ratios = [ours / base for base, ours in pairs]
        summed = sum(ours for _, ours in pairs) / sum(base for base, _ in pairs)
        print(f"{label} ratio min {min(ratios):.3f}x, median {statistics.median(ratios):.3f}x, "
              f"summed {summed:.3f}x (target <= {target})")
    return [ours / base for base, ours in walls]
