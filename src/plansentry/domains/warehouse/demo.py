"""``plansentry demo``: a small picker fleet in real time, a real model planning ahead, the guard deciding.

Each robot is a thread. While it executes its current order it asks the model for the next one (plan
ahead); when it finishes, that is the decision point, and the guard decides within the budget: the
model's plan if it arrived and passed the gate, else the classical planner's, else the safe move (the
robot holds and the order is requeued). One model serves the whole fleet, one generation at a time,
so a robot whose request waits behind another's may get the classical plan: that is the point.

Warehouse time runs ``time_scale`` times faster than the wall clock (travel at the plan's speed along
the driven route, ``handling_s`` per item), so an order of a few minutes takes seconds to watch.
Decisions themselves run at real speed, against the real deadline.
"""

from __future__ import annotations

import collections
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, final

from plansentry.core.decision import Arrival, ArrivalKind, Decision, SafeMove
from plansentry.core.failures import FailureMode
from plansentry.domains.warehouse.cycle import HANDLING_S
from plansentry.domains.warehouse.map import Warehouse
from plansentry.domains.warehouse.order import Order, PickContext
from plansentry.domains.warehouse.rules import WarehouseDomain
from plansentry.domains.warehouse.safety import route_cells, unsafe_reasons
from plansentry.domains.warehouse.schema import Plan
from plansentry.domains.warehouse.sim.orders import random_orders
from plansentry.domains.warehouse.sim.unguarded import UnguardedOutcome, order_items, react
from plansentry.report.stats import detect_ms, percentile, rounded
from plansentry.runtime.planner import Planner
from plansentry.runtime.realtime import RealtimeRuntime


@final
@dataclass(frozen=True, slots=True)
class DemoConfig:
    orders: int = 20
    robots: int = 2
    seed: int = 0
    time_scale: float = 10.0
    handling_s: float = HANDLING_S  # per item: the same figure the cycle-time rule assumes
    startup_s: float = 120.0  # warehouse seconds from the dock to the first decision point

    def __post_init__(self) -> None:
        if self.orders < 1 or self.robots < 1:
            raise ValueError("--orders and --robots must be at least 1")
        if not self.time_scale > 0:
            raise ValueError(f"--time-scale must be > 0, got {self.time_scale}")


@final
@dataclass
class DemoRecord:
    """One decision of the demo, with what the unguarded controller would have done instead."""

    robot: str
    order: Order
    decision: Decision[Plan]
    verdict_rules: frozenset[str]
    unguarded: UnguardedOutcome | None
    unsafe: tuple[
        str, ...
    ] = ()  # what the independent safety checker found wrong with the executed plan
    hold_s: float = 0.0  # warehouse seconds spent holding (safe move) before the next decision
    exec_s: float = 0.0


@final
@dataclass
class DemoRun:
    config: DemoConfig
    records: list[DemoRecord] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    unserved: list[str] = field(default_factory=list)
    unserved_items: int = 0
    wall_s: float = 0.0


def execution_s(plan: Plan, ctx: PickContext, domain: WarehouseDomain, handling_s: float) -> float:
    """Warehouse seconds to drive ``plan`` from ``ctx.start`` and pick its items."""
    cells = route_cells(plan, ctx, domain.wh, domain.router) or [ctx.start]
    metres = (len(cells) - 1) * domain.wh.cell_m
    return metres / plan.speed_mps + handling_s * sum(p.qty for p in plan.picks)


def run_demo(
    runtime: RealtimeRuntime[Plan, PickContext],
    domain: WarehouseDomain,
    planner: Planner[PickContext],
    config: DemoConfig,
    *,
    on_record: Callable[[DemoRecord], None] = lambda _r: None,
) -> DemoRun:
    """Run the fleet until every order is completed (or the fleet stops making progress)."""
    wh: Warehouse = domain.wh
    rng = random.Random(config.seed)
    source = random_orders(wh, rng)
    queue: collections.deque[Order] = collections.deque(next(source) for _ in range(config.orders))
    lock = threading.Lock()
    run = DemoRun(config)
    stations = sorted(wh.pack_stations)
    budget_ns = runtime.guard.config.budget_ns
    holds_in_a_row = collections.Counter[str]()

    def take() -> Order | None:
        with lock:
            return queue.popleft() if queue else None

    def robot(index: int) -> None:
        name = f"R{index + 1}"
        start = wh.pack_stations[stations[index % len(stations)]]
        order = take()
        wait_s = config.startup_s
        while order is not None:
            ctx = domain.context(order, name, start)
            ticket = runtime.ask(ctx, planner)
            time.sleep(wait_s / config.time_scale)  # executing the current order meanwhile
            deadline = time.monotonic_ns() + budget_ns
            d = runtime.decide(ticket, deadline_ns=deadline)
            rec = _record(name, order, d, ticket.arrival)
            rec.unsafe = tuple(unsafe_reasons(d.plan, ctx, wh, domain.router))
            with lock:
                run.records.append(rec)
                if isinstance(d.plan, SafeMove):
                    holds_in_a_row[order.order_id] += 1
                    if holds_in_a_row[order.order_id] >= 3:
                        run.unserved.append(order.order_id)  # no plan exists: reported, not retried
                        run.unserved_items += order_items(order)
                    else:
                        run.requeued.append(order.order_id)
                        queue.append(order)
                else:
                    run.completed.append(order.order_id)
            on_record(rec)
            if isinstance(d.plan, SafeMove):
                wait_s = rec.hold_s = config.handling_s  # holding still until the next decision
            else:
                wait_s = rec.exec_s = execution_s(d.plan, ctx, domain, config.handling_s)
                start = wh.pack_stations[d.plan.end]
            order = take()

    t0 = time.monotonic()
    threads = [
        threading.Thread(target=robot, args=(i,), name=f"robot-{i + 1}")
        for i in range(config.robots)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.wall_s = time.monotonic() - t0
    return run


def _record(name: str, order: Order, d: Decision[Plan], arrival: Arrival | None) -> DemoRecord:
    rules = frozenset(v.rule for v in d.violations)
    if not d.consulted:
        return DemoRecord(name, order, d, rules, None)
    text = arrival.text if arrival is not None and arrival.kind is ArrivalKind.OUTPUT else b""
    # A timed-out call was stopped, so its would-be wait is unknown (wait_s=None: not costed).
    outcome = react(d.failure_mode, rules, text, order, repaired=bool(d.repairs))
    return DemoRecord(name, order, d, rules, outcome)


def summarize(run: DemoRun, buckets: Any, budget_ns: int) -> dict[str, Any]:
    """The run as the JSON document of ``plansentry demo --json`` (shape of ``simulate --json``)."""
    recs = run.records
    consulted = [r for r in recs if r.decision.consulted]
    decisions = len(recs)
    on_time = sum(r.decision.on_time for r in recs)
    sources = collections.Counter(r.decision.source for r in recs)
    late = [r for r in recs if not r.decision.on_time]
    ung = [r.unguarded for r in consulted if r.unguarded is not None]
    unguarded = {
        "cycles": len(ung),
        "halts": sum(u.halted for u in ung),
        "halt_rate": round(sum(u.halted for u in ung) / len(ung), 4) if ung else 0.0,
        "downtime_s": round(sum(u.downtime_s for u in ung), 1),
        "unsafe_executed": sum(u.unsafe_executed for u in ung),
        "items_lost": sum(u.items_lost for u in ung),
        "timeouts_not_costed": sum(
            1 for r in consulted if r.decision.failure_mode is FailureMode.TIMEOUT
        ),
    }
    guarded = {
        "cycles": decisions,
        # A halt is a decision point without a decision by its deadline; downtime is that lateness
        # plus time spent holding on the safe move.
        "halts": len(late),
        "halt_rate": round(len(late) / decisions, 4) if decisions else 0.0,
        "downtime_s": round(
            sum(r.hold_s for r in recs)
            + sum((r.decision.decided_ns - r.decision.deadline_ns) / 1e9 for r in late),
            3,
        ),
        "unsafe_executed": sum(1 for r in recs if r.unsafe),
        "lost_orders": len(run.unserved),
        "items_lost": run.unserved_items,
        "orders_completed": len(run.completed),
        "orders_requeued": len(run.requeued),
        "decisions_on_time": on_time,
        "sources": dict(sorted(sources.items())),
        "model_plans_used": sources.get("llm", 0) + sources.get("repaired", 0),
    }
    fmli = []
    by_mode: dict[FailureMode, list[DemoRecord]] = collections.defaultdict(list)
    for r in consulted:
        if r.decision.failure_mode is not None and not r.decision.shadow:
            by_mode[r.decision.failure_mode].append(r)
    for mode in FailureMode:
        rows = by_mode.get(mode, [])
        if not rows:
            continue
        detect = [
            detect_ms(
                r.decision.decided_ns,
                r.decision.deadline_ns - budget_ns,
                r.decision.arrival_ns,
                timed_out=mode is FailureMode.TIMEOUT,
            )
            for r in rows
        ]
        mitig = collections.Counter(r.decision.source for r in rows)
        fmli.append(
            {
                "failure_mode": mode.value,
                "count": len(rows),
                "rate": round(len(rows) / len(consulted), 4),
                "detect_ms_p50": rounded(percentile(detect, 0.5), 3),
                "detect_ms_p99": rounded(percentile(detect, 0.99), 3),
                "mitigation": dict(sorted(mitig.items())),
                "bucket": buckets[mode].value,
                "halts_unguarded": sum(1 for r in rows if r.unguarded and r.unguarded.halted),
                "downtime_s_unguarded": round(
                    sum(r.unguarded.downtime_s for r in rows if r.unguarded), 1
                ),
                "unsafe_unguarded": sum(
                    1 for r in rows if r.unguarded and r.unguarded.unsafe_executed
                ),
                "downtime_s_guarded": round(sum(r.hold_s for r in rows), 1),
            }
        )
    latencies = [
        r.decision.latency_ns / 1e6 for r in consulted if r.decision.latency_ns is not None
    ]
    return {
        "config": {
            "orders": run.config.orders,
            "robots": run.config.robots,
            "seed": run.config.seed,
            "time_scale": run.config.time_scale,
            "budget_ms": budget_ns / 1e6,
        },
        "wall_s": round(run.wall_s, 1),
        "guarded": guarded,
        "unguarded": unguarded,
        "model": {
            "consulted": len(consulted),
            "answered": len(latencies),
            "latency_ms_p50": rounded(percentile(latencies, 0.5), 1),
            "latency_ms_max": rounded(max(latencies, default=None), 1),
            "passed_gate": sum(1 for r in consulted if r.decision.failure_mode is None),
        },
        "fmli": fmli,
    }
