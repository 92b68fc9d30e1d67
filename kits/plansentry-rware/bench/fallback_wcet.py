"""Measure the fetch planner's worst-case time, the figure it declares as ``wcet_ms``.

For each of rware's registered floors (tiny, small, medium, large) it draws seeded random moments
(``random_context``: shelves away from home, other robots holding cells, the robot loaded one time
in five) with 2, 10 and 19 robots (rware registers 1 to 19) and request queues of 1 to 38 shelves
(rware's ``-easy`` tasks ask for twice the robots), and times the planner on each, ``--repeats``
times: ``hardest`` is the costliest moment's best run (its own cost), ``max ms`` the slowest run
of all (with whatever else the machine was doing meanwhile), ``max cpu`` the most CPU time one
run took (the slowest run less the time it waited for a core), ``p99`` over every run. It also times
the gate on the longest plan it planned. The declared figure must cover the worst run seen here,
with margin for a busier machine: the guard reserves it from every decision's budget.

    python kits/plansentry-rware/bench/fallback_wcet.py [--moments 300] [--repeats 5] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from typing import Any

import msgspec
from plansentry_rware import FetchPlanner, random_context, rware_kit, sized_layout
from plansentry_rware.fetch_planner import DECLARED_WCET_MS

from plansentry.core.gate import Gate


def measure(moments: int, repeats: int, seed: int) -> dict[str, Any]:
    """Every figure the script prints, as one document (the text output is made from it)."""
    planner = FetchPlanner()
    kit = rware_kit()
    gate = Gate(kit.domain)
    rows: list[dict[str, Any]] = []
    worst_all = 0.0
    for size in ("tiny", "small", "medium", "large"):
        layout = sized_layout(size)
        for robots in (2, 10, 19):
            rng = random.Random(f"{seed}-{size}-{robots}")
            hardest, runs, none, gate_ms, cpu = 0.0, [], 0, 0.0, 0.0
            longest = None
            for i in range(moments):
                ctx = random_context(
                    rng, layout, robots=robots, requests=rng.randint(1, 2 * robots), seq=i
                )
                times = []
                gc.disable()
                try:
                    for _ in range(repeats):
                        c0, t0 = time.thread_time(), time.perf_counter()
                        out = planner.plan(ctx)
                        times.append((time.perf_counter() - t0) * 1000)
                        cpu = max(cpu, (time.thread_time() - c0) * 1000)
                finally:
                    gc.enable()
                runs += times
                hardest = max(hardest, min(times))
                if out.plan is None:
                    none += 1
                elif longest is None or len(out.plan.cells()) > len(longest[0].cells()):
                    longest = (out.plan, ctx)
            if longest is not None:
                text = msgspec.json.encode(longest[0])
                ctx = longest[1]
                best = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    gate.check(text, len(text), ctx, ctx.version)
                    best.append((time.perf_counter() - t0) * 1000)
                gate_ms = min(best)
            # quantiles needs two runs; with one, that run is its own p99
            p99 = statistics.quantiles(runs, n=100)[98] if len(runs) > 1 else runs[0]
            worst_all = max(worst_all, max(runs))
            rows.append(
                {
                    "floor": size,
                    "robots": robots,
                    "hardest_ms": hardest,
                    "p99_ms": p99,
                    "max_ms": max(runs),
                    "max_cpu_ms": cpu,
                    "no_plan": none,
                    "gate_ms": gate_ms,
                }
            )
    return {
        "bench": "rware-fallback-wcet",
        "moments": moments,
        "repeats": repeats,
        "seed": seed,
        "declared_wcet_ms": DECLARED_WCET_MS,
        "rows": rows,
        "slowest_ms": worst_all,
    }


def text(doc: dict[str, Any]) -> str:
    """The text output: the document's figures, as the script always printed them."""
    head = ("floor", "robots", "hardest", "p99", "max ms", "max cpu", "no plan", "gate ms")
    lines = [f"declared wcet_ms = {doc['declared_wcet_ms']:g}"]
    lines.append(f"{head[0]:8} " + " ".join(f"{h:>7}" for h in head[1:]))
    for r in doc["rows"]:
        lines.append(
            f"{r['floor']:8} {r['robots']:>7} {r['hardest_ms']:>7.2f} {r['p99_ms']:>7.2f} "
            f"{r['max_ms']:>7.2f} {r['max_cpu_ms']:>7.2f} {r['no_plan']:>7} {r['gate_ms']:>7.3f}"
        )
    lines.append(
        f"slowest run of all: {doc['slowest_ms']:.2f} ms (declared {doc['declared_wcet_ms']:g} ms)"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--moments", type=int, default=300, help="moments per floor and fleet size")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")
    args = parser.parse_args()
    doc = measure(args.moments, args.repeats, args.seed)
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(text(doc))


if __name__ == "__main__":
    main()
