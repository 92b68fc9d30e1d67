"""A toy domain: a robot on a line steps to a target. Small enough to read at a glance, complete
enough to run the whole guard (the core, runtime and telemetry tests use it instead of a real one).

A plan is ``{"task_id", "steps": [int, ...], "speed": float}``. It is fresh when it names the task;
valid when its steps add up to the target (``reach``); safe when no step is longer than the task
allows (``step_limit``), no position it stops at is blocked (``blocked``) and the speed is at most
1 (``speed``). The fallback (``stepper``) strides the longest allowed step that avoids blocked
positions; when none does, it has no plan and the guard holds (the safe action).

:class:`ToyWorld` is the toy's world for the simulator (``plansentry simulate --domain toy``):
tasks to random targets, some with a blocked position on every stride (no plan serves them), a
plan taking its length over its speed, each fault kind written from the stepper's plan.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, Final, final

import msgspec

from plansentry.core.decision import FallbackOutcome
from plansentry.core.errors import InputError
from plansentry.core.failures import FailureMode, Violation
from plansentry.runtime.kit import HOLD, DomainKit, DomainPlugin
from plansentry.runtime.planner import Prompt
from plansentry.runtime.world import (
    BaseWorld,
    FallbackTime,
    Reaction,
    Read,
    Task,
    WorldSettings,
)

REACH: Final = "reach"
STEP_LIMIT: Final = "step_limit"
BLOCKED: Final = "blocked"
SPEED: Final = "speed"
TASK_ID: Final = "task_id"
RULES: Final = frozenset({REACH, STEP_LIMIT, BLOCKED, SPEED, TASK_ID})


class ToyPlan(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    task_id: str
    steps: Annotated[tuple[int, ...], msgspec.Meta(min_length=1, max_length=64)]
    speed: Annotated[float, msgspec.Meta(gt=0, le=10)]


@final
@dataclass(frozen=True, slots=True)
class ToyContext:
    task_id: str
    target: int
    max_step: int = 3
    blocked: frozenset[int] = frozenset()


class ToyDomain:
    plan_type = ToyPlan

    def version(self, ctx: ToyContext) -> str:
        return ctx.task_id

    def check_fresh(self, plan: ToyPlan, ctx: ToyContext, asked: str) -> Sequence[Violation]:
        if plan.task_id == ctx.task_id and asked == ctx.task_id:
            return ()
        return (Violation(TASK_ID, FailureMode.STALE, f"plan for {plan.task_id!r}", "task_id"),)

    def check_rules(self, plan: ToyPlan, ctx: ToyContext) -> Sequence[Violation]:
        out, at = [], 0
        for i, step in enumerate(plan.steps):
            at += step
            if abs(step) > ctx.max_step:
                out.append(Violation(STEP_LIMIT, FailureMode.UNSAFE, f"step {step}", f"steps[{i}]"))
            if at in ctx.blocked:
                out.append(Violation(BLOCKED, FailureMode.UNSAFE, f"stops at {at}", f"steps[{i}]"))
        if plan.speed > 1.0:
            out.append(Violation(SPEED, FailureMode.UNSAFE, f"speed {plan.speed:g} > 1", "speed"))
        if at != ctx.target:
            out.append(Violation(REACH, FailureMode.INVALID, f"ends at {at}, not {ctx.target}"))
        return out


class Stepper:
    """The fallback: the longest allowed stride that avoids blocked positions, greedily."""

    name = "stepper"
    wcet_ms = 1.0

    def plan(self, ctx: ToyContext) -> FallbackOutcome[ToyPlan]:
        steps: list[int] = []
        at, sign = 0, 1 if ctx.target >= 0 else -1
        while at != ctx.target and len(steps) < 64:
            left = abs(ctx.target - at)
            stride = next(
                (
                    s
                    for s in range(min(ctx.max_step, left), 0, -1)
                    if at + sign * s not in ctx.blocked
                ),
                None,
            )
            if stride is None:
                return FallbackOutcome(self.name, None, (), f"blocked at {at}")
            at += sign * stride
            steps.append(sign * stride)
        if at != ctx.target or not steps:
            return FallbackOutcome(self.name, None, (), "target out of reach")
        return FallbackOutcome(self.name, ToyPlan(ctx.task_id, tuple(steps), 1.0))


class ToyCodec:
    def context_to_json(self, ctx: ToyContext) -> dict[str, Any]:
        return {
            "task_id": ctx.task_id,
            "target": ctx.target,
            "max_step": ctx.max_step,
            "blocked": sorted(ctx.blocked),
        }

    def context_from_json(self, data: Mapping[str, Any]) -> ToyContext:
        try:
            raw = msgspec.convert(data, _ContextIn)
        except msgspec.ValidationError as exc:
            raise InputError(f"context: {exc}") from None
        return ToyContext(raw.task_id, raw.target, raw.max_step, frozenset(raw.blocked))

    def plan_to_json(self, plan: ToyPlan) -> dict[str, Any]:
        out: dict[str, Any] = msgspec.to_builtins(plan)
        return out

    def plan_from_json(self, data: Mapping[str, Any]) -> ToyPlan:
        try:
            return msgspec.convert(data, ToyPlan)
        except msgspec.ValidationError as exc:
            raise InputError(f"plan: {exc}") from None


class _ContextIn(msgspec.Struct, forbid_unknown_fields=True):
    task_id: str
    target: int
    max_step: Annotated[int, msgspec.Meta(ge=1)] = 3
    blocked: list[int] = []


def toy_prompt(ctx: ToyContext) -> Prompt:
    text = f"Task {ctx.task_id}: reach {ctx.target} in steps of at most {ctx.max_step}."
    return Prompt(messages=({"role": "user", "content": text},), max_tokens=64)


@final
class ToyWorld(BaseWorld[ToyPlan, ToyContext, ToyContext, int]):
    """The toy's world: a task is a context to reach (its spec), one unit of work per position
    travelled; ``blocked_p`` of them block positions 1 to ``max_step`` (nothing can start)."""

    faults = ("malformed", "schema", "invalid", "unsafe", "stale", "stall", "transport", "slow")
    profiles: Mapping[str, Mapping[str, Any]] = {
        "pilot": {"faults": {"malformed": 0.007, "stall": 0.0001}},
        "chaos": {"faults": {k: 0.02 for k in faults}, "stall_s": 45.0},
    }
    #: An assumption, not a measurement: the stepper plans in microseconds; this bounds it.
    fallback_time = FallbackTime(
        wcet_ms=1.0, quantiles_ms=(0.01, 0.02, 0.05), tail_ms=(0.2,), samples=0, over_wcet_p_high=0
    )

    def __init__(self, settings: WorldSettings) -> None:
        self.blocked_p = settings.blocked_p

    def tasks(self, rng: random.Random, prefix: str) -> Iterator[Task[ToyContext]]:
        for n in range(1, 1 << 62):
            target, step = rng.randint(4, 40), rng.randint(2, 4)
            blocked = rng.random() < self.blocked_p
            wall = frozenset(range(1, step + 1)) if blocked else frozenset({rng.randint(5, 60)})
            ctx = ToyContext(
                f"{prefix}-{n}", target, step, wall - {target} if not blocked else wall
            )
            yield Task(ctx.task_id, target, blocked, ctx)

    def start(self, robot: int) -> int:
        return 0

    def context(self, task: Task[ToyContext], robot_id: str, at: int) -> ToyContext:
        return task.spec

    def best(self, ctx: ToyContext) -> ToyPlan | None:
        return Stepper().plan(ctx).plan

    def best_unaware(self, ctx: ToyContext) -> ToyPlan:
        plan = Stepper().plan(replace(ctx, blocked=frozenset())).plan
        assert plan is not None
        return plan

    def encode(self, plan: ToyPlan) -> bytes:
        return msgspec.json.encode(plan)

    def answer(
        self,
        fault: str,
        ctx: ToyContext,
        best: ToyPlan,
        other: ToyPlan | None,
        rng: random.Random,
        *,
        noise: float,
    ) -> tuple[str, bytes]:
        change = msgspec.structs.replace
        wrong = {
            "": best,
            "invalid": change(best, steps=best.steps[:-1] or (best.steps[0] - 1,)),  # short
            "unsafe": change(best, speed=2.0),
            "stale": change(best, task_id=best.task_id + "-old"),
            "slow": change(best, speed=0.05),
        }
        if fault == "schema":
            return "wrong_type", json.dumps({"task_id": ctx.task_id, "steps": "all"}).encode()
        return fault, self.encode(wrong[fault])

    def execute_s(self, plan: ToyPlan, ctx: ToyContext) -> float:
        return sum(abs(s) for s in plan.steps) / plan.speed

    def after(self, plan: ToyPlan, ctx: ToyContext) -> int:
        return 0

    def served(self, plan: ToyPlan, task: Task[ToyContext], mode: FailureMode | None) -> int:
        reached = mode is not FailureMode.STALE and sum(plan.steps) == task.spec.target
        return task.items if reached else 0

    def unsafe(self, plan: ToyPlan, ctx: ToyContext) -> bool:
        stops = [sum(plan.steps[: i + 1]) for i in range(len(plan.steps))]
        too_long = any(abs(s) > ctx.max_step for s in plan.steps)
        return plan.speed > 1.0 or too_long or bool(ctx.blocked.intersection(stops))

    def read(self, text: bytes, ctx: ToyContext) -> Read[ToyPlan]:
        try:
            return Read("plan", Reaction.EXECUTE, msgspec.json.decode(text, type=ToyPlan))
        except (msgspec.DecodeError, UnicodeDecodeError):
            return Read("unreadable", Reaction.CRASH, None)


def toy_kit(*, rules_version: str | None = None) -> DomainKit[ToyPlan, ToyContext]:
    """The toy domain's kit (one rules version, ``toy/1``)."""
    return DomainKit(
        name="toy",
        rules_version=rules_version or "toy/1",
        domain=ToyDomain(),
        codec=ToyCodec(),
        fallbacks=(Stepper(),),
        safe_action=HOLD,
        prompt=toy_prompt,
        rules=RULES,
        example_context={"task_id": "T-1", "target": 7},
        world=ToyWorld,
    )


PLUGIN: Final = DomainPlugin(
    name="toy",
    summary="a robot on a line steps to a target (plansentry.testing's toy domain)",
    make_kit=toy_kit,
    rules_versions=("toy/1",),
)
