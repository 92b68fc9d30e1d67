"""How close good plans come to the cycle-time rule's bound, over the simulator's own orders.

The rule (``src/plansentry/domains/warehouse/cycle.py``) refuses a plan estimated to take more than
``FACTOR`` x the order's lower estimate. A bound that refuses good plans would turn the guard's
own rule into a residual cause (the model's good plan refused, or the fallback's, a safe move).
This measures, over ``--orders`` orders of the fleet simulator's stream (``WarehouseWorld.orders``: 2-5
lines, its default closures; blocked orders have no plan and are skipped), from the pack stations
in turn:

- the optimal plan (the oracle's), the classical plan (the fallback's), and the synthetic model's
  good output (the optimal plan with its route noise: 5 % swap two picks, at the speed the new
  route allows): how many the rule refuses, and the largest ratio of estimate to bound (below 1:
  accepted);
- the synthetic model's ``slow`` answers (a crawl at a tenth of the limit, a detour through two to
  four far corners): how many the rule refuses, and their ratio's median.

Usage: ``python bench/cycle.py [--json] [--orders 20000] [--seed 1]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine
from plansentry.domains.warehouse.classical import ClassicalPlanner
from plansentry.domains.warehouse.cycle import DEFAULT_CYCLE_TIME
from plansentry.domains.warehouse.order import PickContext
from plansentry.domains.warehouse.rules import CYCLE_TIME
from plansentry.domains.warehouse.schema import Plan
from plansentry.domains.warehouse.world.world import WarehouseWorld as World
from plansentry.sim.config import SimConfig
from plansentry.sim.profiles import Profile
from plansentry.sim.scene import profiles_of, scene_for
from plansentry.sim.synthetic import SyntheticModel


def ratio(world: World, plan: Plan, ctx: PickContext) -> float:
    """The plan's estimated time over the rule's bound (the rule's own arithmetic, from the
    route length the domain computes)."""
    wh, rule = world.wh, DEFAULT_CYCLE_TIME
    cells = world.route_cells(plan, ctx)
    items = ctx.order.items
    estimate = cells * wh.cell_m / plan.speed_mps + rule.handling_s * items
    bound = rule.factor * (ctx.lower_drive_s + rule.handling_s * items)
    return estimate / bound


def refused(world: World, plan: Plan, ctx: PickContext) -> bool:
    return any(v.rule == CYCLE_TIME for v in world.domain.check_rules(plan, ctx))


def run(orders: int, seed: int) -> dict[str, Any]:
    PROFILES = profiles_of("warehouse")
    world = scene_for(SimConfig(profile=PROFILES["pilot"], cycles=1)).world
    classical = ClassicalPlanner(world.router)
    good = SyntheticModel(PROFILES["pilot"], world)
    slow = SyntheticModel(Profile(name="slow", faults={"slow": 1.0}), world)
    rng = random.Random(seed)
    source = world.orders(random.Random(seed), "C")
    starts = [world.wh.pack_stations[s] for s in world.stations]
    kinds: dict[str, dict[str, Any]] = {
        k: {"plans": 0, "refused": 0, "ratios": []} for k in ("optimal", "classical", "good")
    }
    slow_kinds: dict[str, dict[str, Any]] = {}
    blocked = 0
    for i in range(orders):
        order = next(source)
        if world.blocked(order):
            blocked += 1
            continue
        ctx = world.domain.context(order, "R1", starts[i % len(starts)])
        best = world.optimal.plan(ctx)
        assert best is not None
        fallback = classical.plan(ctx).plan
        assert fallback is not None
        answer = good.call(ctx, best, None, rng)
        noisy = (
            msgspec.json.decode(answer.text, type=Plan)
            if answer.fault == "" and answer.text
            else best
        )
        for kind, plan in (("optimal", best), ("classical", fallback), ("good", noisy)):
            k = kinds[kind]
            k["plans"] += 1
            k["refused"] += refused(world, plan, ctx)
            k["ratios"].append(ratio(world, plan, ctx))
        s = slow.call(ctx, best, None, rng)
        assert s.text is not None
        plan = msgspec.json.decode(s.text, type=Plan)
        sk = slow_kinds.setdefault(s.kind, {"plans": 0, "refused": 0, "ratios": []})
        sk["plans"] += 1
        sk["refused"] += refused(world, plan, ctx)
        sk["ratios"].append(ratio(world, plan, ctx))

    def summary(k: dict[str, Any]) -> dict[str, Any]:
        rs = sorted(k["ratios"])
        return {
            "plans": k["plans"],
            "refused": k["refused"],
            "ratio_median": round(statistics.median(rs), 4),
            "ratio_p99": round(rs[min(len(rs) - 1, int(0.99 * len(rs)))], 4),
            "ratio_max": round(rs[-1], 4),
        }

    return {
        "bench": "cycle",
        "machine": machine(),
        "orders": orders,
        "seed": seed,
        "blocked_skipped": blocked,
        "factor": DEFAULT_CYCLE_TIME.factor,
        "handling_s": DEFAULT_CYCLE_TIME.handling_s,
        "good": {k: summary(v) for k, v in kinds.items()},
        "slow": {k: summary(v) for k, v in sorted(slow_kinds.items())},
    }


def human(doc: dict[str, Any]) -> str:
    out = [
        f"cycle-time rule (factor {doc['factor']:g}) over {doc['orders']:,} simulator orders "
        f"({doc['blocked_skipped']} blocked, skipped); ratio = estimate / bound"
    ]
    for group in ("good", "slow"):
        for kind, s in doc[group].items():
            out.append(
                f"  {group:4s} {kind:9s} plans {s['plans']:6,}  refused {s['refused']:6,}  "
                f"ratio median {s['ratio_median']:.3f}  p99 {s['ratio_p99']:.3f}  "
                f"max {s['ratio_max']:.3f}"
            )
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--orders", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    emit(run(args.orders, args.seed), args.json, human)


if __name__ == "__main__":
    main()
