"""Harness against baseline, run in turns: the shared loop of hf_overhead.py and vllm_overhead.py.

Each repeat times both sides as whole processes; the baseline goes first on odd repeats, so a
machine that slows down during the benchmark favours neither. Every repeat prints both times and
the ratio, then the min and median ratio against the target.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable


def alternate(
    repeats: int, baseline_name: str, baseline: Callable[[], float], harness: Callable[[int], float],
    target: float = 1.03,
) -> list[float]:
    """Ratios harness / baseline, one per repeat (`harness(repeat)` may name its run by the repeat)."""
    print(f"{'repeat':>6} {'order':>14} {baseline_name + ' s':>8} {'lc-bench s':>10} {'ratio':>7}")
    ratios = []
    for repeat in range(repeats):
        if repeat % 2:
            base, order = baseline(), f"{baseline_name} first"
            ours = harness(repeat)
        else:
            ours, order = harness(repeat), "lc-bench first"
            base = baseline()
        ratios.append(ours / base)
        print(f"{repeat:>6} {order:>14} {base:>8.1f} {ours:>10.1f} {ours / base:>6.3f}x")
    print(f"ratio min {min(ratios):.3f}x, median {statistics.median(ratios):.3f}x (target <= {target})")
    return ratios
