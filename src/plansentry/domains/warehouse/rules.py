"""The warehouse's rules: what makes a plan fresh, valid, safe and quick enough.

Freshness (``stale``): the plan names this order, and the model was asked with this order on this map
version.

Validity (``invalid``): the plan is for this robot; every bin exists; the picks cover the order
exactly (each line once, with its qty, nothing extra); it ends at a pack station.

Safety (``unsafe``): no waypoint (via-point, pick position, end) lies in a closed or staff-only zone;
via-points are floor cells on the map; a route exists between consecutive waypoints (routes never
enter closed or staff-only zones, see :mod:`plansentry.domains.warehouse.router`); the speed is
within the limit of every zone the route crosses.

Cycle time (``slow``; :mod:`.cycle`), for a plan that broke no other rule: its estimated time (its
route at its speed, plus handling) is at most ``factor`` x the order's lower estimate, which the
context computes when it is made (not inside the gate's timing). ``cycle_time=None`` turns the
rule off (rules version ``warehouse-rules/1``, before it existed).

All rules are evaluated and all violations returned; the gate reports the most severe mode. The cost
is a few dictionary and table look-ups per pick; a via-point or a leg that crosses a closed zone costs
one cached grid search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, final

from plansentry.core.failures import FailureMode, Violation
from plansentry.domains.warehouse.cycle import DEFAULT_CYCLE_TIME, CycleTime, lower_drive_s
from plansentry.domains.warehouse.map import Warehouse
from plansentry.domains.warehouse.order import Order, PickContext
from plansentry.domains.warehouse.router import UNREACHABLE, Router
from plansentry.domains.warehouse.schema import Pick, Plan

#: The rule names this domain reports (``Violation.rule``): match on these, never on messages.
ORDER_ID: Final = "order_id"  # stale: the plan names another order
ASKED_VERSION: Final = "asked_version"  # stale: the model was asked for another order or map
ROBOT_ID: Final = "robot_id"  # invalid: the plan is for another robot
BIN_EXISTS: Final = "bin_exists"  # invalid: a pick names a bin the map does not have
COVERAGE: Final = "coverage"  # invalid: a line missing, repeated, extra, or with another qty
END_STATION: Final = "end_station"  # invalid: the route does not end at a pack station
STAFF_ONLY: Final = "staff_only"  # unsafe: a waypoint in a staff-only zone
ZONE_CLOSED: Final = "zone_closed"  # unsafe: a waypoint in a zone this order closed
VIA_FREE: Final = "via_free"  # unsafe: a via-point off the map, on a wall or a shelf
PATH_EXISTS: Final = "path_exists"  # unsafe: no open route to a waypoint
SPEED_LIMIT: Final = "speed_limit"  # unsafe: faster than a zone the route crosses allows
CYCLE_TIME: Final = "cycle_time"  # slow: takes more than the bound over the order's lower estimate
RULES: Final = frozenset(
    {
        ORDER_ID,
        ASKED_VERSION,
        ROBOT_ID,
        BIN_EXISTS,
        COVERAGE,
        END_STATION,
        STAFF_ONLY,
        ZONE_CLOSED,
        VIA_FREE,
        PATH_EXISTS,
        SPEED_LIMIT,
        CYCLE_TIME,
    }
)

_INVALID: Final = FailureMode.INVALID
_UNSAFE: Final = FailureMode.UNSAFE
_STALE: Final = FailureMode.STALE
_SLOW: Final = FailureMode.SLOW


@final
class WarehouseDomain:
    """The gate's :class:`~plansentry.core.gate.Domain` for picking plans on one map."""

    plan_type = Plan

    def __init__(
        self,
        wh: Warehouse,
        router: Router | None = None,
        *,
        cycle_time: CycleTime | None = DEFAULT_CYCLE_TIME,
    ) -> None:
        self.wh = wh
        self.router = router if router is not None else Router(wh)
        self.cycle_time = cycle_time
        self._leg_dist = self.router.leg_dist
        self._staff = wh.mask_of(["staff_only"])
        self._leg_mask = self.router.leg_mask
        self._poi_index = self.router.poi_index
        # bin name -> (access cell, point-of-interest index, zone mask of the access cell)
        self._bins = {
            name: (b.access, self._poi_index[b.access], wh.cell_zones[b.access])
            for name, b in wh.bins.items()
        }

    def context(self, order: Order, robot_id: str, start: int) -> PickContext:
        """The context a plan for ``order`` by ``robot_id`` standing at cell ``start`` is judged in."""
        closed = self.wh.closed_mask(order.closed_zones)
        order.expected  # noqa: B018 - computed now, at request time, not inside the gate's timing
        lower = 0.0
        if self.cycle_time is not None:
            cells = [self.wh.bins[line.bin].access for line in order.lines]
            lower = lower_drive_s(self.router, start, cells)
        return PickContext(order, robot_id, start, closed, closed | self._staff, lower)

    def version(self, ctx: PickContext) -> str:
        return ctx.version

    def check_fresh(self, plan: Plan, ctx: PickContext, asked_version: str) -> Sequence[Violation]:
        if plan.order_id == ctx.order.order_id and asked_version == ctx.version:
            return ()
        out = []
        if plan.order_id != ctx.order.order_id:
            out.append(
                Violation(
                    ORDER_ID,
                    _STALE,
                    f"plan is for order {plan.order_id!r}, not {ctx.order.order_id!r}",
                    "order_id",
                )
            )
        if asked_version != ctx.version:
            out.append(
                Violation(
                    ASKED_VERSION,
                    _STALE,
                    f"model was asked for {asked_version!r}, decision is for {ctx.version!r}",
                )
            )
        return out

    def check_rules(self, plan: Plan, ctx: PickContext) -> Sequence[Violation]:
        """Every rule ``plan`` breaks, with where and why; empty if none."""
        out: list[Violation] = []
        if plan.robot_id != ctx.robot_id:
            out.append(
                Violation(
                    ROBOT_ID,
                    _INVALID,
                    f"plan is for robot {plan.robot_id!r}, not {ctx.robot_id!r}",
                    "robot_id",
                )
            )
        picks = plan.picks
        # The route, leg by leg: start -> via... -> picks... -> end. On the open map every leg
        # between points of interest is one table look-up; anything else asks the router.
        forbidden, closed = ctx.forbidden_mask, ctx.closed_mask
        leg_mask, leg_dist, poi_index = self._leg_mask, self._leg_dist, self._poi_index
        prev = ctx.start
        prev_poi = poi_index.get(prev, -1)
        crossed = cells = 0
        if plan.via:
            prev, crossed, cells = self._via(plan, ctx, out)
            prev_poi = poi_index.get(prev, -1)
        bins = self._bins
        got: dict[tuple[str, str], int] = {}
        for i, pick in enumerate(picks):
            name = pick.bin
            got[name, pick.sku] = pick.qty
            info = bins.get(name)
            if info is None:
                out.append(
                    Violation(BIN_EXISTS, _INVALID, f"no bin {pick.bin!r}", f"picks[{i}].bin")
                )
                continue
            cell, poi, zones = info
            if zones & forbidden:
                out.append(self._forbidden(zones, f"picks[{i}]"))
                continue
            m = leg_mask[prev_poi][poi] if prev_poi >= 0 else UNREACHABLE
            if m == UNREACHABLE or m & closed:  # not on the open-map table: ask the router
                d, m = self._slow_leg(prev, cell, closed, f"picks[{i}]", out)
            else:
                d = leg_dist[prev_poi][poi]
            cells += d
            crossed |= m
            prev, prev_poi = cell, poi
        if len(got) != len(picks) or got != ctx.order.expected:
            out.extend(_coverage(picks, got, ctx.order.expected))
        end = self.wh.pack_stations.get(plan.end)
        if end is None:
            out.append(
                Violation(END_STATION, _INVALID, f"{plan.end!r} is not a pack station", "end")
            )
        elif self.wh.cell_zones[end] & forbidden:
            out.append(self._forbidden(self.wh.cell_zones[end], "end"))
        else:
            d, m = self._slow_leg(prev, end, closed, "end", out)
            cells += d
            crossed |= m
        limit = self.router.speed_limit(crossed)
        if plan.speed_mps > limit:
            out.append(
                Violation(
                    SPEED_LIMIT,
                    _UNSAFE,
                    f"{plan.speed_mps:g} m/s over the route's limit of {limit:g} m/s",
                    "speed_mps",
                )
            )
        if not out and self.cycle_time is not None:
            self._cycle_time(plan, ctx, cells, out)
        return out

    def _cycle_time(self, plan: Plan, ctx: PickContext, cells: int, out: list[Violation]) -> None:
        """The cycle-time rule (:mod:`.cycle`), for a plan that broke no other rule."""
        rule = self.cycle_time
        assert rule is not None
        metres = cells * self.wh.cell_m
        items = ctx.order.items
        estimate = metres / plan.speed_mps + rule.handling_s * items
        lower = ctx.lower_drive_s + rule.handling_s * items
        bound = rule.factor * lower
        if estimate > bound:
            out.append(
                Violation(
                    CYCLE_TIME,
                    _SLOW,
                    f"estimated {estimate:.0f} s ({metres:.0f} m at {plan.speed_mps:g} m/s, "
                    f"{items} items x {rule.handling_s:g} s) > bound {bound:.0f} s "
                    f"({rule.factor:g} x the order's lower estimate {lower:.0f} s)",
                    "via" if plan.via else "speed_mps",
                )
            )

    def _forbidden(self, zones: int, where: str) -> Violation:
        kind = STAFF_ONLY if zones & self._staff else ZONE_CLOSED
        return Violation(kind, _UNSAFE, f"{where} is in a {kind.replace('_', '-')} zone", where)

    def _slow_leg(
        self, a: int, b: int, closed: int, where: str, out: list[Violation]
    ) -> tuple[int, int]:
        """``(cells, crossed-zone mask)`` of a leg the table does not hold; ``(0, 0)`` and a
        violation if there is no open route."""
        dist, mask = self.router.leg(a, b, closed)
        if dist == UNREACHABLE:
            out.append(Violation(PATH_EXISTS, _UNSAFE, f"no open route to {where}", where))
            return 0, mask
        return dist, mask

    def _via(self, plan: Plan, ctx: PickContext, out: list[Violation]) -> tuple[int, int, int]:
        """Check the via-points; returns the last usable waypoint, the zones crossed and the cells
        driven so far."""
        wh = self.wh
        prev, crossed, cells = ctx.start, 0, 0
        for i, (x, y) in enumerate(plan.via):
            where = f"via[{i}]"
            if not wh.in_bounds(x, y):
                out.append(Violation(VIA_FREE, _UNSAFE, f"[{x}, {y}] is off the map", where))
                continue
            cell = wh.cell(x, y)
            if cell not in wh.free:
                out.append(Violation(VIA_FREE, _UNSAFE, f"[{x}, {y}] is a wall or shelf", where))
                continue
            if wh.cell_zones[cell] & ctx.forbidden_mask:
                out.append(self._forbidden(wh.cell_zones[cell], where))
                continue
            d, m = self._slow_leg(prev, cell, ctx.closed_mask, where, out)
            cells += d
            crossed |= m
            prev = cell
        return prev, crossed, cells


def _coverage(
    picks: Sequence[Pick], got: dict[tuple[str, str], int], expected: dict[tuple[str, str], int]
) -> list[Violation]:
    out = []
    seen: set[tuple[str, str]] = set()
    for i, p in enumerate(picks):
        key = (p.bin, p.sku)
        if key in seen:
            out.append(
                Violation(COVERAGE, _INVALID, f"{p.bin}/{p.sku} picked twice", f"picks[{i}]")
            )
        seen.add(key)
    for (b, sku), qty in expected.items():
        have = got.get((b, sku))
        if have is None:
            out.append(Violation(COVERAGE, _INVALID, f"order line {b}/{sku} x{qty} not picked"))
        elif have != qty:
            out.append(Violation(COVERAGE, _INVALID, f"{b}/{sku}: qty {have}, order says {qty}"))
    for b, sku in sorted(got.keys() - expected.keys()):
        out.append(Violation(COVERAGE, _INVALID, f"{b}/{sku} is not in the order"))
    return out
