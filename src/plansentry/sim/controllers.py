"""The controllers a replication compares, each working the same tasks on the same random numbers:

- ``unguarded``: the pilot's controller. It waits for the model however long it takes, reads the
  answer as the world says a plain controller does (:meth:`~plansentry.runtime.world.World.read`:
  a halt for a restart on what it cannot read or drive, the plan executed otherwise, unsafe or
  not), and skips a task after ``max_retries`` halts on it.
- ``guarded``: plansentry's real guard (gate, decider, breaker, the kit's fallbacks, safe move) in
  virtual time (:class:`~plansentry.runtime.virtual.VirtualRuntime`): the consult decision is taken
  once, when the model is asked (:meth:`VirtualRuntime.ask`), and the decision at the decision
  point (:meth:`VirtualRuntime.decide_asked`), delayed by the fallback's compute time drawn from
  the world's measured distribution (:meth:`.scene.Scene.fallback_ms`).
- ``pilot_guard``: the pilot's own guard: schema validation of the bare answer (``json.loads``
  and the kit's plan type) and a hard-coded safe move, no classical fallback, no breaker, the same
  budget (docs/SIMULATION.md, "The pilot's guard").
- ``oracle``: the optimal controller: the world's best plan at every decision point, without
  waiting. (The independent checker that judges executed plans is the world's
  :meth:`~plansentry.runtime.world.World.unsafe`.)

A safe move (either guard) stops (``safe_stop_s``), holds ``hold_s`` and asks again; the task is
requeued, and after ``max_holds`` safe moves on it reported unserved (a lost task). Each is a halt.

Common random numbers: the model's answer to the ``attempt``-th request for task ``n`` is drawn from
a generator seeded by ``(replication seed, n, attempt)``, so every controller that asks the model
gets the same fault and latency for the same request, whichever robot asks and whenever. Differences
between controllers are then the controllers', not sampling noise.

Residual causes (what still halts or slows a guarded robot, :data:`CAUSES`) are counted as rows
``cause:<name>`` of the controller's tally, beside its failure-mode rows.
"""

from __future__ import annotations

import collections
import json
import math
import random
from dataclasses import dataclass, replace
from typing import Any, Final, final

import msgspec

from plansentry.core import strictjson
from plansentry.core.decision import Decision, SafeMove
from plansentry.core.failures import FailureMode
from plansentry.report.stats import detect_ms, latency_bin, slack_bin
from plansentry.report.tally import ModeTally, Tally, row_key
from plansentry.runtime.config import GuardConfig
from plansentry.runtime.guard import DecisionHook
from plansentry.runtime.kit import DomainKit
from plansentry.runtime.virtual import DEFAULT_SWITCH_INTERVAL_S, VirtualRuntime, VirtualTicket
from plansentry.runtime.world import Reaction, Task
from plansentry.sim.scene import Scene
from plansentry.sim.synthetic import ModelCall

_NS: Final = 1_000_000_000

#: Residual causes: what halts, delays or slows a guarded robot although the guard works.
CAUSES: Final = (
    "blocked_order",  # no plan can serve the task: safe moves, then unserved
    "fallback_failed",  # a plan exists but the fallback gave none: a safe move
    "fallback_refused_slow",  # the fallback's plan broke a rule of mode slow: a safe move
    "fallback_overrun",  # the fallback ran past its declared worst case (halts: made it late)
    "late_decision",  # decided after the deadline (a halt)
    "restart",  # pilot's guard: a schema-valid plan the robot could not drive halted it
    "good_plan_refused_slow",  # the model's good plan refused by a rule of mode slow
    "good_plan_refused",  # the model's good plan refused by any other rule
    "slow_plan_accepted",  # a slow answer within the kit's bounds, executed
)
CAUSE_PREFIX: Final = "cause:"


@final
@dataclass(slots=True)
class Job:
    task: Task[Any]
    number: int
    attempt: int = 0

    @property
    def blocked(self) -> bool:
        """No planner can serve it (the simulator's ground truth)."""
        return self.task.blocked


@final
@dataclass(slots=True)
class Pending:
    """A request for a job, made ``asked_s`` (simulated time) by ``robot``, which will stand at
    ``at`` at its decision point; ``ticket`` is the guard's record of it (the consult decision),
    for the guarded controller."""

    job: Job
    ctx: Any
    robot: str
    at: Any
    asked_s: float
    call: ModelCall | None
    ticket: VirtualTicket[Any] | None = None


@final
@dataclass(slots=True)
class Step:
    busy_s: float  # until the next decision point
    end: Any  # where the robot will be then
    ask_after_s: float = 0.0  # when, after the decision point, the next request goes out
    requeue: bool = False


def cause(tally: Tally, name: str) -> ModeTally:
    """The row of residual cause ``name`` in ``tally``."""
    return tally.mode(CAUSE_PREFIX + name)


class Controller:
    name = ""

    def __init__(self, scene: Scene, seed: int) -> None:
        self.scene = scene
        self.world = scene.world
        self.seed = seed
        self.tally = Tally()
        self._last: dict[str, Any] = {}  # robot -> its last best plan (what a stale answer repeats)
        self._holds: collections.Counter[int] = collections.Counter()
        self._call_rng = random.Random()  # reseeded for every request (_call)

    def ask(self, job: Job, robot: str, at: Any, at_s: float) -> Pending:
        ctx = self.world.context(job.task, robot, at)
        self.tally.calls += 1
        return Pending(job, ctx, robot, at, at_s, self._call(ctx, robot, job))

    def _call(self, ctx: Any, robot: str, job: Job) -> ModelCall:
        """The model's answer to this request (common random numbers). For a blocked task the
        model writes the best plan as if nothing blocked it."""
        world = self.world
        best = world.best_unaware(ctx) if job.blocked else world.best(ctx)
        assert best is not None  # only a blocked task has no plan
        # Reseeding one generator is drawing from a new one seeded alike (seed() resets the
        # whole state), without building a generator per request.
        rng = self._call_rng
        rng.seed((self.seed << 40) ^ (job.number << 8) ^ min(job.attempt, 255))
        other = self._last.get(robot)
        self._last[robot] = best
        return self.scene.model.call(ctx, best, other, rng)

    def cycle(self, p: Pending, t: float) -> Step:
        raise NotImplementedError

    def _executed(self, plan: Any, p: Pending, items: int, *, clean: bool) -> bool:
        """Count an executed plan's items and judge it with the world's independent checker;
        returns whether it was unsafe. A ``clean`` plan (the synthetic model's good output for a
        servable task, safe by construction: each world's tests check it) is judged only with
        ``judge_all_plans``, which keeps the common case cheap; every other executed plan (a
        faulty output, a fallback's) always is."""
        tally = self.tally
        tally.items += items
        unsafe = False
        if self.scene.config.judge_all_plans or not clean:
            unsafe = self.world.unsafe(plan, p.ctx)
        tally.unsafe_executed += unsafe
        return unsafe

    def _safe_move(self, p: Pending, wait: float, row: ModeTally | None, why: str) -> Step:
        """Stop, hold and ask again (the task requeued); after ``max_holds`` the task is
        reported unserved. One halt, counted in ``row`` (a failure mode's) and cause ``why``."""
        tally, cfg = self.tally, self.scene.config
        cost = cfg.safe_stop_s + cfg.hold_s
        tally.safe_moves += 1
        tally.halts += 1
        tally.halted_cycles += 1
        tally.downtime_s += cost
        if row is not None:
            row.halts += 1
            row.downtime_s += wait + cost
        reason = cause(self.tally, why) if why else None
        if reason is not None:
            reason.count += 1
            reason.halts += 1
            reason.downtime_s += wait + cost
        return self._hold_or_give_up(p, wait + cost, row, reason)

    def _hold_or_give_up(
        self, p: Pending, busy: float, row: ModeTally | None, reason: ModeTally | None
    ) -> Step:
        tally, cfg = self.tally, self.scene.config
        n = p.job.number
        self._holds[n] += 1
        if self._holds[n] >= cfg.max_holds:
            items = p.job.task.items
            tally.lost_orders += 1  # reported unserved, not retried forever
            tally.items_lost += items
            if reason is not None:
                reason.items_lost += items
            return Step(busy, p.at, ask_after_s=busy - cfg.hold_s)
        tally.requeued += 1
        if row is not None:
            row.requeued += 1
        if reason is not None:
            reason.requeued += 1
        return Step(busy, p.at, ask_after_s=busy - cfg.hold_s, requeue=True)

    def _served(self, plan: Any, p: Pending, mode: FailureMode | None) -> int:
        """Count what executing ``plan`` serves of the task: a task served whole is done, one
        served in part or not at all is lost (with the units it leaves)."""
        tally, task = self.tally, p.job.task
        got = self.world.served(plan, task, mode)
        tally.items_lost += task.items - got
        tally.lost_orders += got < task.items
        tally.orders_done += got == task.items
        return got


@final
class OracleController(Controller):
    """The best plan at every decision point, at once: the ceiling of what any controller can do.
    A blocked task is reported unserved at once."""

    def ask(self, job: Job, robot: str, at: Any, at_s: float) -> Pending:
        ctx = self.world.context(job.task, robot, at)
        return Pending(job, ctx, robot, at, at_s, None)

    def cycle(self, p: Pending, t: float) -> Step:
        tally, world = self.tally, self.world
        tally.cycles += 1
        plan = None if p.job.blocked else world.best(p.ctx)
        if plan is None:
            tally.lost_orders += 1
            tally.items_lost += p.job.task.items
            tally.sources["unserved"] += 1
            return Step(0.0, p.at)
        busy = world.execute_s(plan, p.ctx)
        items = self._served(plan, p, None)
        self._executed(plan, p, items, clean=True)  # the optimum: judged with judge_all_plans
        tally.sources["optimal"] += 1
        tally.cycle_s_per_item.append(busy / items)
        return Step(busy, world.after(plan, p.ctx))


class _Restarts(Controller):
    """A controller whose robot can halt for a restart (log-normal, mean ``restart_s``)."""

    def __init__(self, scene: Scene, seed: int) -> None:
        super().__init__(scene, seed)
        self._restart = random.Random(seed ^ 0x5EED)
        cfg = scene.config
        self._mu = math.log(cfg.restart_s) - cfg.restart_sigma**2 / 2  # so the mean is restart_s

    def _restart_s(self) -> float:
        cfg = self.scene.config
        if not cfg.restart_sigma:
            return cfg.restart_s
        return self._restart.lognormvariate(self._mu, cfg.restart_sigma)

    def _execute_read(
        self, plan: Any, p: Pending, call: ModelCall, mode: FailureMode | None
    ) -> tuple[int, bool]:
        """Drive a plan the controller read; returns the task's items it serves and whether it was
        unsafe (judged by the world's checker unless the output was good for a servable task)."""
        got = self.world.served(plan, p.job.task, mode)
        clean = call.fault == "" and not p.job.blocked
        unsafe = self._executed(plan, p, got, clean=clean)
        return got, unsafe

    def _mode(self, p: Pending, call: ModelCall) -> tuple[FailureMode | None, str | None]:
        """What the gate calls this output (the FMLI row it is counted in)."""
        assert call.text is not None
        scene = self.scene
        verdict = scene.gate.check(call.text, len(call.text), p.ctx, scene.version(p.ctx))
        return verdict.mode, row_key(verdict.mode, verdict.extraction or "bare", verdict.repairs)


@final
class UnguardedController(_Restarts):
    """The pilot's controller: wait, read, execute; halt and restart on anything it cannot use."""

    def __init__(self, scene: Scene, seed: int) -> None:
        super().__init__(scene, seed)
        cfg = scene.config
        # Where the guard stops waiting, only to say which waits it would have called a timeout.
        guard = scene.kit.config(budget_ms=cfg.budget_ms)
        self._cutoff_s = (cfg.budget_ms - guard.early_wake_ms(DEFAULT_SWITCH_INTERVAL_S)) / 1000

    def cycle(self, p: Pending, t: float) -> Step:
        tally, cfg = self.tally, self.scene.config
        tally.cycles += 1
        now, asked, call, halts = t, p.asked_s, p.call, 0
        ordered = p.job.task.items
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
                return Step(now - t + busy, self.world.after(plan, p.ctx), ask_after_s=now - t)
            halts += 1
            # Restarted: ask again, and wait for the answer this time (no plan-ahead).
            asked = now
            tally.calls += 1
            retry = replace(p.job, attempt=p.job.attempt + attempt + 1)
            call = self._call(p.ctx, p.robot, retry)
        # An operator skips the task after max_retries restarts on it.
        tally.halts += halts
        tally.model_halts += halts
        tally.halted_cycles += 1
        tally.downtime_s += now - t
        tally.lost_orders += 1
        tally.items_lost += ordered
        tally.sources["skipped"] += 1
        return Step(now - t, p.at)

    def _attempt(
        self, p: Pending, call: ModelCall, asked: float, now: float, point: float, *, first: bool
    ) -> tuple[float, Any, int]:
        """One request: wait for it, then execute its plan or halt. Returns the time after it, the
        executed plan (``None``: halted) and the items of this task the plan serves."""
        cfg, tally = self.scene.config, self.tally
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
        if call.text is None:
            mode: FailureMode | None = FailureMode.TRANSPORT
            key: str | None = FailureMode.TRANSPORT.value
            read = None
        else:
            mode, key = self._mode(p, call)
            read = self.world.read(call.text, p.ctx)
        row = tally.mode(key) if key is not None else None
        if row is not None and first:
            row.count += 1
        if read is None or read.reaction is not Reaction.EXECUTE:
            restart = self._restart_s()
            if row is not None:
                row.halts += 1
                row.downtime_s += restart
                row.mitigation["restart"] += 1
            return now + restart, None, 0
        assert read.plan is not None
        got, unsafe = self._execute_read(read.plan, p, call, mode)
        if row is not None:
            row.unsafe += unsafe
            row.items_lost += p.job.task.items - got
            row.mitigation["executed"] += 1
        return now, read.plan, got


@final
class PilotGuardController(_Restarts):
    """The pilot's guard: the bare answer validated against the plan's schema (``json.loads``
    and the kit's plan type: types, ranges and keys), a hard-coded safe move when it fails or has
    not come by the deadline, nothing else: no extraction or repair, no domain rules, no fallback
    planner, no breaker."""

    def __init__(self, scene: Scene, seed: int, budget_ms: float) -> None:
        super().__init__(scene, seed)
        self.budget_s = budget_ms / 1000
        self._plan_type = scene.kit.domain.plan_type

    def cycle(self, p: Pending, t: float) -> Step:
        world, tally = self.world, self.tally
        tally.cycles += 1
        call = p.call
        assert call is not None  # the pilot's guard always asks
        deadline = t + self.budget_s
        arrives = None if call.latency_s is None else p.asked_s + call.latency_s
        plan: Any = None
        mode: FailureMode | None
        key: str | None
        if arrives is None or arrives > deadline:
            mode, key, decided = FailureMode.TIMEOUT, FailureMode.TIMEOUT.value, deadline
        elif call.text is None:
            mode, key, decided = FailureMode.TRANSPORT, FailureMode.TRANSPORT.value, max(t, arrives)
        else:
            decided = max(t, arrives)
            plan, key = self._schema_valid(call.text)
            mode = FailureMode(key) if key is not None else None
        wait = decided - t
        tally.downtime_s += wait
        row = None
        if key is not None:
            row = tally.mode(key)
            row.count += 1
            arrival_ns = None if arrives is None else int(arrives * _NS)
            row.detect_ms.append(
                detect_ms(
                    int(decided * _NS),
                    int(t * _NS),
                    arrival_ns,
                    timed_out=mode is FailureMode.TIMEOUT,
                )
            )
        if plan is None:
            if row is not None:
                row.mitigation["safe_move"] += 1
            tally.sources["safe_move"] += 1
            tally.model_halts += 1  # a late, failed or malformed answer: the model's, always
            return self._safe_move(p, wait, row, "")
        # Schema-valid: executed as it is. What plansentry's gate would say, for the accounting
        # (a good answer for a servable task passes it by construction: not re-checked).
        faulty = bool(call.fault) or p.job.blocked
        if faulty or self.scene.config.judge_all_plans:
            mode, key = self._mode(p, call)
            if key is not None:
                row = tally.mode(key)
                row.count += 1
                row.detect_ms.append(0.0)
        assert call.text is not None
        if faulty and world.read(call.text, p.ctx).reaction is not Reaction.EXECUTE:
            restart = self._restart_s()  # a plan the robot cannot drive: it halts, a restart
            tally.sources["restart"] += 1
            tally.model_halts += 1
            if row is not None:
                row.mitigation["restart"] += 1
            return self._restart_halt(p, wait, restart, row)
        got, unsafe = self._execute_read(plan, p, call, mode)
        ordered = p.job.task.items
        if row is not None:
            row.unsafe += unsafe
            row.items_lost += ordered - got
            row.mitigation["executed"] += 1
        tally.sources["llm"] += 1
        tally.items_lost += ordered - got
        tally.lost_orders += got < ordered
        tally.orders_done += got == ordered
        busy = world.execute_s(plan, p.ctx)
        tally.cycle_s_per_item.append((wait + busy) / max(1, got))
        return Step(wait + busy, world.after(plan, p.ctx), ask_after_s=wait)

    def _schema_valid(self, text: bytes) -> tuple[Any, str | None]:
        """The pilot's guard's check: ``json.loads``, then the plan's schema. Returns the plan, or
        ``None`` and the failure mode's row (``malformed``: not JSON; ``schema``: the wrong shape)."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None, FailureMode.MALFORMED.value
        try:
            plan = msgspec.convert(data, self._plan_type)
        except msgspec.ValidationError:
            return None, FailureMode.SCHEMA.value
        return plan, None

    def _restart_halt(self, p: Pending, wait: float, restart: float, row: ModeTally | None) -> Step:
        """A restart: the robot is back after ``restart`` and asks again then (the task is
        requeued, and counts towards ``max_holds``)."""
        tally = self.tally
        tally.halts += 1
        tally.halted_cycles += 1
        tally.downtime_s += restart
        if row is not None:
            row.halts += 1
            row.downtime_s += wait + restart
        reason = cause(tally, "restart")
        reason.count += 1
        reason.halts += 1
        reason.downtime_s += wait + restart
        step = self._hold_or_give_up(p, wait + restart, row, reason)
        return replace(step, ask_after_s=wait + restart)


@final
class GuardedController(Controller):
    """plansentry's guard in virtual time: the real gate, decider, breaker and fallbacks.

    ``hooks`` subscribe to its decisions (``simulate --audit-log`` writes them). The kit is the
    scene's, built from the run's ``kit_params``, so a log names what replay must rebuild.
    """

    def __init__(
        self,
        scene: Scene,
        seed: int,
        budget_ms: float,
        hooks: tuple[DecisionHook, ...] = (),
    ) -> None:
        super().__init__(scene, seed)
        self.kit, self.config = self.setup(scene, budget_ms)
        self.hooks = hooks
        guard = self.kit.guard(config=self.config, hooks=hooks)
        self.runtime: VirtualRuntime[Any, Any] = VirtualRuntime(guard)
        self.budget_ms = budget_ms
        self._state_since: int | None = None
        self._fallback_rng = random.Random(seed ^ 0xFA11)

    @staticmethod
    def setup(scene: Scene, budget_ms: float) -> tuple[DomainKit[Any, Any], GuardConfig]:
        """The kit and the guard configuration of a guarded controller at ``budget_ms``."""
        kit = scene.kit
        gate = kit.config().gate
        if scene.config.repair:
            gate = replace(gate, repair=True)
        return kit, kit.config(budget_ms=budget_ms, gate=gate)

    def ask(self, job: Job, robot: str, at: Any, at_s: float) -> Pending:
        ctx = self.world.context(job.task, robot, at)
        # The consult decision is taken now, once: asking is what draws the answer.
        ticket = self.runtime.ask(
            ctx, at_ns=int(at_s * _NS), request_id=f"{job.task.id}#{job.attempt}"
        )
        if ticket.skipped:
            return Pending(job, ctx, robot, at, at_s, None, ticket)
        self.tally.calls += 1
        return Pending(job, ctx, robot, at, at_s, self._call(ctx, robot, job), ticket)

    def _observe(self, d: Decision[Any], point_ns: int) -> None:
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
        scene, world, tally = self.scene, self.world, self.tally
        tally.cycles += 1
        call, ticket = p.call, p.ticket
        assert ticket is not None
        now_ns = int(t * _NS)
        fallback_ms = scene.fallback_ms(self._fallback_rng)
        d = self.runtime.decide_asked(
            ticket,
            now_ns=now_ns,
            output=None if call is None else call.text,
            latency_ms=None if call is None or call.latency_s is None else call.latency_s * 1000,
            transport_error="" if call is None else call.error,
            fallback_ms=fallback_ms,
        )
        wait = (d.decided_ns - now_ns) / _NS
        self._observe(d, now_ns)
        tally.downtime_s += wait
        tally.sources[d.source] += 1
        late = not d.on_time
        if fallback_ms > scene.wcet_ms:
            overrun = cause(tally, "fallback_overrun")
            overrun.count += 1
            overrun.halts += late
            overrun.downtime_s += wait if late else 0.0
        if late:
            tally.late += 1
            reason = cause(tally, "late_decision")
            reason.count += 1
            reason.halts += 1
            reason.downtime_s += wait
        row = self._row(d, call, now_ns)
        self._judge_residual(d, p)
        if isinstance(d.plan, SafeMove):
            tally.model_halts += d.failure_mode is not None and not p.job.blocked
            why = "blocked_order" if p.job.blocked else self._fallback_failure(p.ctx)
            return self._safe_move(p, wait, row, why)  # one halt, late or not
        if late:  # the robot stood past its deadline without a plan: a halt
            tally.halts += 1
            tally.halted_cycles += 1
        plan = d.plan
        if row is not None:
            row.downtime_s += wait
        busy = world.execute_s(plan, p.ctx)
        items = self._served(plan, p, None)
        clean = d.accepted and call is not None and call.fault == ""
        unsafe = self._executed(plan, p, items, clean=clean)
        if row is not None:
            row.unsafe += unsafe
        tally.cycle_s_per_item.append((wait + busy) / max(1, items))
        return Step(wait + busy, world.after(plan, p.ctx), ask_after_s=wait)

    def _row(self, d: Decision[Any], call: ModelCall | None, now_ns: int) -> ModeTally | None:
        """Count the decision in its failure mode's row, as the gate saw it: a plan the gate used
        although a bare JSON parser refuses it (taken from a fence or prose, or repaired) is a
        ``malformed`` row mitigated by ``extracted`` (or ``repaired``). A shadow decision (asked
        before the breaker opened) is counted too: the answer failed all the same, and a request
        was made (the rows' rates are per request)."""
        if not d.consulted:
            return None
        extraction = "bare"
        if d.failure_mode is None and call is not None and call.text is not None:
            # Output that opens with a brace is taken whole (strictjson.extract's first case, as
            # the gate's own shortcut knows): only other output needs the extractor.
            found = None if call.text[:1] == b"{" else strictjson.extract(call.text)
            if isinstance(found, strictjson.Extracted) and found.how != "bare":
                extraction = "extracted"
        key = row_key(d.failure_mode, extraction, d.repairs)
        if key is None:
            return None
        row = self.tally.mode(key)
        row.count += 1
        row.detect_ms.append(
            detect_ms(
                d.decided_ns, now_ns, d.arrival_ns, timed_out=d.failure_mode is FailureMode.TIMEOUT
            )
        )
        if d.failure_mode is not None:
            row.mitigation[d.source] += 1
        else:
            row.mitigation["repaired" if d.repairs else extraction] += 1
        return row

    def _judge_residual(self, d: Decision[Any], p: Pending) -> None:
        """The gate's errors against the simulator's ground truth: a good answer refused, or a
        slow one accepted (and what it cost over the best plan)."""
        call = p.call
        if call is None or not d.consulted or d.shadow or p.job.blocked:
            return
        mode = d.failure_mode
        if call.fault == "" and mode not in (None, FailureMode.TIMEOUT, FailureMode.TRANSPORT):
            name = "good_plan_refused_slow" if mode is FailureMode.SLOW else "good_plan_refused"
            cause(self.tally, name).count += 1
        elif call.fault == "slow" and d.accepted and not isinstance(d.plan, SafeMove):
            best = self.world.best(p.ctx)
            assert best is not None
            row = cause(self.tally, "slow_plan_accepted")
            row.count += 1
            extra = self.world.execute_s(d.plan, p.ctx) - self.world.execute_s(best, p.ctx)
            row.mitigation["extra_ms"] += round(extra * 1000)

    def _fallback_failure(self, ctx: Any) -> str:
        """Why no fallback plan was usable for a servable task (a safe move, rare: recomputed)."""
        for outcome in self.runtime.guard.run_fallbacks(ctx):
            if any(v.mode is FailureMode.SLOW for v in outcome.violations):
                return "fallback_refused_slow"
        return "fallback_failed"
