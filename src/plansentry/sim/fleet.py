"""The fleet simulator: N pickers, three controllers, the same random numbers, SimPy for time.

One run is split into replications of a fixed size (``cycles_per_replication`` cycles, or
``hours_per_replication`` hours). Each replication is a complete, independent fleet simulation with
its own seed, derived from the run's seed and the replication's index, so a run gives the same figures
whether its replications run in one process or in many (``--workers``), and in any order.

Inside a replication the same stream of orders is worked by each controller in turn, each in its own
SimPy environment:

- ``unguarded``: the pilot's controller (:mod:`plansentry.sim.unguarded`). It waits for the model
  however long it takes, halts for a restart when it cannot use an answer or the client times out,
  executes whatever parses (unsafe or not), and skips an order after ``max_retries`` halts on it.
- ``guarded``: plansentry's real guard (gate, decider, breaker, classical fallback, safe move) in
  virtual time (:class:`~plansentry.runtime.virtual.VirtualRuntime`).
- ``oracle``: the best plan (:class:`~plansentry.warehouse.optimal.OptimalPlanner`) at every decision
  point, without waiting.

Common random numbers: the model's answer to the ``attempt``-th request for order ``n`` is drawn from
a generator seeded by ``(replication seed, n, attempt)``, so both controllers that ask the model get
the same fault and latency for the same request, whichever robot asks and whenever. Differences
between controllers are then the controllers', not sampling noise.

A cycle is one decision point: a robot ready to start an order. While it executes an order it asks the
model for its next one (plan ahead); the answer is needed at the next decision point. Travel is at the
plan's speed along the router's route, scaled so that the oracle's mean cycle is ``target_s_per_item``
seconds per item (the calibration, ``World._calibrate``), plus ``handling_s`` per item.
"""

from __future__ import annotations

import collections
import functools
import math
import random
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, final

import msgspec
import simpy

from plansentry.core.decision import Decision, SafeMove
from plansentry.core.failures import FailureMode
from plansentry.core.gate import Gate
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.sim.oracle import unsafe_reasons
from plansentry.sim.orders import random_orders
from plansentry.sim.profiles import Profile
from plansentry.sim.synthetic import ModelCall, SyntheticModel
from plansentry.sim.unguarded import unguarded_outcome
from plansentry.warehouse.assembly import default_config, make_guard
from plansentry.warehouse.map import Warehouse, default_map, load_map
from plansentry.warehouse.optimal import OptimalPlanner
from plansentry.warehouse.order import Order, PickContext
from plansentry.warehouse.router import UNREACHABLE
from plansentry.warehouse.rules import WarehouseDomain
from plansentry.warehouse.schema import Plan

CONTROLLERS: Final = ("unguarded", "guarded", "oracle")
LATENCY_BIN_MS: Final = 100  # model latency histogram: 100 ms bins, the last (200) is >= 20 s
SLACK_BIN_MS: Final = 50  # arrival - decision point: 50 ms bins from -4 s (bin -80) to +2 s (40)
_NS: Final = 1_000_000_000


def latency_bin(latency_ns: int) -> int:
    """Histogram bin of a model latency (``LATENCY_BIN_MS`` wide; the last, 200, is open-ended)."""
    return min(latency_ns // (LATENCY_BIN_MS * 1_000_000), 200)


def slack_bin(slack_ns: int) -> int:
    """Histogram bin of an answer's arrival minus its decision point (``SLACK_BIN_MS`` wide;
    -80 and 40, 4 s early and 2 s late, are open-ended)."""
    return max(-80, min(40, math.floor(slack_ns / 1e6 / SLACK_BIN_MS)))


class SimConfigError(ValueError):
    """A simulation setting that cannot be used; the message names the setting."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SimConfig:
    """One simulated scenario. Times are seconds unless the name says otherwise."""

    profile: Profile
    robots: int = 4
    cycles: int | None = None
    hours: float | None = None
    seed: int = 0
    budget_ms: float = 150.0
    sweep_budgets_ms: tuple[float, ...] = ()
    map_path: str | None = None
    handling_s: float = 0.3  # per item, at the bin
    target_s_per_item: float = 0.9  # the pilot's nominal cycle; travel is scaled to meet it
    restart_s: float = 12.0  # mean restart after a halt (log-normal, ``restart_sigma``)
    restart_sigma: float = 0.25
    client_timeout_s: float = 30.0
    max_retries: int = 3  # unguarded: halts on one order before an operator skips it
    hold_s: float = 1.0  # guarded: time a safe move holds before the next decision point
    max_holds: int = 3  # guarded: safe moves on one order before it is reported unserved
    startup_s: float = 30.0  # from the dock to the first decision point (the first plan is asked)
    closure_p: float = 0.05  # chance that an order comes with an aisle closed
    item_value: float = 2.0  # money per item picked
    downtime_cost_per_hour: float = 120.0  # money per robot-hour standing still
    cycles_per_replication: int = 10_000
    hours_per_replication: float = 4.0
    repair: bool = False
    audit: bool = False  # judge every executed plan with the independent cell-walking oracle
    controllers: tuple[str, ...] = CONTROLLERS

    def __post_init__(self) -> None:
        if (self.cycles is None) == (self.hours is None):
            raise SimConfigError("give exactly one of cycles and hours")
        _int_at_least("robots", self.robots, 1)
        if self.cycles is not None:
            _int_at_least("cycles", self.cycles, 1)
        if self.hours is not None:
            _positive("hours", self.hours)
        _int_at_least("seed", self.seed, 0)
        for name in (
            "budget_ms",
            "handling_s",
            "target_s_per_item",
            "restart_s",
            "client_timeout_s",
            "hold_s",
            "hours_per_replication",
        ):
            _positive(name, getattr(self, name))
        for name in ("restart_sigma", "startup_s", "item_value", "downtime_cost_per_hour"):
            value = getattr(self, name)
            if not _finite(value) or value < 0:
                raise SimConfigError(f"{name} must be a finite number >= 0, got {value!r}")
        if not _finite(self.closure_p) or not 0 <= self.closure_p <= 1:
            raise SimConfigError(f"closure_p must be in [0, 1], got {self.closure_p!r}")
        for b in self.sweep_budgets_ms:
            _positive("sweep budget", b)
        _int_at_least("max_retries", self.max_retries, 1)
        _int_at_least("max_holds", self.max_holds, 1)
        _int_at_least("cycles_per_replication", self.cycles_per_replication, 1)
        bad = sorted(set(self.controllers) - set(CONTROLLERS))
        if bad or not self.controllers:
            raise SimConfigError(f"controllers must be among {', '.join(CONTROLLERS)}, got {bad}")
        if self.handling_s >= self.target_s_per_item:
            raise SimConfigError(
                f"handling_s ({self.handling_s}) must be below target_s_per_item "
                f"({self.target_s_per_item}): travel needs some of the cycle"
            )

    def replications(self) -> list[tuple[int, int | None, float | None]]:
        """``(index, cycles, hours)`` of each replication; independent of how many workers run them."""
        if self.cycles is not None:
            count = math.ceil(self.cycles / self.cycles_per_replication)
            base, extra = divmod(self.cycles, count)
            return [(i, base + (i < extra), None) for i in range(count)]
        assert self.hours is not None
        count = math.ceil(self.hours / self.hours_per_replication - 1e-9)
        return [(i, None, self.hours / count) for i in range(count)]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.to_json() if isinstance(value, Profile) else value
        out["sweep_budgets_ms"] = list(self.sweep_budgets_ms)
        out["controllers"] = list(self.controllers)
        return out


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive(name: str, value: Any) -> None:
    if not _finite(value) or value <= 0:
        raise SimConfigError(f"{name} must be a finite number > 0, got {value!r}")


def _int_at_least(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SimConfigError(f"{name} must be an integer >= {low}, got {value!r}")


# ----------------------------------------------------------------------------------------------
# What a replication counts


@final
@dataclass(slots=True)
class ModeTally:
    """One failure mode's row, for one controller."""

    count: int = 0
    detect_ms: list[float] = field(default_factory=list)
    mitigation: collections.Counter[str] = field(default_factory=collections.Counter)
    halts: int = 0
    downtime_s: float = 0.0
    unsafe: int = 0
    items_lost: int = 0
    requeued: int = 0

    def merge(self, other: ModeTally) -> None:
        self.count += other.count
        self.detect_ms.extend(other.detect_ms)
        self.mitigation.update(other.mitigation)
        self.halts += other.halts
        self.downtime_s += other.downtime_s
        self.unsafe += other.unsafe
        self.items_lost += other.items_lost
        self.requeued += other.requeued


@final
@dataclass(slots=True)
class Tally:
    """Everything one controller did in one replication (merged across replications in order)."""

    cycles: int = 0
    calls: int = 0  # model requests
    halted_cycles: int = 0
    halts: int = 0
    model_halts: int = 0  # halts with a model failure behind them
    downtime_s: float = 0.0
    robot_s: float = 0.0
    items: int = 0
    items_lost: int = 0
    orders_done: int = 0
    lost_orders: int = 0
    unsafe_executed: int = 0
    requeued: int = 0
    safe_moves: int = 0
    late: int = 0
    sources: collections.Counter[str] = field(default_factory=collections.Counter)
    cycle_s_per_item: list[float] = field(default_factory=list)
    modes: dict[str, ModeTally] = field(default_factory=dict)
    # For the report (guarded only): model latency and the answer's arrival relative to its
    # decision point, as fixed-bin histograms (bin index -> count, see LATENCY_BIN_MS and
    # SLACK_BIN_MS); seconds in each state; state changes; the first replication's state timeline.
    latency_bins: collections.Counter[int] = field(default_factory=collections.Counter)
    slack_bins: collections.Counter[int] = field(default_factory=collections.Counter)
    state_s: dict[str, float] = field(default_factory=dict)
    transitions: collections.Counter[str] = field(default_factory=collections.Counter)
    timeline: list[tuple[float, str]] = field(default_factory=list)

    def mode(self, name: str) -> ModeTally:
        found = self.modes.get(name)
        if found is None:
            found = self.modes[name] = ModeTally()
        return found

    def merge(self, other: Tally) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "modes":
                for name, row in theirs.items():
                    self.mode(name).merge(row)
            elif f.name == "state_s":
                for name, seconds in theirs.items():
                    mine[name] = mine.get(name, 0.0) + seconds
            elif f.name == "timeline":
                if not mine:  # the first replication's, whatever the number of workers
                    self.timeline = list(theirs)
            elif isinstance(mine, collections.Counter):
                mine.update(theirs)
            elif isinstance(mine, list):
                mine.extend(theirs)
            else:
                setattr(self, f.name, mine + theirs)


# ----------------------------------------------------------------------------------------------
# The world a replication runs in


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
        self.travel_s_per_cell = self._calibrate()

    def orders(self, rng: random.Random, prefix: str) -> Iterator[Order]:
        """An endless stream of feasible orders (2-5 lines, sometimes with one aisle closed)."""
        source = random_orders(
            self.wh, rng, prefix=prefix, digits=6, closure_p=self.config.closure_p
        )
        for order in source:
            if self.optimal.feasible(order):
                yield order

    def best(self, ctx: PickContext) -> Plan | None:
        """The oracle's plan for ``ctx``, shared by every controller that meets the same order at
        the same start (only the robot's name differs)."""
        key = (ctx.order.order_id, ctx.start)
        if key in self._best:
            plan = self._best[key]
        else:
            if len(self._best) > 50_000:
                self._best.clear()
            plan = self._best[key] = self.optimal.plan(ctx)
        if plan is None or plan.robot_id == ctx.robot_id:
            return plan
        other: Plan = msgspec.structs.replace(plan, robot_id=ctx.robot_id)
        return other

    def drive_s(self, plan: Plan, ctx: PickContext) -> float:
        """Seconds to drive ``plan``'s route at its speed."""
        factor = self.wh.max_speed_mps / plan.speed_mps
        return self._route_cells(plan, ctx) * self.travel_s_per_cell * factor

    def _route_cells(self, plan: Plan, ctx: PickContext) -> int:
        """Cells ``plan``'s route drives. A leg the router cannot route (the plan enters a
        staff-only or closed zone, which an unguarded robot does) counts its Manhattan length."""
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
        source = self.orders(random.Random("calibration"), "CAL")
        cells_at_full = 0.0  # cells driven, weighted by full speed / plan speed
        items = 0
        for i in range(sample):
            start = self.wh.pack_stations[self.stations[i % len(self.stations)]]
            ctx = self.domain.context(next(source), "CAL", start)
            plan = self.best(ctx)
            assert plan is not None
            cells_at_full += self._route_cells(plan, ctx) * (self.wh.max_speed_mps / plan.speed_mps)
            items += sum(p.qty for p in plan.picks)
        self._best.clear()  # the sample's plans are not the run's
        return (cfg.target_s_per_item - cfg.handling_s) * items / cells_at_full


# ----------------------------------------------------------------------------------------------
# One replication


@final
@dataclass(slots=True)
class Job:
    order: Order
    number: int
    attempt: int = 0


@final
class _Dispatch:
    """The order backlog of one controller: new orders until the replication's end, requeued first."""

    def __init__(
        self,
        env: simpy.Environment,
        orders: list[Order],
        extend: Callable[[], None],
        cycles: int | None,
        hours: float | None,
        startup_s: float,
    ) -> None:
        self.env = env
        self.orders = orders
        self.extend = extend
        self.cycles = cycles
        self.until = None if hours is None else startup_s + hours * 3600
        self.issued = 0
        self.requeued: collections.deque[Job] = collections.deque()

    def take(self) -> Job | None:
        if self.requeued:
            return self.requeued.popleft()
        if self.cycles is not None and self.issued >= self.cycles:
            return None
        if self.until is not None and self.env.now >= self.until:
            return None
        while self.issued >= len(self.orders):
            self.extend()
        job = Job(self.orders[self.issued], self.issued)
        self.issued += 1
        return job


def run_replication(
    world: World, index: int, cycles: int | None, hours: float | None, budgets: tuple[float, ...]
) -> dict[str, Tally]:
    """One replication: every controller (the guarded one at every budget) on the same orders."""
    cfg = world.config
    seed = random.Random(f"plansentry-sim:{cfg.seed}:{index}").getrandbits(48)
    order_rng = random.Random(seed)
    stream = world.orders(order_rng, f"R{index:03d}")
    orders: list[Order] = []

    def extend() -> None:
        orders.extend(next(stream) for _ in range(1_000))

    out: dict[str, Tally] = {}
    runs: list[tuple[str, Callable[[], _Controller]]] = []
    if "unguarded" in cfg.controllers:
        runs.append(("unguarded", lambda: _Unguarded(world, seed)))
    if "guarded" in cfg.controllers:
        for b in budgets:
            runs.append((_guarded_key(b, cfg), functools.partial(_Guarded, world, seed, b)))
    if "oracle" in cfg.controllers:
        runs.append(("oracle", lambda: _Oracle(world, seed)))
    for key, make in runs:
        env = simpy.Environment()
        dispatch = _Dispatch(env, orders, extend, cycles, hours, cfg.startup_s)
        ctl = make()
        for r in range(cfg.robots):
            start = world.wh.pack_stations[world.stations[r % len(world.stations)]]
            env.process(_robot(env, ctl, dispatch, f"R{r + 1}", start))
        env.run()
        out[key] = ctl.tally
    return out


def _guarded_key(budget_ms: float, cfg: SimConfig) -> str:
    return "guarded" if budget_ms == cfg.budget_ms else f"guarded@{budget_ms:g}"


def _robot(
    env: simpy.Environment, ctl: _Controller, dispatch: _Dispatch, name: str, start: int
) -> Generator[simpy.Event, Any, None]:
    job = dispatch.take()
    pending = ctl.ask(job, name, start, 0.0) if job is not None else None
    yield env.timeout(ctl.world.config.startup_s)
    began = env.now
    while job is not None and pending is not None:
        t = env.now
        step = ctl.cycle(pending, t)
        if step.requeue:
            job.attempt += 1
            dispatch.requeued.append(job)
        job = dispatch.take()
        pending = (
            ctl.ask(job, name, step.end_cell, t + step.ask_after_s) if job is not None else None
        )
        yield env.timeout(step.busy_s)
    ctl.tally.robot_s += env.now - began


@final
@dataclass(slots=True)
class _Pending:
    """A request for a job, made ``asked_s`` (simulated time) with the robot's next start cell."""

    job: Job
    ctx: PickContext
    asked_s: float
    call: ModelCall | None


@final
@dataclass(slots=True)
class _Step:
    busy_s: float  # until the next decision point
    end_cell: int  # where the robot will be then
    ask_after_s: float = 0.0  # when, after the decision point, the next request goes out
    requeue: bool = False


class _Controller:
    name = ""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.seed = seed
        self.tally = Tally()
        self._last: dict[
            str, Plan
        ] = {}  # robot -> its last best plan (what a stale answer repeats)

    def ask(self, job: Job, robot: str, start: int, at_s: float) -> _Pending:
        ctx = self.world.domain.context(job.order, robot, start)
        self.tally.calls += 1
        return _Pending(job, ctx, at_s, self._call(ctx, job.number, job.attempt))

    def _call(self, ctx: PickContext, number: int, attempt: int) -> ModelCall | None:
        best = self.world.best(ctx)
        assert best is not None  # orders() only yields feasible orders
        rng = random.Random((self.seed << 40) ^ (number << 8) ^ min(attempt, 255))
        other = self._last.get(ctx.robot_id)
        self._last[ctx.robot_id] = best
        return self.world.model.call(ctx, best, other, rng)

    def cycle(self, p: _Pending, t: float) -> _Step:
        raise NotImplementedError

    def _executed(self, plan: Plan, p: _Pending, items: int, *, clean: bool) -> bool:
        """Count an executed plan's items and judge it with the independent cell-walking oracle;
        returns whether it was unsafe. A ``clean`` plan (the synthetic model's good output, safe by
        construction: ``tests/sim/test_synthetic.py``) is judged only with ``audit``, which keeps
        the common case cheap; every other executed plan (a faulty output, a fallback) always is."""
        tally, world = self.tally, self.world
        tally.items += items
        unsafe = False
        if world.config.audit or not clean:
            unsafe = bool(unsafe_reasons(plan, p.ctx, world.wh, world.router))
        tally.unsafe_executed += unsafe
        return unsafe


@final
class _Oracle(_Controller):
    """The best plan at every decision point, at once: the ceiling of what any controller can do."""

    def ask(self, job: Job, robot: str, start: int, at_s: float) -> _Pending:
        ctx = self.world.domain.context(job.order, robot, start)
        return _Pending(job, ctx, at_s, None)

    def cycle(self, p: _Pending, t: float) -> _Step:
        plan = self.world.best(p.ctx)
        assert plan is not None
        busy = self.world.execute_s(plan, p.ctx)
        items = sum(q.qty for q in plan.picks)
        tally = self.tally
        tally.cycles += 1
        tally.orders_done += 1
        self._executed(plan, p, items, clean=True)  # the optimum: judged with ``audit``
        tally.sources["optimal"] += 1
        tally.cycle_s_per_item.append(busy / items)
        return _Step(busy, self.world.wh.pack_stations[plan.end])


@final
class _Unguarded(_Controller):
    """The pilot's controller: wait, parse, execute; halt and restart on anything it cannot use."""

    def __init__(self, world: World, seed: int) -> None:
        super().__init__(world, seed)
        self._restart = random.Random(seed ^ 0x5EED)
        cfg = world.config
        self._mu = math.log(cfg.restart_s) - cfg.restart_sigma**2 / 2  # so the mean is restart_s
        # The guard's cut-off, only to say which waits the guard would have called a timeout.
        self._cutoff_s = (cfg.budget_ms - default_config().reserve_ms) / 1000

    def _restart_s(self) -> float:
        cfg = self.world.config
        if not cfg.restart_sigma:
            return cfg.restart_s
        return self._restart.lognormvariate(self._mu, cfg.restart_sigma)

    def cycle(self, p: _Pending, t: float) -> _Step:
        tally, cfg = self.tally, self.world.config
        tally.cycles += 1
        now, asked, call, halts = t, p.asked_s, p.call, 0
        ordered = sum(line.qty for line in p.job.order.lines)
        for attempt in range(cfg.max_retries + 1):
            assert call is not None
            now, plan, got = self._attempt(p, call, asked, now, t, first=attempt == 0)
            if plan is not None:
                tally.halts += halts
                tally.model_halts += halts
                tally.halted_cycles += halts > 0
                tally.downtime_s += now - t
                tally.sources["model"] += 1
                tally.items_lost += ordered - got
                tally.lost_orders += got < ordered
                tally.orders_done += got == ordered
                busy = self.world.execute_s(plan, p.ctx)
                tally.cycle_s_per_item.append((now - t + busy) / max(1, got))
                end = self.world.wh.pack_stations.get(plan.end, p.ctx.start)
                return _Step(now - t + busy, end, ask_after_s=now - t)
            halts += 1
            # Restarted: ask again, and wait for the answer this time (no plan-ahead).
            asked = now
            tally.calls += 1
            call = self._call(p.ctx, p.job.number, p.job.attempt + attempt + 1)
        # An operator skips the order after max_retries restarts on it.
        tally.halts += halts
        tally.model_halts += halts
        tally.halted_cycles += 1
        tally.downtime_s += now - t
        tally.lost_orders += 1
        tally.items_lost += ordered
        tally.sources["skipped"] += 1
        return _Step(now - t, p.ctx.start)

    def _attempt(
        self, p: _Pending, call: ModelCall, asked: float, now: float, point: float, *, first: bool
    ) -> tuple[float, Plan | None, int]:
        """One request: wait for it, then execute its plan or halt. Returns the time after it, the
        executed plan (``None``: halted) and the items of this order the plan picks."""
        world, cfg, tally = self.world, self.world.config, self.tally
        arrives = None if call.latency_s is None else asked + call.latency_s
        if arrives is None or arrives - asked >= cfg.client_timeout_s:
            wait = max(0.0, asked + cfg.client_timeout_s - now)
            restart = self._restart_s()
            stall = tally.mode(FailureMode.TIMEOUT.value)
            stall.count += first
            stall.halts += 1
            stall.downtime_s += wait + restart
            stall.mitigation["restart"] += 1
            return now + wait + restart, None, 0
        wait = max(0.0, arrives - now)  # the robot stands and waits for the model
        now += wait
        if first and arrives > point + self._cutoff_s:
            late = tally.mode(FailureMode.TIMEOUT.value)
            late.count += 1
            late.downtime_s += wait
            late.mitigation["waited"] += 1
        mode: FailureMode | None = FailureMode.TRANSPORT
        if call.text is None:
            key: str | None = FailureMode.TRANSPORT.value
            halted = True
        else:
            verdict = world.gate.check(call.text, len(call.text), p.ctx, p.ctx.version)
            mode = verdict.mode
            outcome = unguarded_outcome(
                mode,
                frozenset(v.rule for v in verdict.violations),
                extraction=verdict.extraction or "bare",
                repaired=bool(verdict.repairs),
            )
            halted = outcome.halted
            key = _row_key(mode, verdict.extraction, verdict.repairs)
        row = tally.mode(key) if key is not None else None
        if row is not None and first:
            row.count += 1
        if halted:
            restart = self._restart_s()
            if row is not None:
                row.halts += 1
                row.downtime_s += restart
                row.mitigation["restart"] += 1
            return now + restart, None, 0
        assert call.text is not None
        plan = world.decode(call.text)  # it parsed as a plan, or the controller would have halted
        ordered = sum(line.qty for line in p.job.order.lines)
        missing = _items_missing(plan, p.job.order, mode)
        got = ordered - missing
        unsafe = self._executed(plan, p, got, clean=call.fault == "")
        if row is not None:
            row.unsafe += unsafe
            row.items_lost += missing
            row.mitigation["executed"] += 1
        return now, plan, got


@final
class _Guarded(_Controller):
    """plansentry's guard in virtual time: the real gate, decider, breaker and fallbacks."""

    def __init__(self, world: World, seed: int, budget_ms: float) -> None:
        super().__init__(world, seed)
        cfg = world.config
        gate = default_config().gate
        if cfg.repair:
            gate = replace(gate, repair=True)
        guard = make_guard(
            domain=world.domain, config=default_config(budget_ms=budget_ms, gate=gate)
        )
        self.runtime: VirtualRuntime[Plan, PickContext] = VirtualRuntime(guard)
        self.budget_ms = budget_ms
        self._holds: collections.Counter[int] = collections.Counter()
        self._state_since: int | None = None

    def ask(self, job: Job, robot: str, start: int, at_s: float) -> _Pending:
        ctx = self.world.domain.context(job.order, robot, start)
        # The model is asked only if the breaker lets it; asking is what draws the answer.
        if not self.runtime.guard.may_consult(int(at_s * _NS)):
            return _Pending(job, ctx, at_s, None)
        # Counted as a call when the decision says the model was consulted (``cycle``).
        return _Pending(job, ctx, at_s, self._call(ctx, job.number, job.attempt))

    def _observe(self, d: Decision[Plan], point_ns: int) -> None:
        """What the report draws: latency, arrival against the decision point, time in states."""
        tally = self.tally
        if d.latency_ns is not None:
            tally.latency_bins[latency_bin(d.latency_ns)] += 1
        if d.arrival_ns is not None:
            tally.slack_bins[slack_bin(d.arrival_ns - point_ns)] += 1
        state = d.state_before.value
        if self._state_since is not None:
            seconds = (d.decided_ns - self._state_since) / _NS
            tally.state_s[state] = tally.state_s.get(state, 0.0) + seconds
        self._state_since = d.decided_ns
        for tr in d.transitions:
            tally.transitions[f"{tr.source.value}>{tr.target.value}:{tr.event.value}"] += 1
            if len(tally.timeline) < 400:
                tally.timeline.append((round(d.decided_ns / _NS, 3), tr.target.value))

    def cycle(self, p: _Pending, t: float) -> _Step:
        world, cfg, tally = self.world, self.world.config, self.tally
        tally.cycles += 1
        call = p.call
        now_ns = int(t * _NS)
        if call is None:  # not asked: the breaker was open at asking time
            d = self.runtime.decide(
                p.ctx,
                now_ns=now_ns,
                output=None,
                latency_ms=None,
                ask_ahead_ms=(t - p.asked_s) * 1000,
            )
        else:
            d = self.runtime.decide(
                p.ctx,
                now_ns=now_ns,
                output=call.text,
                latency_ms=None if call.latency_s is None else call.latency_s * 1000,
                ask_ahead_ms=(t - p.asked_s) * 1000,
                transport_error=call.error,
            )
        wait = (d.decided_ns - now_ns) / _NS
        self._observe(d, now_ns)
        tally.calls += d.consulted and not d.shadow
        tally.late += not d.on_time
        tally.downtime_s += wait
        tally.sources[d.source] += 1
        key = None
        if d.consulted and not d.shadow:
            extraction = "bare"
            if call is not None and call.fault == "malformed" and d.failure_mode is None:
                extraction = "extracted"
            key = _row_key(d.failure_mode, extraction, d.repairs)
        row = None
        if key is not None:
            row = tally.mode(key)
            row.count += 1
            row.detect_ms.append(_detect_ms(d.decided_ns, d.arrival_ns, now_ns, d.failure_mode))
            row.mitigation[d.source if d.failure_mode is not None else extraction] += 1
        plan = d.plan
        if isinstance(plan, SafeMove):
            tally.safe_moves += 1
            tally.halts += 1
            tally.halted_cycles += 1
            tally.model_halts += d.failure_mode is not None
            tally.downtime_s += cfg.hold_s
            n = p.job.number
            self._holds[n] += 1
            if row is not None:
                row.halts += 1
                row.downtime_s += wait + cfg.hold_s
            if self._holds[n] >= cfg.max_holds:
                tally.lost_orders += 1  # no plan exists for it: reported, not retried forever
                tally.items_lost += sum(line.qty for line in p.job.order.lines)
                return _Step(wait + cfg.hold_s, p.ctx.start)
            tally.requeued += 1
            if row is not None:
                row.requeued += 1
            return _Step(wait + cfg.hold_s, p.ctx.start, requeue=True)
        if row is not None:
            row.downtime_s += wait
        busy = world.execute_s(plan, p.ctx)
        items = sum(q.qty for q in plan.picks)
        clean = d.accepted and call is not None and call.fault == ""
        unsafe = self._executed(plan, p, items, clean=clean)
        if row is not None:
            row.unsafe += unsafe
        tally.orders_done += 1
        tally.cycle_s_per_item.append((wait + busy) / items)
        return _Step(wait + busy, world.wh.pack_stations[plan.end], ask_after_s=wait)


def _items_missing(plan: Plan, order: Order, mode: FailureMode | None) -> int:
    """Items of ``order`` an executed ``plan`` does not pick: all of them for another order's
    plan (``stale``), else those of the lines it leaves out."""
    if mode is FailureMode.STALE:
        return sum(line.qty for line in order.lines)
    picked = {(pick.bin, pick.sku) for pick in plan.picks}
    return sum(line.qty for line in order.lines if (line.bin, line.sku) not in picked)


def _row_key(mode: FailureMode | None, extraction: str, repairs: tuple[str, ...]) -> str | None:
    """The FMLI row of an output: its failure mode, or ``malformed`` for output a bare JSON parser
    refuses but the gate could still use (extracted from prose or a fence, or repaired)."""
    if mode is not None:
        return mode.value
    if (extraction and extraction != "bare") or repairs:
        return FailureMode.MALFORMED.value
    return None


def _detect_ms(
    decided_ns: int, arrival_ns: int | None, point_ns: int, mode: FailureMode | None
) -> float:
    """From when the failure could first be acted on (the output's arrival, or the decision point
    if it came earlier; for a timeout, the decision point) to the decision."""
    if arrival_ns is not None and mode is not FailureMode.TIMEOUT:
        return max(0.0, (decided_ns - max(arrival_ns, point_ns)) / 1e6)
    return max(0.0, (decided_ns - point_ns) / 1e6)


# ----------------------------------------------------------------------------------------------
# A whole run: replications are the units of work an engine runs anywhere

Unit = tuple[SimConfig, int, int | None, float | None]  # config, replication index, cycles, hours
Result = dict[str, Tally]

_WORLDS: dict[str, World] = {}


def world_for(config: SimConfig) -> World:
    """The world of ``config`` in this process, built once (a few are kept, not all)."""
    key = repr(config)
    world = _WORLDS.get(key)
    if world is None:
        if len(_WORLDS) >= 4:
            _WORLDS.clear()
        world = _WORLDS[key] = World(config)
    return world


def run_unit(unit: Unit) -> Result:
    """One replication of one configuration (what an engine distributes)."""
    config, index, cycles, hours = unit
    return run_replication(world_for(config), index, cycles, hours, budgets_of(config))


def merge_results(results: Sequence[Result]) -> dict[str, Tally]:
    """Tallies merged in the order given (replication order), whatever ran them."""
    merged: dict[str, Tally] = {}
    for result in results:
        for key, tally in result.items():
            merged.setdefault(key, Tally()).merge(tally)
    return merged


@final
class LocalEngine:
    """Runs units in this process (``workers=1``) or in that many spawned processes; returns their
    results in the order given."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        _int_at_least("workers", workers, 1)
        self.workers = workers

    def map(self, units: Sequence[Unit], on_done: Callable[[int], None]) -> list[Result]:
        if self.workers == 1 or len(units) == 1:
            out = []
            for unit in units:
                out.append(run_unit(unit))
                on_done(1)
            return out
        import concurrent.futures
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # no inherited threads or locks
        with concurrent.futures.ProcessPoolExecutor(
            min(self.workers, len(units)), mp_context=ctx
        ) as pool:
            futures = [pool.submit(run_unit, u) for u in units]
            for _ in concurrent.futures.as_completed(futures):
                on_done(1)
            return [f.result() for f in futures]


def budgets_of(config: SimConfig) -> tuple[float, ...]:
    """The guard budgets a run simulates: its own, then the sweep's."""
    return tuple(dict.fromkeys((config.budget_ms, *config.sweep_budgets_ms)))


@final
@dataclass(frozen=True, slots=True)
class SimRun:
    """A finished run: its configuration, the calibration and each controller's merged tally
    (keys ``unguarded``, ``guarded``, ``oracle`` and ``guarded@<budget>`` for a sweep)."""

    config: SimConfig
    travel_s_per_cell: float
    tallies: dict[str, Tally]


def simulate(
    config: SimConfig,
    *,
    workers: int = 1,
    on_replication: Callable[[int, int], None] = lambda _done, _total: None,
) -> SimRun:
    """Run every replication (in ``workers`` processes) and merge them in replication order, so
    the figures do not depend on ``workers``. ``on_replication(done, total)`` reports progress."""
    engine = LocalEngine(workers)
    world = world_for(config)  # here first: a bad map fails before any process starts
    units = [(config, *rep) for rep in config.replications()]
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        on_replication(done, len(units))

    results = engine.map(units, tick)
    return SimRun(config, world.travel_s_per_cell, merge_results(results))
