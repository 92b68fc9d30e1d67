"""``plansentry demo``: a small picker fleet in real time, a real model planning ahead, the guard deciding.

Each robot is a thread. While it executes its current order it asks the model for the next one (plan
ahead); when it finishes, that is the decision point, and the guard decides within the budget: the
model's plan if it arrived and passed the gate, else the classical planner's, else the safe move (the
robot holds and the order is requeued). One model serves the whole fleet, one generation at a time
(:class:`SerialModel`), so a robot whose request waits behind another's may miss its decision point:
that is the pilot's latency failure, and the point of the guard.

Warehouse time runs ``time_scale`` times faster than the wall clock (travel at the plan's speed along
the driven route, ``handling_s`` per item), so an order of a few minutes takes seconds to watch.
Decisions themselves run at real speed, against the real deadline.

The unguarded counterfactual costs every wait. The guard stops a model call at its decision's
cut-off, and the breaker skips the model while it is open, so the fleet's run never sees those
answers. After the run, :func:`measure_unseen` runs each such prompt again to completion, one at a
time (the fleet is done, so nothing else holds the model and the guarded run was not disturbed),
and records the answer as a ``late_answer`` (``how: rerun``): its text, and when it would have come,
estimated as the instant the call got the model (recorded by :class:`SerialModel`) plus the measured
full generation. A call stopped while still queued for the model, and a call the breaker skipped,
are dated from when they were stopped or would have been asked: a lower bound, since the queue
ahead of them would still have run. A call that ignored its stop token and came back with an
answer on its own (the runtime's ``late_answer``, ``how: returned``) is measured as it came and
not run again: the fleet's run waits up to :data:`RETURN_WAIT_S` for such calls. The unguarded
controller (:class:`~plansentry.domains.warehouse.kit.PilotController`, the simulator's model) judges
every decision's answer, and the FMLI matrix is computed from the same records the audit log
holds (:mod:`plansentry.report.decisions`), so ``plansentry fmli`` of the demo's log agrees with
the demo's table.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, final

import msgspec

from plansentry.core.decision import Arrival, ArrivalKind, Decision, SafeMove
from plansentry.domains.warehouse.cycle import HANDLING_S
from plansentry.domains.warehouse.map import Warehouse
from plansentry.domains.warehouse.order import Order, PickContext
from plansentry.domains.warehouse.rules import WarehouseDomain
from plansentry.domains.warehouse.safety import route_cells, unsafe_reasons
from plansentry.domains.warehouse.schema import Plan
from plansentry.domains.warehouse.world.orders import random_orders
from plansentry.domains.warehouse.world.unguarded import order_items
from plansentry.report.decisions import DecisionRow, Section, fmli_document, tally_sections
from plansentry.report.stats import percentile, rounded
from plansentry.runtime.config import GuardConfig
from plansentry.runtime.guard import DecisionEvent, Guard, LateAnswer
from plansentry.runtime.kit import DomainKit
from plansentry.runtime.planner import Planner, PlannerStopped, StopToken
from plansentry.runtime.realtime import RealtimeRuntime
from plansentry.telemetry.records import arrival_json, decision_json, late_answer_json

_JSON: Final = msgspec.json.Encoder()


@final
@dataclass(frozen=True, slots=True)
class DemoConfig:
    """The demo's fleet. ``time_scale``: warehouse seconds per wall-clock second; ``handling_s``:
    warehouse seconds per item at the bin, and what a safe move holds the robot before it asks
    again; ``startup_s``: warehouse seconds from the dock to the first decision point."""

    orders: int = 20
    robots: int = 2
    seed: int = 0
    time_scale: float = 20.0
    handling_s: float = HANDLING_S  # per item: the same figure the cycle-time rule assumes
    startup_s: float = 120.0

    def __post_init__(self) -> None:
        if self.orders < 1 or self.robots < 1:
            raise ValueError("--orders and --robots must be at least 1")
        if not self.time_scale > 0:
            raise ValueError(f"--time-scale must be > 0, got {self.time_scale}")


@final
class SerialModel:
    """A synchronous planner behind one lock, recording when each call got the model.

    One generation at a time, as one llama.cpp context allows; a call waiting for the lock gives up
    as soon as its stop token is set (:class:`PlannerStopped`). ``started`` maps ``id(ctx)`` to the
    monotonic instant (ns) the call for that context began generating.
    """

    def __init__(self, planner: Planner[PickContext], clock: Callable[[], int]) -> None:
        self.planner = planner
        self.clock = clock
        self.started: dict[int, int] = {}
        self._lock = threading.Lock()

    def __call__(self, ctx: PickContext, stop: StopToken) -> bytes | str:
        while not self._lock.acquire(timeout=0.005):
            if stop.stopped:
                raise PlannerStopped("stopped while waiting for the model")
        try:
            self.started[id(ctx)] = self.clock()
            out = self.planner(ctx, stop)
            assert not inspect.isawaitable(out)
            return out
        finally:
            self._lock.release()


def is_async(planner: object) -> bool:
    """Whether ``planner`` is an ``async def`` planner (the runtime runs it on its loop)."""
    return inspect.iscoroutinefunction(planner) or inspect.iscoroutinefunction(
        type(planner).__call__
    )


@final
@dataclass
class DemoRecord:
    """One decision of the demo: its inputs as the audit log has them, and what followed."""

    robot: str
    order: Order
    ctx: PickContext
    decision: Decision[Plan]
    arrival: Arrival
    asked_ns: int  # when the model was asked (or, if the breaker skipped it, would have been)
    unsafe: tuple[str, ...] = ()  # what the independent safety checker found in the executed plan
    hold_s: float = 0.0  # warehouse seconds spent holding (safe move) before the next decision
    exec_s: float = 0.0
    late: LateAnswer | None = None

    @property
    def unseen(self) -> bool:
        """The fleet never saw this decision's answer: stopped at its cut-off, or never asked."""
        return self.arrival.kind in (ArrivalKind.TIMEOUT, ArrivalKind.NOT_ASKED)

    @property
    def to_rerun(self) -> bool:
        """Unseen, and its call did not come back on its own: :func:`measure_unseen` reruns it."""
        return self.unseen and self.late is None


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
    rerun_s: float = 0.0  # wall seconds spent measuring unseen answers after the run


#: After the fleet's run, how long to wait for abandoned calls still running (a planner that
#: ignores its stop token) to come back on their own: the unguarded client's own timeout.
RETURN_WAIT_S: Final = 30.0

#: ``--time-scale auto``: a robot's median order takes this many times the fleet's generation
#: time (each robot's own, one after another on the one model) to execute, in wall-clock time.
AUTO_SLACK: Final = 2.0


def demo_orders(wh: Warehouse, config: DemoConfig) -> list[Order]:
    """The orders of a run: ``config.orders`` from the seeded stream."""
    source = random_orders(wh, random.Random(config.seed))
    return [next(source) for _ in range(config.orders)]


def auto_time_scale(
    domain: WarehouseDomain, config: DemoConfig, generation_s: float
) -> tuple[float, float]:
    """The time scale at which the run's median order (its classical plan, from its robot's first
    station) executes in ``AUTO_SLACK * robots * generation_s`` of wall-clock time, clamped to
    1-1000; and that median (warehouse seconds). The fleet then asks the one model for plans about
    half as fast as it can make them, so most answers come in time and some, behind another
    robot's, do not: the pilot's latency failure, on any machine."""
    from plansentry.domains.warehouse.classical import ClassicalPlanner

    wh = domain.wh
    classical = ClassicalPlanner(domain.router)
    start = wh.pack_stations[sorted(wh.pack_stations)[0]]
    times = []
    for order in demo_orders(wh, config):
        ctx = domain.context(order, "R1", start)
        plan = classical.plan(ctx).plan
        if plan is not None:
            times.append(execution_s(plan, ctx, domain, config.handling_s))
    median = percentile(times, 0.5) or config.startup_s
    scale = median / (AUTO_SLACK * config.robots * max(generation_s, 1e-3))
    return min(1000.0, max(1.0, scale)), median


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
    queue: collections.deque[Order] = collections.deque(demo_orders(wh, config))
    lock = threading.Lock()
    run = DemoRun(config)
    stations = sorted(wh.pack_stations)
    budget_ns = runtime.guard.config.budget_ns
    holds_in_a_row = collections.Counter[str]()
    clock = runtime.clock
    arrivals = _Arrivals()
    runtime.guard.hooks.append(arrivals)  # what the guard was handed, as the audit log has it

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
            asked = clock.now_ns()
            ticket = runtime.ask(ctx, planner)
            time.sleep(wait_s / config.time_scale)  # executing the current order meanwhile
            deadline = clock.now_ns() + budget_ns
            d = runtime.decide(ticket, deadline_ns=deadline)
            arrival = arrivals.seen.pop(d.request_id)
            rec = DemoRecord(name, order, ctx, d, arrival, ticket.asked_ns or asked)
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
    # An abandoned call that ignores its stop token may still come back with an answer: wait for
    # those (one generation at most), so that an answer is measured once, as it came, not rerun.
    give_up = time.monotonic() + RETURN_WAIT_S
    while runtime.stuck_workers and time.monotonic() < give_up:
        time.sleep(0.01)
    runtime.guard.hooks.remove(arrivals)
    for rec in run.records:
        if rec.unseen and rec.decision.request_id in arrivals.returned:
            rec.late = arrivals.returned[rec.decision.request_id]
    return run


@final
class _Arrivals:
    """A decision hook that keeps each decision's arrival, as the guard was handed it, and each
    late answer an abandoned call came back with on its own."""

    def __init__(self) -> None:
        self.seen: dict[str, Arrival] = {}
        self.returned: dict[str, LateAnswer] = {}

    def on_decision(self, event: DecisionEvent[Any, Any]) -> None:
        self.seen[event.decision.request_id] = event.arrival

    def on_late_answer(self, event: LateAnswer) -> None:
        self.returned[event.request_id] = event

    def on_reset(self, seq: int, reason: str) -> None:
        pass


def measure_unseen(
    run: DemoRun,
    guard: Guard[Plan, PickContext],
    planner: Planner[PickContext],
    *,
    clock: Callable[[], int],
    started: dict[int, int] | None = None,
    on_measured: Callable[[DemoRecord], None] = lambda _r: None,
) -> None:
    """Run every prompt whose answer the fleet never saw again, to completion, one at a time, and
    record each answer as a late answer (``how: rerun``; see the module docstring for its instant).

    Call it after the fleet's run: the model is then free, so the guarded run was not disturbed
    and each generation is timed alone. ``started`` is :attr:`SerialModel.started`.
    """
    t0 = time.monotonic()
    for rec in run.records:
        if not rec.to_rerun:
            continue
        d = rec.decision
        t_start = clock()
        try:
            out: Any = planner(rec.ctx, StopToken())
            if inspect.isawaitable(out):
                out = asyncio.run(_awaited(out))
            raw = out.encode("utf-8", "surrogatepass") if isinstance(out, str) else bytes(out)
            error = ""
        except Exception as exc:  # a failed call is the unguarded controller's failure too
            raw, error = b"", f"planner raised {type(exc).__name__}: {exc}"[:500]
        generation = clock() - t_start
        began = (started or {}).get(id(rec.ctx))
        if began is None:  # never got the model: from when it was stopped, or would have been asked
            began = d.decided_ns if rec.arrival.kind is ArrivalKind.TIMEOUT else rec.asked_ns
        at = began + generation
        version = guard.domain.version(rec.ctx)
        arrival = (
            Arrival(ArrivalKind.TRANSPORT, at_ns=at, detail=error, asked_version=version)
            if error
            else Arrival.output(raw, at, version)
        )
        rec.late = LateAnswer(
            d.request_id, arrival, asked_ns=rec.asked_ns, how="rerun", generation_ns=generation
        )
        guard.late_answer(rec.late)
        on_measured(rec)
    run.rerun_s = time.monotonic() - t0


async def _awaited(out: Any) -> Any:
    return await out


def decision_rows(
    run: DemoRun, kit: DomainKit[Plan, PickContext], config: GuardConfig
) -> list[dict[str, Any]]:
    """Each decision as the audit log writes it (decision, context, arrival, late answer), plus
    the robot and order; through JSON and back, as a reader of the log gets it."""
    cap = config.gate.max_bytes
    out = []
    for rec in run.records:
        row: dict[str, Any] = {
            "robot": rec.robot,
            "order_id": rec.order.order_id,
            **decision_json(rec.decision, config.buckets, kit),
            "context": kit.codec.context_to_json(rec.ctx),
            "arrival": arrival_json(rec.arrival, cap),
        }
        if rec.late is not None:
            row["late_answer"] = late_answer_json(rec.late, cap)
        out.append(msgspec.json.decode(_JSON.encode(row)))
    return out


def meta(config: DemoConfig) -> dict[str, Any]:
    """What the demo writes in its audit log's header: what a safe move holds the robot."""
    return {"demo": {"time_scale": config.time_scale}, "safe_action_s": config.handling_s}


def summarize(
    run: DemoRun, kit: DomainKit[Plan, PickContext], config: GuardConfig
) -> dict[str, Any]:
    """The run as the JSON document of ``plansentry demo --json``: the ``fmli`` document of its
    decisions (:func:`~plansentry.report.decisions.fmli_document`), and the run's own figures."""
    rows = decision_rows(run, kit, config)
    section = Section(
        "demo",
        "demo",
        rows=[DecisionRow(r, r["context"], r["arrival"], r.get("late_answer")) for r in rows],
        kit=kit.identity(),
        config=config.to_json(),
        meta=meta(run.config),
    )
    doc = fmli_document(tally_sections([section]))
    doc["kind"] = "demo"
    recs = run.records
    consulted = [r for r in recs if r.decision.consulted]
    latencies = [
        r.decision.latency_ns / 1e6 for r in consulted if r.decision.latency_ns is not None
    ]
    full = [
        (r.late.arrival.at_ns - r.late.asked_ns) / 1e6
        for r in recs
        if r.late is not None and r.late.asked_ns is not None and r.late.arrival.at_ns is not None
    ]
    doc["guarded"].update(
        {
            "lost_orders": len(run.unserved),
            "orders_completed": len(run.completed),
            "orders_requeued": len(run.requeued),
            "unserved_items": run.unserved_items,
            "unsafe_by_safety_checker": sum(1 for r in recs if r.unsafe),
            "decisions_on_time": sum(r.decision.on_time for r in recs),
            "model_plans_used": sum(r.decision.accepted for r in recs),
        }
    )
    doc["config"] = {
        "orders": run.config.orders,
        "robots": run.config.robots,
        "seed": run.config.seed,
        "time_scale": run.config.time_scale,
        "budget_ms": config.budget_ms,
    }
    doc["wall_s"] = round(run.wall_s, 1)
    doc["rerun_s"] = round(run.rerun_s, 1)
    doc["model"] = {
        "consulted": len(consulted),
        "answered_in_run": len(latencies),
        "latency_ms_p50": rounded(percentile(latencies, 0.5), 1),
        "latency_ms_max": rounded(max(latencies, default=None), 1),
        "passed_gate": sum(1 for r in consulted if r.decision.failure_mode is None),
        "unseen_measured": len(full),
        "unseen_latency_ms_p50": rounded(percentile(full, 0.5), 1),
        "unseen_latency_ms_max": rounded(max(full, default=None), 1),
    }
    doc["kit"] = kit.identity()
    doc["guard_config"] = config.to_json()
    doc["meta"] = meta(run.config)
    doc["decisions"] = rows
    return doc
