"""What a model writes for a warehouse order, fault by fault, from the best plan.

The simulator (:class:`~plansentry.sim.synthetic.SyntheticModel`) draws which fault a call shows
and writes malformed text, stalls and failed calls itself; :class:`Answers` writes the rest, as a
language model would send it: JSON from the plan schema, wrong the way models get it wrong. Nothing
is a label the guard could read: the gate sees only the text.

Good plans carry route-quality noise: with probability ``noise`` two neighbouring picks are swapped
(a longer route), and the speed is then the limit of the new route, so a good plan is always valid
and safe (``tests/domains/warehouse/world/test_synthetic.py`` checks that with the independent safety
checker).
"""

from __future__ import annotations

import random
from typing import Any, Final, final

import msgspec
from msgspec.structs import replace

from plansentry.domains.warehouse.order import PickContext
from plansentry.domains.warehouse.router import UNREACHABLE, Router
from plansentry.domains.warehouse.schema import Plan, encode_plan, plan_to_builtins

SCHEMA_KINDS: Final = ("missing_field", "wrong_type", "out_of_range", "extra_field")
UNSAFE_KINDS: Final = ("over_speed", "staff_via", "closed_via")
SLOW_KINDS: Final = ("crawl", "detour")
#: A crawl drives at this fraction of the speed its route allows.
CRAWL_FRACTION: Final = 0.1


@final
class Answers:
    """Writes a model's answer for each fault kind on one map."""

    def __init__(self, router: Router) -> None:
        self.router = router
        wh = router.wh
        self._staff_cells = sorted(
            c for z in wh.zones.values() if z.kind == "staff_only" for c in z.cells
        )
        self._corners = _far_corners(wh)

    def write(
        self,
        fault: str,
        ctx: PickContext,
        best: Plan,
        other: Plan | None,
        rng: random.Random,
        noise: float,
    ) -> tuple[str, bytes]:
        """``(kind, text)`` of an answer showing ``fault`` (``""``: a good one)."""
        if fault == "":
            return "", encode_plan(self._noisy(best, ctx, rng, noise))
        if fault == "schema":
            kind = rng.choice(SCHEMA_KINDS)
            return kind, _schema(best, kind, rng)
        if fault == "hallucinated_bin":
            i = rng.randrange(len(best.picks))
            fake = f"{rng.choice('QRSTUVWXYZ')}-{rng.randint(1, 99):02d}-{rng.choice('LR')}"
            picks = list(best.picks)
            picks[i] = replace(picks[i], bin=fake)
            plan = self._respeed(replace(best, picks=tuple(picks)), ctx)
            return "unknown_bin", encode_plan(plan)
        if fault == "incomplete":
            if len(best.picks) < 2:
                plan = replace(best, picks=(replace(best.picks[0], qty=best.picks[0].qty + 1),))
                return "wrong_qty", encode_plan(plan)
            i = rng.randrange(len(best.picks))
            plan = self._respeed(replace(best, picks=best.picks[:i] + best.picks[i + 1 :]), ctx)
            return "line_missing", encode_plan(plan)
        if fault == "unsafe":
            kind, plan = self._unsafe(best, ctx, rng)
            return kind, encode_plan(plan)
        if fault == "slow":
            kind, plan = self._slow(best, ctx, rng)
            return kind, encode_plan(plan)
        if fault != "stale":
            raise ValueError(f"the warehouse writes no answer of fault {fault!r}")
        # stale: another order's plan, or this one's with another order's id
        if other is not None and other.order_id != best.order_id:
            plan = self._respeed(replace(other, robot_id=best.robot_id), ctx)
        else:
            plan = replace(best, order_id=best.order_id + "-PREV")
        return "other_order", encode_plan(plan)

    def _noisy(self, best: Plan, ctx: PickContext, rng: random.Random, noise: float) -> Plan:
        if len(best.picks) < 2 or not noise or rng.random() >= noise:
            return best
        i = rng.randrange(len(best.picks) - 1)
        picks = list(best.picks)
        picks[i], picks[i + 1] = picks[i + 1], picks[i]
        speed = self._route_limit(picks, best.end, ctx)
        if speed is None:
            return best
        return replace(best, picks=tuple(picks), speed_mps=speed)

    def _respeed(self, plan: Plan, ctx: PickContext) -> Plan:
        """``plan`` at a speed its (changed) route allows: one fault at a time, never two."""
        limit = self._route_limit(list(plan.picks), plan.end, ctx)
        if limit is None or limit >= plan.speed_mps:
            return plan
        return replace(plan, speed_mps=limit)

    def _route_limit(
        self, picks: list[Any], end: str, ctx: PickContext, via: tuple[int, ...] = ()
    ) -> float | None:
        """Speed limit of the route through the cells ``via``, then the known bins of ``picks``,
        to ``end``; ``None`` if a leg has no open route."""
        wh, router = self.router.wh, self.router
        crossed, prev = 0, ctx.start
        stops = [*via, *(wh.bins[p.bin].access for p in picks if p.bin in wh.bins)]
        for cell in [*stops, wh.pack_stations[end]]:
            d, mask = router.leg(prev, cell, ctx.closed_mask)
            if d == UNREACHABLE:
                return None
            crossed |= mask
            prev = cell
        return router.speed_limit(crossed)

    def _unsafe(self, best: Plan, ctx: PickContext, rng: random.Random) -> tuple[str, Plan]:
        wh = self.router.wh
        kind = rng.choice(UNSAFE_KINDS)
        if kind == "closed_via" and not ctx.order.closed_zones:
            kind = "staff_via"
        if kind == "staff_via" and not self._staff_cells:
            kind = "over_speed"
        if kind == "over_speed":
            return kind, replace(best, speed_mps=round(wh.max_speed_mps * 1.5, 2))
        if kind == "staff_via":
            cell = rng.choice(self._staff_cells)
        else:
            zone = wh.zones[rng.choice(sorted(ctx.order.closed_zones))]
            cell = rng.choice(sorted(zone.cells))
        return kind, replace(best, via=(wh.xy(cell),))

    def _slow(self, best: Plan, ctx: PickContext, rng: random.Random) -> tuple[str, Plan]:
        """A plan every other rule accepts that takes far longer than it needs: a ``crawl`` at a
        tenth of its route's limit, or a ``detour`` through two to four of the floor's far
        corners before the picks, at the speed the longer route allows (a crawl where that route
        does not exist)."""
        wh = self.router.wh
        kind = rng.choice(SLOW_KINDS)
        if kind == "detour" and len(self._corners) >= 2:
            via = tuple(rng.sample(self._corners, rng.randint(2, min(4, len(self._corners)))))
            limit = self._route_limit(list(best.picks), best.end, ctx, via)
            if limit is not None:
                speed = min(best.speed_mps, limit)
                return kind, replace(best, via=tuple(wh.xy(c) for c in via), speed_mps=speed)
        speed = max(0.01, round(best.speed_mps * CRAWL_FRACTION, 3))
        return "crawl", replace(best, speed_mps=speed)


def _far_corners(wh: Any) -> list[int]:
    """For each corner of the map, the nearest floor cell in no restricted zone (staff-only or
    closable: a detour must stay legal whatever an order closes)."""
    restricted = wh.mask_of(["staff_only", "closable"])
    cells = [c for c in sorted(wh.free) if not wh.cell_zones[c] & restricted]
    out: list[int] = []
    for cx, cy in ((0, 0), (wh.width - 1, 0), (0, wh.height - 1), (wh.width - 1, wh.height - 1)):
        if cells:
            best = min(cells, key=lambda c: abs(wh.xy(c)[0] - cx) + abs(wh.xy(c)[1] - cy))
            if best not in out:
                out.append(best)
    return out


def _schema(plan: Plan, kind: str, rng: random.Random) -> bytes:
    data = plan_to_builtins(plan)
    if kind == "missing_field":
        del data[rng.choice(["order_id", "robot_id", "picks", "speed_mps", "end"])]
    elif kind == "wrong_type":
        data["speed_mps"] = f"{plan.speed_mps} m/s"
    elif kind == "out_of_range":
        data["picks"][0]["qty"] = 0
    else:
        data["priority"] = "high"
    out: bytes = msgspec.json.encode(data)
    return out
