"""The world a replication runs in: the map, its domain and planners, the synthetic model, the
fallback's measured compute time, and the calibration of travel time (built once per process,
shared by replications)."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterator
from typing import final

import msgspec

from plansentry.core.gate import Gate
from plansentry.domains.warehouse.classical import DECLARED_WCET_MS
from plansentry.domains.warehouse.kit import default_config
from plansentry.domains.warehouse.map import Warehouse, default_map, load_map
from plansentry.domains.warehouse.optimal import OptimalPlanner
from plansentry.domains.warehouse.order import Order, PickContext
from plansentry.domains.warehouse.router import UNREACHABLE
from plansentry.domains.warehouse.rules import WarehouseDomain
from plansentry.domains.warehouse.schema import Plan
from plansentry.domains.warehouse.sim import fallback_time
from plansentry.domains.warehouse.sim.config import SimConfig
from plansentry.domains.warehouse.sim.orders import random_orders
from plansentry.domains.warehouse.sim.synthetic import SyntheticModel


@final
class World:
    """The map, its domain and planners, built once per process and shared by replications."""

    def __init__(self, config: SimConfig) -> None:
        wh = load_map(config.map_path) if config.map_path else default_map()
        self.config = config
        self.wh: Warehouse = wh
        self.domain = WarehouseDomain(wh)
        self.router = self.domain.router
        self.optimal = OptimalPlanner(self.router)
        self.model = SyntheticModel(config.profile, self.router)
        self.gate: Gate[Plan, PickContext] = Gate(self.domain, default_config().gate)
        self.decode = msgspec.json.Decoder(Plan).decode
        self.stations = sorted(wh.pack_stations)
        self._best: dict[tuple[str, int], Plan | None] = {}
        self._open: dict[tuple[str, int], Plan | None] = {}
        # With a pool of orders, every (order, start) recurs: keep all of their plans and contexts.
        pooled = 3 * config.order_pool * len(wh.pack_stations)  # (order, start) pairs at most
        self._best_size = 50_000 + pooled
        self._contexts: dict[tuple[str, str, int], PickContext] = {}
        self._contexts_size = pooled * config.robots
        self._pool: tuple[list[tuple[Order, bool]], ...] | None = None
        self._poi_index = self.router.poi_index
        self._leg_dist = self.router.leg_dist
        self.travel_s_per_cell = self._calibrate()

    def orders(self, rng: random.Random, prefix: str) -> Iterator[Order]:
        """An endless stream of orders (2-5 lines): ``closure_p`` of them with one aisle closed
        that holds none of their bins, ``blocked_order_p`` with a closure over one of their bins
        (no planner can serve those: :meth:`blocked`)."""
        cfg = self.config
        return random_orders(
            self.wh,
            rng,
            prefix=prefix,
            digits=6,
            closure_p=cfg.closure_p,
            blocked_p=cfg.blocked_order_p,
        )

    def order_pool(self) -> tuple[list[tuple[Order, bool]], ...]:
        """The pool of orders, each with whether it is blocked (:meth:`blocked`): three kinds of
        ``order_pool`` orders each, drawn as :meth:`orders` draws them with the closure shares
        set to 1 or 0: plain (no closure), with an aisle closed that holds none of their bins,
        with a closure over one of their bins (blocked, unless no closable zone holds one of
        their bins, as in :meth:`orders`). Drawn once per process from the run's seed alone, so
        every replication and every worker has the same pool; :meth:`pooled` draws from it."""
        if self._pool is None:
            rng = random.Random(f"plansentry-pool:{self.config.seed}")
            kinds = []
            for prefix, closure_p, blocked_p in (("P", 0.0, 0.0), ("C", 1.0, 0.0), ("B", 0.0, 1.0)):
                source = random_orders(
                    self.wh, rng, prefix=prefix, digits=6, closure_p=closure_p, blocked_p=blocked_p
                )
                orders = [next(source) for _ in range(self.config.order_pool)]
                kinds.append([(o, self.blocked(o)) for o in orders])
            self._pool = tuple(kinds)
        return self._pool

    def pooled(self, rng: random.Random, count: int) -> list[tuple[Order, bool]]:
        """``count`` orders from :meth:`order_pool`: for each, one uniform number picks the kind
        with the shares of :meth:`orders` (``blocked_order_p``, then ``closure_p``, else plain),
        and one draw picks the order of that kind."""
        plain, closed, blocked = self.order_pool()
        b_p, c_p = self.config.blocked_order_p, self.config.blocked_order_p + self.config.closure_p
        size, uniform, below = len(plain), rng.random, rng.randrange
        out = []
        for _ in range(count):
            u = uniform()
            kind = blocked if u < b_p else closed if u < c_p else plain
            out.append(kind[below(size)])
        return out

    def context(self, order: Order, robot_id: str, start: int) -> PickContext:
        """The domain's context for ``order``, ``robot_id`` at ``start``; with a pool of orders,
        kept and handed out again (a context is immutable: the same request judges alike)."""
        if not self._contexts_size:
            return self.domain.context(order, robot_id, start)
        key = (order.order_id, robot_id, start)
        ctx = self._contexts.get(key)
        if ctx is None:
            if len(self._contexts) >= self._contexts_size:
                self._contexts.clear()
            ctx = self._contexts[key] = self.domain.context(order, robot_id, start)
        return ctx

    def blocked(self, order: Order) -> bool:
        """Whether no plan can serve ``order`` (a closure cuts one of its bins off)."""
        return not self.optimal.feasible(order)

    def best_open(self, ctx: PickContext) -> Plan:
        """The best plan for ``ctx`` as if nothing were closed: what a model unaware of a
        closure that blocks the order writes (it drives into the closed zone)."""
        key = (ctx.order.order_id, ctx.start)
        plan = self._open.get(key)
        if plan is None:
            if len(self._open) > 10_000:
                self._open.clear()
            staff = self.wh.mask_of(["staff_only"])
            opened = dataclasses.replace(ctx, closed_mask=0, forbidden_mask=staff)
            found = self.optimal.plan(opened)
            assert found is not None, "every bin of the map reaches a pack station"
            plan = self._open[key] = found
        if plan.robot_id == ctx.robot_id:
            return plan
        other: Plan = msgspec.structs.replace(plan, robot_id=ctx.robot_id)
        return other

    def fallback_ms(self, rng: random.Random) -> float:
        """The fallback's compute time for one decision (ms). With ``fallback_overrun_p`` an
        overrun: the declared worst case plus an exponential of mean
        ``fallback_overrun_mean_ms``. Otherwise a run within the worst case, drawn from the
        measured distribution (:mod:`.fallback_time`: between its quantiles, or one of the
        measured tail's runs; a measured run past the worst case is drawn again, since
        ``fallback_overrun_p`` alone says how often that happens)."""
        cfg = self.config
        if rng.random() < cfg.fallback_overrun_p:
            return DECLARED_WCET_MS + rng.expovariate(1.0) * cfg.fallback_overrun_mean_ms
        while True:
            ms = self._measured_ms(rng.random())
            if ms <= DECLARED_WCET_MS:
                return ms

    def _measured_ms(self, u: float) -> float:
        q, tail = fallback_time.QUANTILES_MS, fallback_time.TAIL_MS
        x = u * len(q)
        i = math.floor(x)
        if i >= len(q) - 1:  # the slowest share: one of the measured runs, as it was
            k = min(len(tail) - 1, int((u - (len(q) - 1) / len(q)) * len(q) * len(tail)))
            return tail[k]
        return q[i] + (q[i + 1] - q[i]) * (x - i)

    def best(self, ctx: PickContext) -> Plan | None:
        """The oracle's plan for ``ctx``, shared by every controller that meets the same order at
        the same start (only the robot's name differs)."""
        key = (ctx.order.order_id, ctx.start)
        if key in self._best:
            plan = self._best[key]
        else:
            if len(self._best) > self._best_size:
                self._best.clear()
            plan = self._best[key] = self.optimal.plan(ctx)
        if plan is None or plan.robot_id == ctx.robot_id:
            return plan
        other: Plan = msgspec.structs.replace(plan, robot_id=ctx.robot_id)
        return other

    def drive_s(self, plan: Plan, ctx: PickContext) -> float:
        """Seconds to drive ``plan``'s route at its speed."""
        factor = self.wh.max_speed_mps / plan.speed_mps
        return self.route_cells(plan, ctx) * self.travel_s_per_cell * factor

    def route_cells(self, plan: Plan, ctx: PickContext) -> int:
        """Cells ``plan``'s route drives. A leg the router cannot route (the plan enters a
        staff-only or closed zone, which an unguarded robot does) counts its Manhattan length."""
        wh = self.wh
        if not plan.via and not ctx.closed_mask:
            # The common case, the open map between points of interest: the router's table.
            index, bins = self._poi_index, wh.bins
            prev = index.get(ctx.start)
            if prev is not None:
                table = self._leg_dist
                cells = 0
                for p in plan.picks:
                    b = bins.get(p.bin)
                    if b is None:
                        continue
                    poi = index[b.access]
                    d = table[prev][poi]
                    if d == UNREACHABLE:
                        break
                    cells += d
                    prev = poi
                else:
                    end = wh.pack_stations.get(plan.end, ctx.start)  # unknown: back to start
                    d = table[prev][index[end]]
                    if d != UNREACHABLE:
                        return cells + d
        return self._route_cells(plan, ctx)

    def _route_cells(self, plan: Plan, ctx: PickContext) -> int:
        """:meth:`route_cells` leg by leg, from the router (via-points, closures, no route)."""
        wh, leg, closed = self.wh, self.router.leg, ctx.closed_mask
        points = [wh.cell(x, y) for x, y in plan.via if wh.in_bounds(x, y)]
        points += [wh.bins[p.bin].access for p in plan.picks if p.bin in wh.bins]
        points.append(wh.pack_stations.get(plan.end, ctx.start))
        cells, prev = 0, ctx.start
        for cell in points:
            d = leg(prev, cell, closed)[0]
            if d == UNREACHABLE:
                (x0, y0), (x1, y1) = wh.xy(prev), wh.xy(cell)
                d = abs(x0 - x1) + abs(y0 - y1)
            cells += d
            prev = cell
        return cells

    def execute_s(self, plan: Plan, ctx: PickContext) -> float:
        return self.drive_s(plan, ctx) + self.config.handling_s * sum(p.qty for p in plan.picks)

    def _calibrate(self, sample: int = 2_000) -> float:
        """Seconds per cell at full speed such that the oracle's mean cycle is the target per item.

        The pilot's robot took 0.9 s per item; the reference map is a whole warehouse. Rather than
        invent a second map, travel is scaled: over a fixed sample of orders, the oracle's mean
        time per item is ``handling_s + travel_per_item``, and the scale makes it
        ``target_s_per_item``.
        """
        cfg = self.config
        source = (
            o for o in self.orders(random.Random("calibration"), "CAL") if not self.blocked(o)
        )
        cells_at_full = 0.0  # cells driven, weighted by full speed / plan speed
        items = 0
        for i in range(sample):
            start = self.wh.pack_stations[self.stations[i % len(self.stations)]]
            ctx = self.domain.context(next(source), "CAL", start)
            plan = self.best(ctx)
            assert plan is not None
            cells_at_full += self.route_cells(plan, ctx) * (self.wh.max_speed_mps / plan.speed_mps)
            items += sum(p.qty for p in plan.picks)
        self._best.clear()  # the sample's plans are not the run's
        return (cfg.target_s_per_item - cfg.handling_s) * items / cells_at_full
