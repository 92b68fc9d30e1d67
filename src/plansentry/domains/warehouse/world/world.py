"""The warehouse's world for the fleet simulator (:class:`~plansentry.runtime.world.World`).

Built once per process on the kit's own domain (map, router, rules) and shared by replications:
the orders (:mod:`.orders`, a share of them with a closure, a share blocked by one), the oracle's
plan (:class:`~plansentry.domains.warehouse.optimal.OptimalPlanner`), the model's answers per
fault (:mod:`.answers`), travel time calibrated to the pilot's cycle, the classical planner's
measured compute time (:mod:`.fallback_time`), the independent safety checker
(:mod:`plansentry.domains.warehouse.safety`) and the pilot's controller (:mod:`.unguarded`).

Parameters (``WorldSettings.params``, ``simulate --world KEY=VALUE``): ``handling_s`` (0.3 s per
item at the bin), ``target_s_per_item`` (0.9 s, the pilot's nominal cycle: travel is scaled to
meet it) and ``closure_p`` (0.05, the share of orders with an aisle closed that holds none of their
bins).

Its documents keep the layout the warehouse's had before the simulator was generic
(:meth:`WarehouseWorld.describe`): a pilot document of this version is byte for byte the one of
the last (``tests/domains/warehouse/world/test_documents.py``).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator, Mapping
from typing import Any, Final, final

import msgspec

from plansentry.core.errors import ConfigError
from plansentry.core.failures import FailureMode
from plansentry.domains.warehouse.classical import DECLARED_WCET_MS
from plansentry.domains.warehouse.optimal import OptimalPlanner
from plansentry.domains.warehouse.order import Order, PickContext
from plansentry.domains.warehouse.router import UNREACHABLE
from plansentry.domains.warehouse.rules import BIN_EXISTS, COVERAGE, WarehouseDomain
from plansentry.domains.warehouse.safety import unsafe_reasons
from plansentry.domains.warehouse.schema import Plan, encode_plan
from plansentry.domains.warehouse.world import fallback_time
from plansentry.domains.warehouse.world.answers import Answers
from plansentry.domains.warehouse.world.orders import random_orders
from plansentry.domains.warehouse.world.profiles import FAULTS, PROFILES
from plansentry.domains.warehouse.world.unguarded import Reaction as PilotReaction
from plansentry.domains.warehouse.world.unguarded import items_missing, read_plan
from plansentry.runtime.world import (
    FallbackTime,
    Reaction,
    Read,
    Task,
    WorldSettings,
    number_params,
)

#: The world's parameters and their defaults.
PARAMS: Final[Mapping[str, float]] = {
    "handling_s": 0.3,
    "target_s_per_item": 0.9,
    "closure_p": 0.05,
}

#: The classical planner's compute time, as bench/classical.py measured it.
FALLBACK_TIME: Final = FallbackTime(
    wcet_ms=DECLARED_WCET_MS,
    quantiles_ms=fallback_time.QUANTILES_MS,
    tail_ms=fallback_time.TAIL_MS,
    samples=fallback_time.SAMPLES,
    over_wcet_p_high=fallback_time.OVER_WCET_P_HIGH,
)

_REACTIONS: Final = {
    PilotReaction.CRASH: Reaction.CRASH,
    PilotReaction.HALT_AT_BIN: Reaction.HALT,
    PilotReaction.EXECUTE: Reaction.EXECUTE,
}


def world_params(params: Mapping[str, Any], blocked_p: float) -> dict[str, float]:
    """The world's parameters, defaults filled in; a :class:`ConfigError` naming a bad one."""
    out = number_params(params, PARAMS, world="warehouse")
    for name in ("handling_s", "target_s_per_item"):
        if out[name] <= 0:
            raise ConfigError(f"{name} must be a finite number > 0, got {out[name]!r}")
    if not 0 <= out["closure_p"] <= 1:
        raise ConfigError(f"closure_p must be in [0, 1], got {out['closure_p']!r}")
    if out["closure_p"] + blocked_p > 1:
        raise ConfigError(
            f"closure_p ({out['closure_p']}) + blocked_order_p ({blocked_p}) "
            "must be at most 1: an order has one closure at most"
        )
    if out["handling_s"] >= out["target_s_per_item"]:
        raise ConfigError(
            f"handling_s ({out['handling_s']}) must be below target_s_per_item "
            f"({out['target_s_per_item']}): travel needs some of the cycle"
        )
    return out


@final
class WarehouseWorld:
    """The map, its domain and planners, built once per process and shared by replications."""

    faults = FAULTS
    profiles = PROFILES
    fallback_time = FALLBACK_TIME
    fault_rules = ((BIN_EXISTS, "hallucinated_bin"), (COVERAGE, "incomplete"))

    def __init__(
        self, domain: WarehouseDomain, settings: WorldSettings, *, map_path: str | None = None
    ) -> None:
        params = world_params(settings.params, settings.blocked_p)
        wh = domain.wh
        self.settings = settings
        self.map_path = map_path
        self.handling_s = params["handling_s"]
        self.target_s_per_item = params["target_s_per_item"]
        self.closure_p = params["closure_p"]
        self.wh = wh
        self.domain = domain
        self.router = domain.router
        self.optimal = OptimalPlanner(self.router)
        self.answers = Answers(self.router)
        self.stations = sorted(wh.pack_stations)
        self._best: dict[tuple[str, int], Plan | None] = {}
        self._open: dict[tuple[str, int], Plan | None] = {}
        # With a pool of orders, every (order, start) recurs: keep all of their plans and contexts.
        pooled = 3 * settings.order_pool * len(wh.pack_stations)  # (order, start) pairs at most
        self._best_size = 50_000 + pooled
        self._contexts: dict[tuple[str, str, int], PickContext] = {}
        self._contexts_size = pooled * settings.robots
        self._pool: tuple[list[Task[Order]], ...] | None = None
        self._poi_index = self.router.poi_index
        self._leg_dist = self.router.leg_dist
        self.travel_s_per_cell = self._calibrate()

    # -- the work ------------------------------------------------------------------------------

    def orders(self, rng: random.Random, prefix: str) -> Iterator[Order]:
        """An endless stream of orders (2-5 lines): ``closure_p`` of them with one aisle closed
        that holds none of their bins, ``blocked_p`` with a closure over one of their bins
        (no planner can serve those: :meth:`blocked`)."""
        return random_orders(
            self.wh,
            rng,
            prefix=prefix,
            digits=6,
            closure_p=self.closure_p,
            blocked_p=self.settings.blocked_p,
        )

    def tasks(self, rng: random.Random, prefix: str) -> Iterator[Task[Order]]:
        """The orders of :meth:`orders` as tasks; with ``order_pool``, drawn from the pool
        (:meth:`pooled`) instead."""
        if self.settings.order_pool:
            while True:
                yield from self.pooled(rng, 1_000)
        for order in self.orders(rng, prefix):
            yield self._task(order)

    def _task(self, order: Order) -> Task[Order]:
        return Task(order.order_id, order.items, self.blocked(order), order)

    def order_pool(self) -> tuple[list[Task[Order]], ...]:
        """The pool of orders, as tasks: three kinds of ``order_pool`` orders each, drawn as
        :meth:`orders` draws them with the closure shares set to 1 or 0: plain (no closure), with
        an aisle closed that holds none of their bins, with a closure over one of their bins
        (blocked, unless no closable zone holds one of their bins, as in :meth:`orders`). Drawn
        once per process from the run's seed alone, so every replication and every worker has
        the same pool; :meth:`pooled` draws from it."""
        if self._pool is None:
            rng = random.Random(f"plansentry-pool:{self.settings.seed}")
            kinds = []
            for prefix, closure_p, blocked_p in (("P", 0.0, 0.0), ("C", 1.0, 0.0), ("B", 0.0, 1.0)):
                source = random_orders(
                    self.wh, rng, prefix=prefix, digits=6, closure_p=closure_p, blocked_p=blocked_p
                )
                orders = [next(source) for _ in range(self.settings.order_pool)]
                kinds.append([self._task(o) for o in orders])
            self._pool = tuple(kinds)
        return self._pool

    def pooled(self, rng: random.Random, count: int) -> list[Task[Order]]:
        """``count`` orders from :meth:`order_pool`: for each, one uniform number picks the kind
        with the shares of :meth:`orders` (``blocked_p``, then ``closure_p``, else plain), and
        one draw picks the order of that kind."""
        plain, closed, blocked = self.order_pool()
        b_p = self.settings.blocked_p
        c_p = b_p + self.closure_p
        size, uniform, below = len(plain), rng.random, rng.randrange
        out = []
        for _ in range(count):
            u = uniform()
            kind = blocked if u < b_p else closed if u < c_p else plain
            out.append(kind[below(size)])
        return out

    def start(self, robot: int) -> int:
        return self.wh.pack_stations[self.stations[robot % len(self.stations)]]

    def context(self, task: Task[Order], robot_id: str, at: int) -> PickContext:
        """The domain's context for ``task``'s order, ``robot_id`` at cell ``at``; with a pool of
        orders, kept and handed out again (a context is immutable: the same request judges
        alike)."""
        order = task.spec
        if not self._contexts_size:
            return self.domain.context(order, robot_id, at)
        key = (order.order_id, robot_id, at)
        ctx = self._contexts.get(key)
        if ctx is None:
            if len(self._contexts) >= self._contexts_size:
                self._contexts.clear()
            ctx = self._contexts[key] = self.domain.context(order, robot_id, at)
        return ctx

    def blocked(self, order: Order) -> bool:
        """Whether no plan can serve ``order`` (a closure cuts one of its bins off)."""
        return not self.optimal.feasible(order)

    # -- the oracle and the model --------------------------------------------------------------

    def best(self, ctx: PickContext) -> Plan | None:
        """The oracle's plan for ``ctx``, shared by every controller that meets the same order at
        the same start (only the robot's name differs). Kept by order id: an id names one order
        in a world's life (the simulator's are ``R<replication>-<number>``, the pool's
        ``P``/``C``/``B``)."""
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

    def best_unaware(self, ctx: PickContext) -> Plan:
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

    def encode(self, plan: Plan) -> bytes:
        return encode_plan(plan)

    def answer(
        self,
        fault: str,
        ctx: PickContext,
        best: Plan,
        other: Plan | None,
        rng: random.Random,
        *,
        noise: float,
    ) -> tuple[str, bytes]:
        return self.answers.write(fault, ctx, best, other, rng, noise)

    # -- execution -----------------------------------------------------------------------------

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
        return self.drive_s(plan, ctx) + self.handling_s * sum(p.qty for p in plan.picks)

    def after(self, plan: Plan, ctx: PickContext) -> int:
        """The plan's pack station (a plan naming none the map has: back where it started)."""
        return self.wh.pack_stations.get(plan.end, ctx.start)

    def served(self, plan: Plan, task: Task[Order], mode: FailureMode | None) -> int:
        return task.items - items_missing(plan, task.spec, mode)

    def unsafe(self, plan: Plan, ctx: PickContext) -> bool:
        return bool(unsafe_reasons(plan, ctx, self.wh, self.router))

    def read(self, text: bytes, ctx: PickContext) -> Read[Plan]:
        found = read_plan(text, self.wh.bins)
        return Read(found.kind, _REACTIONS[found.reaction], found.plan)

    # -- documents -----------------------------------------------------------------------------

    def describe(self, config: dict[str, Any]) -> dict[str, Any]:
        """The document's ``config`` in the layout the warehouse has always written: the map's
        path and the world's parameters where they stood, no ``domain`` (a document without one
        is the warehouse's), and the calibration (``travel_s_per_cell``) last."""
        out: dict[str, Any] = {}
        for key, value in config.items():
            if key in ("domain", "kit_params", "world_params"):
                continue
            if key == "blocked_order_p":
                out["closure_p"] = self.closure_p
            out[key] = value
            if key == "sweep_budgets_ms":
                out["map_path"] = self.map_path
                out["handling_s"] = self.handling_s
                out["target_s_per_item"] = self.target_s_per_item
        out["travel_s_per_cell"] = round(self.travel_s_per_cell, 6)
        return out

    def notes(self, faults: Mapping[str, float]) -> Mapping[str, str]:
        out = {}
        if not faults.get("hallucinated_bin"):
            out["restart"] = (
                "the profile has no hallucinated bins: the only schema-valid answer that halts"
            )
        if self.settings.blocked_p:
            out["pilot_guard:blocked_order"] = (
                "the pilot's guard checks no domain rule: a blocked order's plan (into the "
                "closure) passes its schema and is executed, an unsafe plan, not a halt"
            )
        return out

    def _calibrate(self, sample: int = 2_000) -> float:
        """Seconds per cell at full speed such that the oracle's mean cycle is the target per item.

        The pilot's robot took 0.9 s per item; the reference map is a whole warehouse. Rather than
        invent a second map, travel is scaled: over a fixed sample of orders, the oracle's mean
        time per item is ``handling_s + travel_per_item``, and the scale makes it
        ``target_s_per_item``.
        """
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
        return (self.target_s_per_item - self.handling_s) * items / cells_at_full
