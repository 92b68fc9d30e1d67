"""The cycle-time rule: a plan valid and safe but far slower than the work needs is refused as
``slow``, naming the rule with its estimate and bound; the fallback's and the optimum's plans pass
over generated orders (the bound knows no planner)."""

from __future__ import annotations

import random

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plansentry.core.failures import FailureMode
from plansentry.core.gate import Gate
from plansentry.domains.warehouse.classical import ClassicalPlanner
from plansentry.domains.warehouse.kit import warehouse_kit
from plansentry.domains.warehouse.optimal import OptimalPlanner
from plansentry.domains.warehouse.rules import CYCLE_TIME, WarehouseDomain
from plansentry.domains.warehouse.world.orders import random_orders


def judge(domain, ctx, plan):
    text = msgspec.json.encode(plan)
    return Gate(domain).check(text, len(text), ctx, ctx.version)


def test_a_crawl_is_refused_naming_the_rule(domain, ctx, good_plan) -> None:
    """0.001 m/s (hours of driving for one order): slow, with the estimate and the bound."""
    verdict = judge(domain, ctx, msgspec.structs.replace(good_plan, speed_mps=0.001))
    assert verdict.mode is FailureMode.SLOW
    (v,) = verdict.violations
    assert v.rule == CYCLE_TIME and v.path == "speed_mps"
    assert "estimated" in v.detail and "> bound" in v.detail and "lower estimate" in v.detail


def test_a_detour_through_32_via_points_is_refused(domain, ctx, good_plan) -> None:
    """Zigzagging between the floor's corners: every rule holds but the cycle's."""
    corners = ((1, 1), (26, 1), (1, 24), (30, 24))
    verdict = judge(domain, ctx, msgspec.structs.replace(good_plan, via=corners * 8))
    assert verdict.mode is FailureMode.SLOW
    assert [v.rule for v in verdict.violations] == [CYCLE_TIME]
    assert verdict.violations[0].path == "via"


def test_a_little_slower_than_the_fallback_still_passes(domain, ctx, good_plan) -> None:
    """The bound is generous: the classical plan at half its speed is not refused."""
    slower = msgspec.structs.replace(good_plan, speed_mps=good_plan.speed_mps / 2)
    assert judge(domain, ctx, slower).ok


def test_unsafe_outranks_slow(domain, ctx, good_plan) -> None:
    """A plan both unsafe and slow is reported unsafe: slow is judged only for plans that broke
    nothing else."""
    verdict = judge(domain, ctx, msgspec.structs.replace(good_plan, speed_mps=9.0, via=((29, 2),)))
    assert verdict.mode is FailureMode.UNSAFE and CYCLE_TIME not in {
        v.rule for v in verdict.violations
    }


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1), lines=st.integers(1, 30), closure=st.booleans())
def test_the_classical_plan_passes_the_cycle_time_rule(wh, domain, seed, lines, closure) -> None:
    """Over generated orders (1-30 lines, closures or not), the fallback's plan is never slow."""
    rng = random.Random(seed)
    order = next(random_orders(wh, rng, min_lines=lines, max_lines=lines, closure_p=float(closure)))
    start = wh.pack_stations[rng.choice(sorted(wh.pack_stations))]
    ctx = domain.context(order, "R1", start)
    outcome = ClassicalPlanner(domain.router).plan(ctx)
    if outcome.plan is None:
        return  # a closure cut a bin off: no plan to judge
    assert CYCLE_TIME not in {v.rule for v in domain.check_rules(outcome.plan, ctx)}


def test_the_optimal_plan_passes_over_600_orders(wh, domain) -> None:
    """The optimum's plans (1-8 lines) are never refused: the bound does not fight good plans."""
    rng = random.Random(7)
    source = random_orders(wh, rng, min_lines=1, max_lines=8, closure_p=0.3)
    optimal = OptimalPlanner(domain.router)
    stations = sorted(wh.pack_stations)
    refused = 0
    for i in range(600):
        ctx = domain.context(next(source), "R1", wh.pack_stations[stations[i % 3]])
        plan = optimal.plan(ctx)
        if plan is not None:
            refused += any(v.rule == CYCLE_TIME for v in domain.check_rules(plan, ctx))
    assert refused == 0


@pytest.mark.parametrize(
    ("rules", "mode"), [("warehouse-rules/2", "slow"), ("warehouse-rules/1", None)]
)
def test_a_log_replays_under_the_rules_it_was_written_under(
    wh, good_plan, ctx, rules, mode
) -> None:
    """Rules version 1 had no cycle-time rule: its kit accepts the crawl that version 2 refuses."""
    kit = warehouse_kit(wh, rules_version=rules)
    crawl = msgspec.json.encode(msgspec.structs.replace(good_plan, speed_mps=0.001))
    ctx = kit.codec.context_from_json(kit.codec.context_to_json(ctx))
    verdict = Gate(kit.domain).check(crawl, len(crawl), ctx, ctx.version)
    assert (verdict.mode.value if verdict.mode else None) == mode


def test_the_context_knows_its_lower_estimate(wh) -> None:
    """The lower estimate is computed when the context is made; with the rule off it is not."""
    order = next(random_orders(wh, random.Random(3)))
    start = wh.pack_stations["PACK-1"]
    assert WarehouseDomain(wh).context(order, "R1", start).lower_drive_s > 0
    assert WarehouseDomain(wh, cycle_time=None).context(order, "R1", start).lower_drive_s == 0
