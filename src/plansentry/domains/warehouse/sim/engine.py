"""Replications and the engines that run them: a whole run of the fleet simulator.

One run is split into replications of a fixed size (``cycles_per_replication`` cycles, or
``hours_per_replication`` hours). Each replication is a complete, independent fleet simulation with
its own seed, derived from the run's seed and the replication's index, so a run gives the same figures
whether its replications run in one process or in many (``--workers``, or Ray), and in any order.

Inside a replication the same stream of orders is worked by each controller in turn, each in its own
SimPy environment. A cycle is one decision point: a robot ready to start an order. While it executes
an order it asks the model for its next one (plan ahead); the answer is needed at the next decision
point.
"""

from __future__ import annotations

import collections
import functools
import random
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, final

import simpy

from plansentry.domains.warehouse.order import Order
from plansentry.domains.warehouse.sim.config import SimConfig, int_at_least
from plansentry.domains.warehouse.sim.controllers import (
    Controller,
    GuardedController,
    Job,
    OracleController,
    UnguardedController,
)
from plansentry.domains.warehouse.sim.world import World
from plansentry.report.tally import Tally


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
    runs: list[tuple[str, Callable[[], Controller]]] = []
    if "unguarded" in cfg.controllers:
        runs.append(("unguarded", lambda: UnguardedController(world, seed)))
    if "guarded" in cfg.controllers:
        for b in budgets:
            runs.append(
                (_guarded_key(b, cfg), functools.partial(GuardedController, world, seed, b))
            )
    if "oracle" in cfg.controllers:
        runs.append(("oracle", lambda: OracleController(world, seed)))
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
    env: simpy.Environment, ctl: Controller, dispatch: _Dispatch, name: str, start: int
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


class Engine(Protocol):
    """Runs units anywhere and returns their results in the order given (local processes, Ray)."""

    name: str

    def map(self, units: Sequence[Unit], on_done: Callable[[int], None]) -> list[Result]: ...


@final
class LocalEngine:
    """Runs units in this process (``workers=1``) or in that many spawned processes; returns their
    results in the order given."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        int_at_least("workers", workers, 1)
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
