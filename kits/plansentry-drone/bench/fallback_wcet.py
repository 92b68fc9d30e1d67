"""Measure the drone fallbacks' worst-case time, the figure each declares as ``wcet_ms``.

For each airspace (the embedded default, and two built at the size limits of
``plansentry_drone.airspace``: 64 corners, one of circles and one of a dozen polygons in a
comb-shaped geofence) it draws seeded random missions of 1 to 16 points (the context limit), with
the drone on the ground at home or flying anywhere, and times every fallback on each, best and
worst of ``--repeats`` runs: ``hardest`` is the costliest mission's best run (its own cost),
``max ms`` the slowest run of all (with whatever else the machine was doing meanwhile), ``max
cpu`` the most CPU time one run took (the slowest run less the time it waited for a core). It also
times the gate's rules on the largest plan the schema admits (64 waypoints). The declared figures
must cover the worst run seen here, with margin for a busier machine: the guard reserves them
from every decision's budget.

    python kits/plansentry-drone/bench/fallback_wcet.py [--missions 400] [--repeats 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import time
from collections.abc import Callable

import msgspec
from plansentry_drone import (
    Airspace,
    CircleZone,
    DroneContext,
    DronePlan,
    PolygonZone,
    default_airspace,
    drone_kit,
    random_context,
)
from plansentry_drone.mission_planner import DECLARED_WCET_MS as MISSION_WCET_MS
from plansentry_drone.return_home import DECLARED_WCET_MS as HOME_WCET_MS

from plansentry.core.gate import Gate


def circles_at_the_limit() -> Airspace:
    """A 16-corner star-ish geofence (8 inward corners) and three circles: 64 corners."""
    fence = []
    for k in range(16):
        r = 2000.0 if k % 2 == 0 else 1500.0
        a = 2 * math.pi * k / 16
        fence.append((round(r * math.cos(a), 1), round(r * math.sin(a), 1)))
    zones = (
        CircleZone("C1", (600.0, 200.0), 180.0),
        CircleZone("C2", (-500.0, 500.0), 220.0),
        CircleZone("C3", (100.0, -700.0), 160.0),
    )
    return Airspace(
        version="limit-circles/1",
        geofence=tuple(fence),
        min_alt_m=20.0,
        max_alt_m=120.0,
        home=(0.0, 0.0),
        pads=(("PAD-A", (1200.0, 0.0)),),
        no_fly=zones,
    )


def polygons_at_the_limit() -> Airspace:
    """A comb-shaped 16-corner geofence and twelve square zones in rows: 64 corners."""
    fence = [(-300.0, -300.0), (3300.0, -300.0), (3300.0, 2300.0)]
    for tooth in range(3):  # three notches cut down into the top edge
        x = 2700.0 - tooth * 900.0
        fence += [(x, 2300.0), (x, 1700.0), (x - 300.0, 1700.0), (x - 300.0, 2300.0)]
    fence.append((-300.0, 2300.0))
    zones = []
    for row in range(3):
        for col in range(4):
            x, y = 300.0 + col * 750.0, 200.0 + row * 550.0
            square = ((x, y), (x + 200.0, y), (x + 200.0, y + 200.0), (x, y + 200.0))
            zones.append(PolygonZone(f"Z{row}{col}", square))
    return Airspace(
        version="limit-polygons/1",
        geofence=tuple(fence),
        min_alt_m=20.0,
        max_alt_m=120.0,
        home=(0.0, 0.0),
        pads=(("PAD-A", (3000.0, 0.0)),),
        no_fly=tuple(zones),
    )


def timed_ms(
    fn: Callable[[DroneContext], object], ctx: DroneContext, repeats: int
) -> tuple[float, float, float]:
    """The fastest and the slowest of ``repeats`` runs (wall-clock ms, GC left on as in
    production), and the most CPU time one of them took (ms, this thread's): the fastest run
    is the mission's own cost; the slowest adds whatever the machine did meanwhile; CPU time
    leaves out the time the thread waited for a core."""
    walls, cpus = [], []
    for _ in range(repeats):
        c0, t0 = time.thread_time(), time.perf_counter()
        fn(ctx)
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append((time.thread_time() - c0) * 1000)
    return min(walls), max(walls), max(cpus)


def gate_ms(gate: Gate[DronePlan, DroneContext], text: bytes, ctx: DroneContext) -> float:
    t0 = time.perf_counter()
    gate.check(text, len(text), ctx, ctx.version)
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--missions", type=int, default=400)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    kit = drone_kit()
    gate = Gate(kit.domain)
    gc.collect()
    print(f"{args.missions} missions of 1-16 points per airspace, slowest of {args.repeats} runs")
    print(
        f"{'airspace':<20}{'nodes':>6}  {'fallback':<16}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'hardest':>9}{'max ms':>8}{'max cpu':>9}"
    )
    overall: dict[str, float] = {}
    hardest: dict[str, float] = {}
    cpu: dict[str, float] = {}
    gate_worst = 0.0
    for airspace in (default_airspace(), circles_at_the_limit(), polygons_at_the_limit()):
        rng = random.Random(args.seed)
        contexts = [
            random_context(rng, airspace, points=(1, 16), airborne=0.5, seq=i)
            for i in range(args.missions)
        ]
        for fb in kit.fallbacks:
            runs = [timed_ms(fb.plan, ctx, args.repeats) for ctx in contexts]
            times = sorted(slowest for _fastest, slowest, _cpu in runs)
            own = max(fastest for fastest, _slowest, _cpu in runs)
            most_cpu = max(c for _fastest, _slowest, c in runs)
            p99 = times[min(len(times) - 1, math.ceil(0.99 * len(times)) - 1)]
            overall[fb.name] = max(overall.get(fb.name, 0.0), times[-1])
            hardest[fb.name] = max(hardest.get(fb.name, 0.0), own)
            cpu[fb.name] = max(cpu.get(fb.name, 0.0), most_cpu)
            print(
                f"{airspace.version:<20}{len(airspace.router.nodes):>6}  {fb.name:<16}"
                f"{statistics.median(times):>8.2f}{p99:>8.2f}{own:>9.2f}{times[-1]:>8.2f}"
                f"{most_cpu:>9.2f}"
            )
        for ctx in contexts[:50]:
            plan = kit.fallbacks[0].plan(ctx).plan
            if plan is None:
                continue
            doc = kit.codec.plan_to_json(plan)
            doc["waypoints"] = (doc["waypoints"] * 64)[:64]  # the largest plan the schema admits
            text = msgspec.json.encode(doc)
            best = min(gate_ms(gate, text, ctx) for _ in range(args.repeats))
            gate_worst = max(gate_worst, best)
    print()
    declared = {kit.fallbacks[0].name: MISSION_WCET_MS, kit.fallbacks[1].name: HOME_WCET_MS}
    for name, worst in overall.items():
        print(
            f"{name}: hardest mission {hardest[name]:.2f} ms, most CPU in one run "
            f"{cpu[name]:.2f} ms, slowest run {worst:.2f} ms; declared {declared[name]:g} ms"
        )
    print(f"gate on a 64-waypoint plan: worst {gate_worst:.2f} ms (best of {args.repeats})")


if __name__ == "__main__":
    main()
