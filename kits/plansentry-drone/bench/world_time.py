"""Measure what the simulator's drone world charges for its fallbacks: the guard's whole chain
(``Guard.run_fallbacks``: the mission planner, then return-to-home, each plan checked against the
rules), timed on the world's own missions, and write the module the world reads.

    python kits/plansentry-drone/bench/world_time.py [--missions 20000] [--seed 1] [--json]
        [--write kits/plansentry-drone/src/plansentry_drone/fallback_time.py]

The declared worst case is the two fallbacks' declarations together (what the guard reserves);
a run over it is counted, with the 95 % Wilson interval of their share (its upper end is the
simulator's default overrun share).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from plansentry_drone.kit import drone_kit
from plansentry_drone.world import DroneWorld

from plansentry.report.stats import wilson
from plansentry.runtime.world import WorldSettings

QUANTILES = 1_000


def measure(missions: int, seed: int) -> dict[str, Any]:
    kit = drone_kit()
    world = kit.world(WorldSettings(blocked_p=0.0003))  # type: ignore[misc]
    assert isinstance(world, DroneWorld)
    guard = kit.guard()
    wcet = sum(fb.wcet_ms for fb in kit.fallbacks)
    tasks = world.tasks(random.Random(seed), "T")
    ms: list[float] = []
    no_plan = 0
    for _ in range(missions):
        task = next(tasks)
        ctx = world.context(task, "DR-1", world.start(0))
        t0 = time.perf_counter_ns()
        outcomes = guard.run_fallbacks(ctx)
        ms.append((time.perf_counter_ns() - t0) / 1e6)
        no_plan += all(o.plan is None or o.violations for o in outcomes)
    ms.sort()
    over = sum(x > wcet for x in ms)
    lo, hi = wilson(over, len(ms))
    return {
        "bench": "drone-world-fallbacks",
        "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load": os.getloadavg()[0],
        "missions": missions,
        "seed": seed,
        "no_plan": no_plan,
        "declared_wcet_ms": wcet,
        "over_wcet": over,
        "over_wcet_ci95": [lo, hi],
        "median_ms": round(statistics.median(ms), 4),
        "p99_ms": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 4),
        "max_ms": round(ms[-1], 4),
        "quantiles_ms": [round(ms[round(k * len(ms) / QUANTILES)], 4) for k in range(QUANTILES)],
        "tail_ms": [round(x, 4) for x in ms[len(ms) - max(1, len(ms) // QUANTILES) :]],
    }


def module_text(doc: dict[str, Any], command: str) -> str:
    def rows(values: list[float]) -> str:
        lines = [", ".join(f"{v!r}" for v in values[i : i + 8]) for i in range(0, len(values), 8)]
        return "".join(f"    {line},\n" for line in lines)

    lo, hi = doc["over_wcet_ci95"]
    return f'''r"""The drone's fallbacks' compute time as measured: what the simulator's world charges.

Generated on {doc["when"]} ({doc["cpus"]} CPUs shared with other work, load {doc["load"]:.1f},
Python {doc["python"]},
{doc["platform"]}) by the command below; do not edit by hand, run it again::

    {command}

The guard's whole chain (mission planner, then return-to-home, each plan checked) on
{doc["missions"]:,} missions of the world's own stream: median {doc["median_ms"]} ms, p99
{doc["p99_ms"]} ms, max {doc["max_ms"]} ms; {doc["over_wcet"]} run(s) over the declared
{doc["declared_wcet_ms"]:g} ms (95 % Wilson interval of that share: {lo:.3g} to {hi:.3g}).
"""

from __future__ import annotations

from typing import Final

#: The two fallbacks' declared worst cases together (what the guard reserves), ms.
DECLARED_WCET_MS: Final = {doc["declared_wcet_ms"]!r}
#: Runs measured.
SAMPLES: Final = {doc["missions"]}
#: Runs over the declared worst case, and the upper end of the 95 % interval of their share.
OVER_WCET: Final = {doc["over_wcet"]}
OVER_WCET_P_HIGH: Final = {hi!r}
# fmt: off
#: Quantiles 0, 1/{QUANTILES}, ..., {QUANTILES - 1}/{QUANTILES} of the compute time (ms).
QUANTILES_MS: Final = (
{rows(doc["quantiles_ms"])})
#: The slowest 1/{QUANTILES} of the runs, each as measured (ms), in order: the tail, kept whole.
TAIL_MS: Final = (
{rows(doc["tail_ms"])})
# fmt: on
'''


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--missions", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--write", metavar="PATH", help="write the world's module here")
    args = p.parse_args()
    doc = measure(args.missions, args.seed)
    if args.write:
        command = (
            f"python kits/plansentry-drone/bench/world_time.py --missions {args.missions} "
            f"--seed {args.seed} \\\n        --write {args.write}"
        )
        Path(args.write).write_text(module_text(doc, command), encoding="utf-8")
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        print()
        return
    lo, hi = doc["over_wcet_ci95"]
    print(
        f"drone fallbacks on {doc['missions']:,} world missions: median {doc['median_ms']} ms, "
        f"p99 {doc['p99_ms']} ms, max {doc['max_ms']} ms; over the declared "
        f"{doc['declared_wcet_ms']:g} ms: {doc['over_wcet']} (95 % CI {lo:.3g}-{hi:.3g}); "
        f"missions without a usable fallback plan: {doc['no_plan']} (load {doc['load']:.1f})"
    )


if __name__ == "__main__":
    main()
