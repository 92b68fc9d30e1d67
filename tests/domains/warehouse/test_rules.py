"""Each warehouse rule, on the default order."""

from __future__ import annotations

import msgspec
import pytest

from plansentry.core.failures import FailureMode
from plansentry.domains.warehouse.examples import default_order
from plansentry.domains.warehouse.order import OrderError, make_order, order_from_json
from plansentry.domains.warehouse.schema import Pick, Plan


def rules(domain, ctx, plan: Plan) -> set[str]:
    return {v.rule for v in domain.check_rules(plan, ctx)}


def edit(plan: Plan, **changes) -> Plan:
    return msgspec.structs.replace(plan, **changes)


def test_classical_plan_breaks_no_rule(domain, ctx, good_plan) -> None:
    """The fixture plan is valid: the baseline for every edit below."""
    assert rules(domain, ctx, good_plan) == set()


@pytest.mark.parametrize(
    ("change", "rule", "mode"),
    [
        (lambda p: edit(p, robot_id="R7"), "robot_id", FailureMode.INVALID),
        (lambda p: edit(p, end="DOCK"), "end_station", FailureMode.INVALID),
        (lambda p: edit(p, picks=p.picks[:-1]), "coverage", FailureMode.INVALID),
        (lambda p: edit(p, picks=(*p.picks, p.picks[0])), "coverage", FailureMode.INVALID),
        (
            lambda p: edit(p, picks=(Pick("Q-01-L", "SKU-1", 1), *p.picks[1:])),
            "bin_exists",
            FailureMode.INVALID,
        ),
        (lambda p: edit(p, speed_mps=1.5), "speed_limit", FailureMode.UNSAFE),
        (lambda p: edit(p, via=((0, 0),)), "via_free", FailureMode.UNSAFE),
        (lambda p: edit(p, via=((99, 3),)), "via_free", FailureMode.UNSAFE),
        (lambda p: edit(p, via=((29, 5),)), "staff_only", FailureMode.UNSAFE),
    ],
)
def test_rule_fires(domain, ctx, good_plan, change, rule: str, mode: FailureMode) -> None:
    """Each edit breaks exactly the rule it targets, in the right mode."""
    found = domain.check_rules(change(good_plan), ctx)
    assert rule in {v.rule for v in found}
    assert all(v.mode is mode for v in found if v.rule == rule)


def test_wrong_qty_is_a_coverage_violation(domain, ctx, good_plan) -> None:
    """The qty of every line must match the order."""
    first = good_plan.picks[0]
    plan = edit(good_plan, picks=(Pick(first.bin, first.sku, first.qty + 1), *good_plan.picks[1:]))
    assert any("qty" in v.detail for v in domain.check_rules(plan, ctx))


def test_free_via_point_is_allowed(domain, ctx, good_plan) -> None:
    """A via-point on open floor is fine if the speed suits the longer route."""
    plan = edit(good_plan, via=((1, 1),), speed_mps=0.8)
    assert rules(domain, ctx, plan) == set()


def test_closed_aisle_makes_its_bins_unsafe(domain, wh, good_plan) -> None:
    """A pick in an aisle the order closed is refused as zone_closed."""
    base = default_order(wh)
    order = make_order(
        base.order_id, [(x.sku, x.bin, x.qty) for x in base.lines], wh, closed_zones=["aisle-A"]
    )
    ctx = domain.context(order, "R1", wh.pack_stations["PACK-1"])
    assert "zone_closed" in rules(domain, ctx, good_plan)


def test_route_around_a_closed_cross_aisle_is_rechecked(domain, wh, good_plan) -> None:
    """Closing the middle cross-aisle forces detours: still valid, still judged on the new route."""
    base = default_order(wh)
    order = make_order(
        base.order_id, [(x.sku, x.bin, x.qty) for x in base.lines], wh, closed_zones=["cross-mid"]
    )
    ctx = domain.context(order, "R1", wh.pack_stations["PACK-1"])
    assert rules(domain, ctx, good_plan) <= {"speed_limit"}
    assert rules(domain, ctx, edit(good_plan, via=((10, 11),))) == {"zone_closed"}


def test_speed_limit_comes_from_the_zones_crossed(domain, wh) -> None:
    """A route through the pedestrian crossing is limited to its 0.8 m/s."""
    order = make_order("O-9", [("S", "D-10-L", 1), ("T", "D-12-L", 1)], wh)
    ctx = domain.context(order, "R1", wh.pack_stations["PACK-2"])
    plan = Plan("O-9", "R1", (Pick("D-10-L", "S", 1), Pick("D-12-L", "T", 1)), 1.0, "PACK-2")
    assert rules(domain, ctx, plan) == {"speed_limit"}
    assert rules(domain, ctx, edit(plan, speed_mps=0.8)) == set()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"order_id": "X", "lines": [{"sku": "S", "bin": "Q-1", "qty": 1}]}, "order.lines[0].bin"),
        (
            {"order_id": "X", "lines": [{"sku": "S", "bin": "A-03-L", "qty": 0}]},
            "order.lines[0].qty",
        ),
        ({"order_id": "X", "lines": []}, "order.lines"),
        (
            {
                "order_id": "X",
                "lines": [{"sku": "S", "bin": "A-03-L", "qty": 1}],
                "closed_zones": ["maintenance"],
            },
            "not closable",
        ),
        (
            {
                "order_id": "X",
                "lines": [{"sku": "S", "bin": "A-03-L", "qty": 1}],
                "closed_zones": ["moon"],
            },
            "no zone 'moon'",
        ),
        (
            {
                "order_id": "X",
                "lines": [{"sku": "S", "bin": "A-03-L", "qty": 1}],
                "map_version": "0",
            },
            "order.map_version",
        ),
        ({"order_id": "X", "lines": [{"sku": "S", "bin": "A-03-L"}]}, "qty"),
    ],
)
def test_bad_orders_name_the_field(wh, data, needle: str) -> None:
    """Orders that do not fit the map fail with the field named."""
    with pytest.raises(OrderError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        order_from_json(data, wh)
