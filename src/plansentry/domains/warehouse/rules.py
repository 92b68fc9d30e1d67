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

All rules are evaluated and all violations returned; the gate reports the most severe mode.

Cost. A context made by :meth:`WarehouseDomain.context` carries :class:`RuleTables`, computed at
request time (outside the gate's timing) from the context alone: for each of the order's bins its
line, its bit and its rows of open-map legs (the router's distance and zone-mask tables), the pack
stations a plan may end at, and the cycle-time bound. With them, a plan that breaks no rule is
proven so by one pass of a dictionary look-up, two comparisons, two table look-ups, an addition
and an OR per pick (the fast path, :meth:`WarehouseDomain._passes`), on integers small enough to
stay machine words when compiled. Anything else on the way (a bin not in the order, a
line picked twice, a via-point, an end that is no usable pack station, a speed over the limit, a
slow estimate) abandons the fast path for the full rules (:meth:`WarehouseDomain._judge`), which
find and describe every violation. Verdicts and violations are therefore those of the full rules
whichever path ran; ``tests/domains/warehouse/test_rules_equivalence.py`` checks both against a
frozen copy of the rules as they were before the fast path. A via-point, or a leg that crosses a
closed zone, costs one cached grid search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final, final

from plansentry.core.failures import FailureMode, Violation
from plansentry.domains.warehouse.cycle import DEFAULT_CYCLE_TIME, CycleTime, lower_drive_s
from plansentry.domains.warehouse.map import Warehouse
from plansentry.domains.warehouse.order import Order, PickContext
from plansentry.domains.warehouse.router import UNREACHABLE, Router
from plansentry.domains.warehouse.schema import Pick, Plan
from plansentry.domains.warehouse.tables import RuleTables

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

    plan_type: ClassVar[type[Plan]] = Plan

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
        # The fast path's tables (RuleTables): the zones that lower the speed limit, a row of
        # legs without an open-map route (from a start that is no point of interest), pack
        # stations by the zones forbidden.
        self._speed_bits = 0
        for z in wh.zones.values():
            if z.speed_limit_mps is not None:
                self._speed_bits |= z.bit
        self._no_row: list[int] = [UNREACHABLE] * len(self._leg_mask)
        self._ends: dict[int, dict[str, tuple[int, int]]] = {}

    def context(self, order: Order, robot_id: str, start: int) -> PickContext:
        """The context a plan for ``order`` by ``robot_id`` standing at cell ``start`` is judged in.

        Everything the rules can know before a plan exists is computed here, at request time, not
        inside the gate's timing: the order's lines, the cycle-time rule's lower estimate, and the
        :class:`RuleTables` of the fast path.
        """
        wh = self.wh
        closed = wh.closed_mask(order.closed_zones)
        forbidden = closed | self._staff
        lower = 0.0
        if self.cycle_time is not None:
            cells = [wh.bins[line.bin].access for line in order.lines]
            lower = lower_drive_s(self.router, start, cells)
        ctx = PickContext(order, robot_id, start, closed, forbidden, lower)
        object.__setattr__(ctx, "tables", self._tables(ctx))
        return ctx

    def _tables(self, ctx: PickContext) -> RuleTables | None:
        """What :meth:`_passes` reads, a pure function of the context and this domain; ``None``
        for an order too long to sum its legs (its plans get the full rules)."""
        order, forbidden = ctx.order, ctx.forbidden_mask
        expected = order.expected
        dists, masks, bins = self._leg_dist, self._leg_mask, self._bins
        picks: dict[str, tuple[int, list[int], list[int], str, int, int, int]] = {}
        bit = 1
        for (name, sku), qty in expected.items():
            info = bins.get(name)
            if name not in picks and info is not None and not info[2] & forbidden:
                cell, poi, _ = info
                picks[name] = (poi, dists[poi], masks[poi], sku, qty, bit, cell)
            # else: another line of a bin already in (other_lines), or a pick no plan may make
            bit <<= 1
        other_lines = None
        if len(picks) < len(expected):
            other_lines = {line: (qty, 1 << k) for k, (line, qty) in enumerate(expected.items())}
        start_poi = self._poi_index.get(ctx.start)
        ends = self._ends.get(forbidden)
        if ends is None:
            ends = {
                name: (self._poi_index[cell], cell)
                for name, cell in self.wh.pack_stations.items()
                if not self.wh.cell_zones[cell] & forbidden
            }
            self._ends[forbidden] = ends
        handling_s = bound_s = 0.0
        rule = self.cycle_time
        if rule is not None:
            handling_s = rule.handling_s * order.items
            bound_s = rule.factor * (ctx.lower_drive_s + handling_s)
        return RuleTables(
            domain=self,
            lines=len(expected),
            picks=picks,
            other_lines=other_lines,
            start_dist=self._no_row if start_poi is None else dists[start_poi],
            start_mask=self._no_row if start_poi is None else masks[start_poi],
            ends=ends,
            closed=ctx.closed_mask,
            handling_s=handling_s,
            bound_s=bound_s,
        )

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
        tables = ctx.tables
        if tables is not None and tables.domain is self and self._passes(plan, ctx, tables):
            return []
        return self._judge(plan, ctx)

    def _passes(self, plan: Plan, ctx: PickContext, t: RuleTables) -> bool:
        """``True`` only if :meth:`_judge` would find no violation (the fast path).

        It retraces :meth:`_judge` for a plan that breaks nothing: the same legs (from the same
        open-map tables, or from the same router call where they cannot answer: no route, or a
        closed zone crossed), the same speed limit and the same cycle-time arithmetic.
        Coverage is proven by counting: as many picks as order lines, each one a line of the
        order with its qty, and every line's bit set (n picks setting n bits: none twice).
        The legs' cells are summed and their zone masks OR-ed from the tables first; only if a
        leg has no open-map route (its mask, -1, makes the OR negative) or crossed a closed zone
        are they summed again, asking the router for those legs. ``False`` means "not proven"
        (a via-point, an unusual bin, any broken rule), never "broken".
        """
        picks = plan.picks
        if plan.robot_id != ctx.robot_id or plan.via or len(picks) != t.lines:
            return False
        table, other_lines = t.picks, t.other_lines
        dist_row, mask_row = t.start_dist, t.start_mask
        cells = zones = got = 0
        for pick in picks:
            entry = table.get(pick.bin)
            if entry is None:
                return False
            poi, next_dist, next_mask, sku, qty, bit, _ = entry
            if pick.sku != sku or pick.qty != qty:  # another line of this bin, or none
                other = None if other_lines is None else other_lines.get((pick.bin, pick.sku))
                if other is None or other[0] != pick.qty:
                    return False
                bit = other[1]
            got |= bit
            cells += dist_row[poi]
            zones |= mask_row[poi]
            dist_row, mask_row = next_dist, next_mask
        end = t.ends.get(plan.end)
        if got != t.all_lines or end is None:
            return False
        cells += dist_row[end[0]]
        zones |= mask_row[end[0]]
        if zones < 0 or zones & t.closed:
            routed = self._routed_total(plan, ctx, t, end)
            if routed is None:
                return False
            cells, zones = routed
        speed = plan.speed_mps
        # the zones crossed that have a speed limit: all speed_limit looks at
        if speed > self.router.speed_limit(zones & self._speed_bits):
            return False
        if self.cycle_time is None:
            return True
        # _cycle_time's arithmetic: (cells x cell_m) / speed + handling, against the bound
        return not cells * self.wh.cell_m / speed + t.handling_s > t.bound_s

    def _routed_total(
        self, plan: Plan, ctx: PickContext, t: RuleTables, end: tuple[int, int]
    ) -> tuple[int, int] | None:
        """The cells and crossed zones of a plan whose every pick :meth:`_passes` found in
        ``t.picks``, asking the router (as :meth:`_slow_leg` does) for each leg the tables cannot
        answer in this context; ``None`` if one has no open route."""
        table, closed = t.picks, ctx.closed_mask
        dist_row, mask_row, prev = t.start_dist, t.start_mask, ctx.start
        cells = zones = 0
        for pick in plan.picks:
            poi, next_dist, next_mask, _, _, _, cell = table[pick.bin]
            d, m = dist_row[poi], mask_row[poi]
            if m == UNREACHABLE or m & closed:
                d, m = self.router.leg(prev, cell, closed)
                if d == UNREACHABLE:
                    return None
            cells += d
            zones |= m
            dist_row, mask_row, prev = next_dist, next_mask, cell
        poi, cell = end
        d, m = dist_row[poi], mask_row[poi]
        if m == UNREACHABLE or m & closed:
            d, m = self.router.leg(prev, cell, closed)
            if d == UNREACHABLE:
                return None
        return cells + d, zones | m

    def _judge(self, plan: Plan, ctx: PickContext) -> Sequence[Violation]:
        """The full rules: every violation, in order, with where and why; empty if none."""
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
