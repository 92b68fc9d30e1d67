"""The controllers a replication compares, each working the same orders on the same random numbers:

- ``unguarded``: the pilot's controller (:mod:`.unguarded`). It waits for the model however long it
  takes, halts for a restart when it cannot use an answer or the client times out, executes
  whatever parses (unsafe or not), and skips an order after ``max_retries`` halts on it.
- ``guarded``: plansentry's real guard (gate, decider, breaker, classical fallback, safe move) in
  virtual time (:class:`~plansentry.runtime.virtual.VirtualRuntime`).
- ``oracle``: the optimal controller: the best plan
  (:class:`~plansentry.domains.warehouse.optimal.OptimalPlanner`) at every decision point, without
  waiting. (The independent safety checker that judges executed plans is
  :mod:`plansentry.domains.warehouse.safety`.)

Common random numbers: the model's answer to the ``attempt``-th request for order ``n`` is drawn from
a generator seeded by ``(replication seed, n, attempt)``, so both controllers that ask the model get
the same fault and latency for the same request, whichever robot asks and whenever. Differences
between controllers are then the controllers', not sampling noise.
"""

from __future__ import annotations

import collections
import math
import random
from dataclasses import dataclass, replace
from typing import Final, final

from plansentry.core.decision import Decision, SafeMove
from plansentry.core.failures import FailureMode
from plansentry.domains.warehouse.kit import default_config, make_guard
from plansentry.domains.warehouse.order import Order, PickContext
from plansentry.domains.warehouse.safety import unsafe_reasons
from plansentry.domains.warehouse.schema import Plan
from plansentry.domains.warehouse.sim.synthetic import ModelCall
from plansentry.domains.warehouse.sim.unguarded import items_missing, unguarded_outcome
from plansentry.domains.warehouse.sim.world import World
from plansentry.report.stats import detect_ms, latency_bin, slack_bin
from plansentry.report.tally import Tally
from plansentry.runtime.virtual import VirtualRuntime

_NS: Final = 1_000_000_000


@final
@dataclass(slots=True)
class Job:
    order: Order
    number: int
    attempt: int = 0


@final
@dataclass(slots=True)
class Pending:
    """A request for a job, made ``asked_s`` (simulated time) with the robot's next start cell."""

    job: Job
    ctx: PickContext
    asked_s: float
    call: ModelCall | None


@final
@dataclass(slots=True)
class Step:
    busy_s: float  # until the next decision point
    end_cell: int  # where the robot will be then
    ask_after_s: float = 0.0  # when, after the decision point, the next request goes out
    requeue: bool = False


class Controller:
    name = ""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.seed = seed
        self.tally = Tally()
        self._last: dict[
            str, Plan
        ] = {}  # robot -> its last best plan (what a stale answer repeats)

    def ask(self, job: Job, robot: str, start: int, at_s: float) -> Pending:
        ctx = self.world.domain.context(job.order, robot, start)
        self.tally.calls += 1
        return Pending(job, ctx, at_s, self._call(ctx, job.number, job.attempt))

    def _call(self, ctx: PickContext, number: int, attempt: int) -> ModelCall | None:
        best = self.world.best(ctx)
        assert best is not None  # orders() only yields feasible orders
        rng = random.Random((self.seed << 40) ^ (number << 8) ^ min(attempt, 255))
        other = self._last.get(ctx.robot_id)
        self._last[ctx.robot_id] = best
        return self.world.model.call(ctx, best, other, rng)

    def cycle(self, p: Pending, t: float) -> Step:
        raise NotImplementedError

    def _executed(self, plan: Plan, p: Pending, items: int, *, clean: bool) -> bool:
        """Count an executed plan's items and judge it with the independent cell-walking oracle;
        returns whether it was unsafe. A ``clean`` plan (the synthetic model's good output, safe by
        construction: ``tests/sim/test_synthetic.py``) is judged only with ``audit``, which keeps
        the common case cheap; every other executed plan (a faulty output, a fallback) always is."""
        tally, world = self.tally, self.world
        tally.items += items
        unsafe = False
        if world.config.judge_all_plans or not clean:
            unsafe = bool(unsafe_reasons(plan, p.ctx, world.wh, world.router))
        tally.unsafe_executed += unsafe
        return unsafe


@final
class OracleController(Controller):
    """The best plan at every decision point, at once: the ceiling of what any controller can do."""

    def ask(self, job: Job, robot: str, start: int, at_s: float) -> Pending:
        ctx = self.world.domain.context(job.order, robot, start)
        return Pending(job, ctx, at_s, None)

    def cycle(self, p: Pending, t: float) -> Step:
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
        return Step(busy, self.world.wh.pack_stations[plan.end])


@final
class UnguardedController(Controller):
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

    def cycle(self, p: Pending, t: float) -> Step:
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
                return Step(now - t + busy, end, ask_after_s=now - t)
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
        return Step(now - t, p.ctx.start)

    def _attempt(
        self, p: Pending, call: ModelCall, asked: float, now: float, point: float, *, first: bool
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
            key = row_key(mode, verdict.extraction, verdict.repairs)
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
        missing = items_missing(plan, p.job.order, mode)
        got = ordered - missing
        unsafe = self._executed(plan, p, got, clean=call.fault == "")
        if row is not None:
            row.unsafe += unsafe
            row.items_lost += missing
            row.mitigation["executed"] += 1
        return now, plan, got


@final
class GuardedController(Controller):
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

    def ask(self, job: Job, robot: str, start: int, at_s: float) -> Pending:
        ctx = self.world.domain.context(job.order, robot, start)
        # The model is asked only if the breaker lets it; asking is what draws the answer.
        if not self.runtime.guard.may_consult(int(at_s * _NS)):
            return Pending(job, ctx, at_s, None)
        # Counted as a call when the decision says the model was consulted (``cycle``).
        return Pending(job, ctx, at_s, self._call(ctx, job.number, job.attempt))

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

    def cycle(self, p: Pending, t: float) -> Step:
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
            key = row_key(d.failure_mode, extraction, d.repairs)
        row = None
        if key is not None:
            row = tally.mode(key)
            row.count += 1
            row.detect_ms.append(
                detect_ms(
                    d.decided_ns,
                    now_ns,
                    d.arrival_ns,
                    timed_out=d.failure_mode is FailureMode.TIMEOUT,
                )
            )
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
                return Step(wait + cfg.hold_s, p.ctx.start)
            tally.requeued += 1
            if row is not None:
                row.requeued += 1
            return Step(wait + cfg.hold_s, p.ctx.start, requeue=True)
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
        return Step(wait + busy, world.wh.pack_stations[plan.end], ask_after_s=wait)


def row_key(mode: FailureMode | None, extraction: str, repairs: tuple[str, ...]) -> str | None:
    """The FMLI row of an output: its failure mode, or ``malformed`` for output a bare JSON parser
    refuses but the gate could still use (extracted from prose or a fence, or repaired)."""
    if mode is not None:
        return mode.value
    if (extraction and extraction != "bare") or repairs:
        return FailureMode.MALFORMED.value
    return None
