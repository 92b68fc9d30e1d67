"""Pathological outputs through the gate: the failure mode, the gate's time and its peak memory.

Each output of ``plansentry.testing.hostile.hostile_outputs()`` is checked against the default order's
context: the gate's time is the median of 5 calls (``perf_counter``), its peak memory is measured in
a separate call under ``tracemalloc`` (Python allocations made by the check, over the input's own
size). The budget is 150 ms; the gate runs inside its 5 ms reserve.

Usage: ``python bench/pathological.py [--json]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine
from plansentry.core.gate import Gate
from plansentry.domains.warehouse.examples import (
    DEFAULT_ROBOT,
    DEFAULT_START_STATION,
    default_order,
)
from plansentry.domains.warehouse.map import default_map
from plansentry.domains.warehouse.rules import WarehouseDomain
from plansentry.testing.hostile import hostile_outputs


def run() -> dict[str, Any]:
    wh = default_map()
    domain = WarehouseDomain(wh)
    ctx = domain.context(default_order(wh), DEFAULT_ROBOT, wh.pack_stations[DEFAULT_START_STATION])
    gate = Gate(domain)
    rows = []
    for name, (raw, expected) in hostile_outputs().items():
        times = []
        verdict = None
        for _ in range(5):
            t0 = time.perf_counter_ns()
            verdict = gate.check(raw, len(raw), ctx, ctx.version)
            times.append(time.perf_counter_ns() - t0)
        assert verdict is not None
        tracemalloc.start()
        gate.check(raw, len(raw), ctx, ctx.version)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(
            {
                "output": name,
                "bytes": len(raw),
                "failure_mode": verdict.mode.value if verdict.mode else None,
                "expected": expected.value,
                "rule": verdict.violations[0].rule if verdict.violations else None,
                "gate_us_median": round(statistics.median(times) / 1000, 1),
                "gate_us_max": round(max(times) / 1000, 1),
                "peak_alloc_kib": round(peak / 1024, 1),
            }
        )
    return {
        "bench": "pathological",
        "machine": machine(),
        "all_as_expected": all(r["failure_mode"] == r["expected"] for r in rows),
        "worst_gate_us": max(r["gate_us_max"] for r in rows),
        "worst_peak_alloc_kib": max(r["peak_alloc_kib"] for r in rows),
        "cases": rows,
    }


def human(doc: dict[str, Any]) -> str:
    lines = [f"{'output':42} {'bytes':>10} {'mode':10} {'us':>9} {'peak KiB':>9}"]
    for r in doc["cases"]:
        lines.append(
            f"{r['output']:42} {r['bytes']:>10} {r['failure_mode'] or 'ok':10} "
            f"{r['gate_us_median']:>9} {r['peak_alloc_kib']:>9}"
        )
    lines.append(f"all as expected: {doc['all_as_expected']}; worst {doc['worst_gate_us']} us")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    emit(run(), args.json, human)


if __name__ == "__main__":
    main()
