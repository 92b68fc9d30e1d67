"""Measure what the simulator's rware world charges for its fallback: the guard's whole chain
(``Guard.run_fallbacks``: the fetch planner, its plan checked against the rules), timed on the
world's own contexts, robots standing where their last plan left them; prints the figures
:data:`plansentry_rware.world.FALLBACK_TIME` holds.

    python kits/plansentry-rware/bench/world_time.py [--contexts 20000] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from typing import Any

from plansentry_rware import rware_kit
from plansentry_rware.world import RwareWorld

from plansentry.report.stats import wilson
from plansentry.runtime.world import WorldSettings

QUANTILES = 10


def measure(contexts: int, seed: int) -> dict[str, Any]:
    kit = rware_kit()
    world = kit.world(WorldSettings(blocked_p=0.0003))  # type: ignore[misc]
    assert isinstance(world, RwareWorld)
    guard = kit.guard()
    wcet = sum(fb.wcet_ms for fb in kit.fallbacks)
    tasks = world.tasks(random.Random(seed), "T")
    at = world.start(0)
    ms: list[float] = []
    for _ in range(contexts):
        ctx = world.context(next(tasks), "R1", at)
        t0 = time.perf_counter_ns()
        outcomes = guard.run_fallbacks(ctx)
        ms.append((time.perf_counter_ns() - t0) / 1e6)
        plan = outcomes[0].plan if outcomes else None
        if plan is not None:
            at = world.after(plan, ctx)
    ms.sort()
    over = sum(x > wcet for x in ms)
    tail = max(1, math.ceil(len(ms) / 1000))
    return {
        "bench": "rware-world-fallbacks",
        "contexts": contexts,
        "seed": seed,
        "cpus": os.cpu_count(),
        "load": os.getloadavg()[0],
        "declared_wcet_ms": wcet,
        "over_wcet": over,
        "over_wcet_ci95": list(wilson(over, len(ms))),
        "quantiles_ms": [round(ms[k * len(ms) // QUANTILES], 3) for k in range(QUANTILES)],
        "tail_ms": [round(x, 3) for x in ms[len(ms) - tail :]],
        "max_ms": round(ms[-1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contexts", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")
    args = parser.parse_args()
    doc = measure(args.contexts, args.seed)
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    print(
        f"{doc['contexts']} contexts (seed {doc['seed']}, {doc['cpus']} cpus, load "
        f"{doc['load']:.1f}): quantiles ms {doc['quantiles_ms']}, slowest 0.1 % "
        f"{doc['tail_ms']}, {doc['over_wcet']} over the declared {doc['declared_wcet_ms']:g} ms "
        f"(95 % upper {doc['over_wcet_ci95'][1]:.6f})"
    )


if __name__ == "__main__":
    main()
