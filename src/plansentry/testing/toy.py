"""A toy domain: a robot on a line steps to a target. Small enough to read at a glance, complete
enough to run the whole guard (the core, runtime and telemetry tests use it instead of a real one).

A plan is ``{"task_id", "steps": [int, ...], "speed": float}``. It is fresh when it names the task;
valid when its steps add up to the target (``reach``); safe when no step is longer than the task
allows (``step_limit``), no position it stops at is blocked (``blocked``) and the speed is at most
1 (``speed``). The fallback (``stepper``) strides the longest allowed step that avoids blocked
positions; when none does, it has no plan and the guard holds (the safe action).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, final

import msgspec

from plansentry.core.decision import FallbackOutcome
from plansentry.core.errors import InputError
from plansentry.core.failures import FailureMode, Violation
from plansentry.runtime.kit import HOLD, DomainKit, DomainPlugin
from plansentry.runtime.planner import Prompt

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
    )


PLUGIN: Final = DomainPlugin(
    name="toy",
    summary="a robot on a line steps to a target (plansentry.testing's toy domain)",
    make_kit=toy_kit,
    rules_versions=("toy/1",),
)
