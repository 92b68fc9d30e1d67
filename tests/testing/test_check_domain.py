"""check_domain: a conforming kit passes, and each kind of broken kit is caught with the problem
named (a check that cannot fail would prove nothing)."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import msgspec
import pytest

from plansentry.core.decision import FallbackOutcome
from plansentry.core.failures import FailureMode, Violation
from plansentry.testing import check_domain, toy_kit
from plansentry.testing.toy import RULES, Stepper, ToyCodec, ToyContext, ToyDomain, ToyPlan

CONTEXTS = [
    ToyContext("T-1", 7, 3, frozenset({4})),
    ToyContext("T-2", -5, 2),
    ToyContext("T-3", 1, 1, frozenset({1})),  # no plan: the stepper is blocked
]


def test_the_toy_kit_conforms() -> None:
    """The toy kit passes every check; what was measured is reported."""
    report = check_domain(toy_kit(), CONTEXTS)
    report.raise_for_problems()
    assert report.contexts == 3 and report.judged > 50
    assert 0 < report.rules_ms_max < 5 and "stepper" in report.fallback_ms_max


def test_the_warehouse_kit_conforms(request) -> None:
    """The warehouse kit passes over generated orders, closures included."""
    from plansentry.domains.warehouse import warehouse_kit
    from plansentry.domains.warehouse.world.orders import random_orders

    kit = warehouse_kit()
    wh = kit.domain.wh
    orders = random_orders(wh, random.Random(5), closure_p=0.5)
    stations = sorted(wh.pack_stations)
    contexts = [
        kit.domain.context(next(orders), "R1", wh.pack_stations[stations[i % 3]]) for i in range(12)
    ]
    check_domain(kit, contexts).raise_for_problems()


class RaisingDomain(ToyDomain):
    def check_rules(self, plan: ToyPlan, ctx: ToyContext) -> list[Violation]:
        if len(plan.steps) > 2:
            raise IndexError("boom")
        return list(super().check_rules(plan, ctx))


class UndeclaredRule(ToyDomain):
    def check_rules(self, plan: ToyPlan, ctx: ToyContext) -> list[Violation]:
        out = list(super().check_rules(plan, ctx))
        if plan.speed < 0.5:
            out.append(Violation("too_gentle", FailureMode.INVALID, "slow"))
        return out


class WrongMode(ToyDomain):
    def check_rules(self, plan: ToyPlan, ctx: ToyContext) -> list[Violation]:
        return [
            dataclasses.replace(v, mode=FailureMode.SCHEMA) for v in super().check_rules(plan, ctx)
        ]


class NeverStale(ToyDomain):
    def check_fresh(self, plan: ToyPlan, ctx: ToyContext, asked: str) -> tuple[()]:
        return ()


class Impure(ToyDomain):
    calls = 0

    def check_rules(self, plan: ToyPlan, ctx: ToyContext) -> list[Violation]:
        Impure.calls += 1
        out = list(super().check_rules(plan, ctx))
        return out if Impure.calls % 2 else [*out, Violation("reach", FailureMode.INVALID, "odd")]


class LossyCodec(ToyCodec):
    def context_to_json(self, ctx: ToyContext) -> dict[str, Any]:
        out = super().context_to_json(ctx)
        out.pop("blocked")
        return out


class SlowStepper(Stepper):
    wcet_ms = 0.0001

    def plan(self, ctx: ToyContext) -> FallbackOutcome[ToyPlan]:
        sorted(random.Random(0).random() for _ in range(20_000))
        return super().plan(ctx)


class RecklessStepper(Stepper):
    def plan(self, ctx: ToyContext) -> FallbackOutcome[ToyPlan]:
        out = super().plan(ctx)
        if out.plan is None:
            return out
        return dataclasses.replace(out, plan=msgspec.structs.replace(out.plan, speed=5.0))


class RaisingStepper(Stepper):
    def plan(self, ctx: ToyContext) -> FallbackOutcome[ToyPlan]:
        raise RuntimeError("fallback broke")


def _raising_prompt(ctx: ToyContext) -> Any:
    raise KeyError(ctx.task_id)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"domain": RaisingDomain()}, "the rules raised IndexError"),
        ({"domain": UndeclaredRule()}, "rule 'too_gentle' is not in the kit's rules"),
        ({"domain": WrongMode()}, "a rule reported a schema violation"),
        ({"domain": NeverStale()}, "not judged stale"),
        ({"domain": Impure()}, "judged the same plan twice differently"),
        ({"codec": LossyCodec()}, "the rebuilt context judges"),
        ({"fallbacks": (SlowStepper(),)}, "> its declared 0.0001 ms"),
        ({"fallbacks": (RecklessStepper(),)}, "plan breaks speed"),
        ({"fallbacks": (RaisingStepper(),)}, "fallback stepper raised RuntimeError"),
        ({"prompt": _raising_prompt}, "the prompt builder raised KeyError"),
        ({"rules": RULES - {"reach"}}, "rule 'reach' is not in the kit's rules"),
        ({"example_context": {"task_id": 3}}, "example_context does not decode"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_broken_kit_is_caught_with_the_problem_named(change: dict[str, Any], needle: str) -> None:
    """Each kind of broken kit fails conformance; the problem list names what broke."""
    kit = dataclasses.replace(toy_kit(), **change)
    report = check_domain(kit, CONTEXTS)
    assert not report.ok
    assert any(needle in p for p in report.problems), report.problems
    with pytest.raises(AssertionError, match="does not conform"):
        report.raise_for_problems()


def test_no_contexts_is_a_problem_not_a_pass() -> None:
    """Nothing checked is not conformance."""
    assert check_domain(toy_kit(), []).problems == ["no contexts given: nothing was checked"]


def test_a_fallback_abandoning_the_task_is_held_to_safety_only() -> None:
    """A return-home style fallback that serves nothing passes if it is safe, fails if it is not."""

    class GoHome(Stepper):
        name = "home"

        def plan(self, ctx: ToyContext) -> FallbackOutcome[ToyPlan]:
            return FallbackOutcome(self.name, ToyPlan(ctx.task_id, (1,), 1.0), abandons_task=True)

    ok = dataclasses.replace(toy_kit(), fallbacks=(GoHome(),))
    assert check_domain(ok, CONTEXTS[1:2]).ok
    guard = ok.guard()
    (outcome,) = guard.run_fallbacks(CONTEXTS[1])
    assert outcome.usable  # invalid (does not reach -5) but safe: usable

    class Reckless(GoHome):
        def plan(self, ctx: ToyContext) -> FallbackOutcome[ToyPlan]:
            return FallbackOutcome(self.name, ToyPlan(ctx.task_id, (9,), 1.0), abandons_task=True)

    bad = dataclasses.replace(toy_kit(), fallbacks=(Reckless(),))
    assert not bad.guard().run_fallbacks(CONTEXTS[1])[0].usable
    assert not check_domain(bad, CONTEXTS[1:2]).ok


class _Warped:
    """The toy's world with one part replaced (``overrides``: name -> value or function)."""

    def __init__(self, **overrides: object) -> None:
        from plansentry.runtime.world import WorldSettings
        from plansentry.testing.toy import ToyWorld

        self._world = ToyWorld(WorldSettings(blocked_p=0.2))
        self._overrides = overrides

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._world, name)


def test_the_toy_world_conforms() -> None:
    """check_domain checks the kit's world when it has one, and the toy's passes."""
    report = check_domain(toy_kit(), CONTEXTS[:1], world_tasks=60)
    assert report.ok, report.problems
    assert report.judged >= 60


def _unsafe_but_fine(fault, ctx, best, other, rng, *, noise):  # type: ignore[no-untyped-def]
    import msgspec

    if fault == "unsafe":  # labelled unsafe, written safe: the gate accepts it
        return "mislabelled", msgspec.json.encode(best)
    return _Warped()._world.answer(fault, ctx, best, other, rng, noise=noise)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"answer": _unsafe_but_fine}, "fault 'unsafe' (mislabelled) is judged accepted"),
        ({"faults": ("malformed", "teleport")}, "fault 'teleport' is no failure mode"),
        ({"execute_s": lambda plan, ctx: 0.0}, "takes 0.0 s"),
        ({"best": lambda ctx: None}, "has no oracle plan"),
        ({"unsafe": lambda plan, ctx: True}, "calls the oracle's plan for"),
        ({"served": lambda plan, task, mode: 0}, "does not serve task"),
        (
            {"profiles": {"mine": {"faults": {"teleport": 0.1}}}},
            "a built-in profile is not usable",
        ),
    ],
    ids=[
        "mislabelled-fault",
        "unknown-fault",
        "no-time",
        "no-oracle",
        "checker",
        "served",
        "profile",
    ],
)
def test_a_world_that_breaks_its_contract_is_named(overrides, problem) -> None:
    """Each broken part of a world is one problem that says what is wrong."""
    report = check_domain(toy_kit(), CONTEXTS[:1], world=_Warped(**overrides), world_tasks=30)
    assert any(problem in p for p in report.problems), report.problems


def test_a_world_can_be_left_unchecked() -> None:
    """world=False checks the kit alone (its world may be expensive to build)."""
    broken = _Warped(best=lambda ctx: None)
    assert check_domain(toy_kit(), CONTEXTS[:1], world=False).ok
    assert not check_domain(toy_kit(), CONTEXTS[:1], world=broken).ok
