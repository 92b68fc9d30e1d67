"""Shared bench helpers: timing side by side, percentiles, machine description, JSON output."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def ms(ns: float | None) -> float | None:
    """Nanoseconds as milliseconds, to the microsecond (``None`` stays ``None``)."""
    return None if ns is None else round(ns / 1e6, 3)


def percentiles_ms(values_ns: list[int]) -> dict[str, Any]:
    """p50, p99, p99.9 and the maximum of nanosecond samples, in milliseconds (nearest rank, as
    :func:`plansentry.report.stats.percentile`), and their count."""
    from plansentry.report.stats import percentile

    return {
        "p50_ms": ms(percentile(values_ns, 0.50)),
        "p99_ms": ms(percentile(values_ns, 0.99)),
        "p999_ms": ms(percentile(values_ns, 0.999)),
        "max_ms": ms(max(values_ns) if values_ns else None),
        "n": len(values_ns),
    }


def summary_us(samples_ns: list[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "median_us": round(statistics.median(ordered) / 1000, 3),
        "p99_us": round(p99 / 1000, 3),
        "min_us": round(ordered[0] / 1000, 3),
        "n": len(ordered),
    }


def side_by_side(
    cases: dict[str, Callable[[], object]], rounds: int, block: int = 100, warmup: int = 200
) -> dict[str, list[int]]:
    """Time every call of every case, rotating between cases every ``block`` calls.

    Rotation spreads the machine's noise evenly over the cases; blocks keep one case's working set
    from being evicted by the next case's between two of its own calls (which would measure the
    neighbour, not the case).
    """
    clock = time.perf_counter_ns
    for _ in range(warmup):
        for fn in cases.values():
            fn()
    samples: dict[str, list[int]] = {name: [] for name in cases}
    items = list(cases.items())
    for _ in range(max(1, rounds // block)):
        for name, fn in items:
            out = samples[name]
            for _ in range(block):
                t0 = clock()
                fn()
                out.append(clock() - t0)
    return samples


def emit(doc: dict[str, Any], as_json: bool, human: Callable[[dict[str, Any]], str]) -> None:
    if as_json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(human(doc) + "\n")
