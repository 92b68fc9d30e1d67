"""The deciders that drive :class:`~plansentry_rware.execution.Fleet`: who plans each robot's next
fetch, and what each does with the synthetic model's answer.

Time: one rware step is ``step_s`` seconds (default 1 s: a Kiva-style robot drives one cell or
turns once in about a second). The model is asked ``ask_ahead_s`` before the decision point (while
the robot finishes its last plan), and its latency and text are drawn by
:class:`plansentry.sim.synthetic.SyntheticModel` under a fault profile (:mod:`plansentry_rware.faults`),
with the decider's own seeded ``random.Random``. A simplification, stated: the model sees the
context of the decision point itself, not of the moment it was asked.

- :class:`ClassicalDecider`: the A* fetch planner alone, no model;
- :class:`GuardDecider`: plansentry's guard (the kit's gate, the fetch planner, stay) in the
  virtual-time runtime, budget 150 ms: the robot never waits past its decision point;
- :class:`PilotDecider`: the pilot's unguarded controller: it waits for the answer however long
  it takes (``client_timeout_s`` at most), executes any plan it can parse, and restarts
  (``restart_s`` standing still) on text it cannot parse, a plan of the wrong shape, a failed
  call or no answer;
- :class:`PilotGuardDecider`: the pilot's guard: JSON and schema checks and a hard-coded stay
  when the answer is not there by the budget or does not parse; no domain rules.

Every model-backed decider also records the kit's gate verdict on the text it got (``Order.verdict``),
so that the two judges, the kit's rules and rware, can be compared plan by plan.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from typing import Any, Final, final

import msgspec

from plansentry.core.decision import SafeMove
from plansentry.core.gate import Gate
from plansentry.runtime.guard import DecisionHook
from plansentry.runtime.kit import DomainKit
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.sim.profiles import Profile
from plansentry.sim.synthetic import ModelCall, SyntheticModel
from plansentry_rware.context import RwareContext
from plansentry_rware.execution import Order
from plansentry_rware.faults import RwareFaults
from plansentry_rware.fetch_planner import FetchPlanner
from plansentry_rware.schema import RwarePlan

#: Virtual time starts here, so that "asked ahead" is never before zero.
_T0_NS: Final = 10**12


def _verdict(gate: Gate[Any, Any], text: bytes | None, ctx: RwareContext) -> str:
    if text is None:
        return "no answer"
    v = gate.check(text, len(text), ctx, ctx.version)
    if v.mode is None:
        return ""
    return f"{v.mode.value}:{','.join(sorted({x.rule for x in v.violations}))}"


@final
class ClassicalDecider:
    """The fetch planner alone: its plan, or stay when it has none."""

    def __init__(self) -> None:
        self.planner = FetchPlanner()

    def __call__(self, ctx: RwareContext, step: int) -> Order:
        plan = self.planner.plan(ctx).plan
        return Order(plan, 0, "fetch_planner" if plan else "stay")


class _ModelDecider:
    """What the model-backed deciders share: the kit, the synthetic model and the clock."""

    def __init__(
        self,
        kit: DomainKit[RwarePlan, RwareContext],
        profile: Profile,
        *,
        seed: int,
        step_s: float = 1.0,
        ask_ahead_s: float = 2.0,
    ) -> None:
        self.kit = kit
        self.faults = RwareFaults()
        self.model = SyntheticModel(profile, self.faults)  # type: ignore[arg-type]
        self.rng = random.Random(seed)
        self.step_s = step_s
        self.ask_ahead_s = ask_ahead_s
        self.gate: Gate[RwarePlan, RwareContext] = Gate(kit.domain)
        self._last: RwarePlan | None = None
        self.calls = 0

    def call(self, ctx: RwareContext) -> tuple[ModelCall, str]:
        """The model's answer for ``ctx`` and how it was written (the fault's kind; ``good`` for
        none; ``[unaware]`` when the fetch planner had no plan and the model wrote one as if no
        other robot held a cell, ``[no route]`` when not even that exists)."""
        best, tag = self.faults.best(ctx), ""
        if best is None:
            best, tag = self.faults.best_unaware(ctx), "[unaware]"
            if best is None:
                best, tag = _nothing(ctx), "[no route]"
        call = self.model.call(ctx, best, self._last, self.rng)
        self._last = best
        self.calls += 1
        return call, (call.kind or call.fault or "good") + tag

    def now_ns(self, step: int) -> int:
        return _T0_NS + int(step * self.step_s * 1e9)


def _nothing(ctx: RwareContext) -> RwarePlan:
    """What a model writes when there is no route at all: the fetch of a shelf, with no legs."""
    shelf = ctx.robot.carrying or (ctx.requests[0] if ctx.requests else 1)
    return RwarePlan(
        task_id=ctx.task_id,
        robot_id=ctx.robot.robot_id,
        shelf=shelf,
        to_shelf=(),
        to_goal=(),
        back=(),
    )


@final
class GuardDecider(_ModelDecider):
    """plansentry's guard over the kit, in virtual time (see the module docstring). ``hooks``
    see every decision (an :class:`plansentry.telemetry.audit.AuditLog` writes a log that
    ``plansentry replay`` and ``plansentry fmli`` read)."""

    def __init__(self, *args: Any, hooks: Sequence[DecisionHook] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = self.kit.guard(hooks=hooks)
        self.runtime = VirtualRuntime(self.guard)

    def __call__(self, ctx: RwareContext, step: int) -> Order:
        call, kind = self.call(ctx)
        d = self.runtime.decide(
            ctx,
            now_ns=self.now_ns(step),
            output=call.text,
            latency_ms=None if call.latency_s is None else call.latency_s * 1000,
            ask_ahead_ms=self.ask_ahead_s * 1000,
            transport_error=call.error,
            request_id=ctx.task_id,
        )
        plan = None if isinstance(d.plan, SafeMove) else d.plan
        verdict = "" if d.failure_mode is None else d.failure_mode.value
        if d.violations:
            verdict += ":" + ",".join(sorted({v.rule for v in d.violations}))
        return Order(plan, 0, d.source, verdict, kind)


@final
class PilotDecider(_ModelDecider):
    """The pilot's unguarded controller (see the module docstring)."""

    def __init__(
        self, *args: Any, client_timeout_s: float = 12.0, restart_s: float = 12.0, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.client_timeout_s = client_timeout_s
        self.restart_s = restart_s

    def _steps(self, seconds: float) -> int:
        return max(0, math.ceil(seconds / self.step_s - 1e-9))

    def __call__(self, ctx: RwareContext, step: int) -> Order:
        call, kind = self.call(ctx)
        verdict = _verdict(self.gate, call.text, ctx)
        latency = call.latency_s
        if latency is None or latency > self.client_timeout_s:
            wait = self._steps(self.client_timeout_s - self.ask_ahead_s + self.restart_s)
            return Order(None, wait, "pilot:restart", verdict, kind)
        wait = self._steps(latency - self.ask_ahead_s)
        restart = wait + self._steps(self.restart_s)
        if call.text is None:
            return Order(None, restart, "pilot:restart", verdict, kind)
        try:
            data = json.loads(call.text)
            plan = msgspec.convert(data, RwarePlan)
        except (ValueError, TypeError, msgspec.ValidationError):
            return Order(None, restart, "pilot:restart", verdict, kind)
        return Order(plan, wait, "pilot", verdict, kind)


@final
class PilotGuardDecider(_ModelDecider):
    """The pilot's guard: JSON and schema, and stay when they fail or the answer is late."""

    def __init__(self, *args: Any, budget_s: float = 0.15, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget_s = budget_s

    def __call__(self, ctx: RwareContext, step: int) -> Order:
        call, kind = self.call(ctx)
        verdict = _verdict(self.gate, call.text, ctx)
        late = call.latency_s is None or call.latency_s > self.ask_ahead_s + self.budget_s
        if late or call.text is None:
            return Order(None, 0, "pilot_guard:stay", verdict, kind)
        try:
            plan = msgspec.json.decode(call.text, type=RwarePlan)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return Order(None, 0, "pilot_guard:stay", verdict, kind)
        return Order(plan, 0, "pilot_guard", verdict, kind)
