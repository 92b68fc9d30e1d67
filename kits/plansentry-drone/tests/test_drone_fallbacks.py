"""The fallbacks: the mission planner, then return-to-home, each with a plan the rules accept or
no plan and the reason."""

from __future__ import annotations

import dataclasses
import math
import random

import pytest
from drone_helpers import AIRBORNE_M, with_battery
from plansentry_drone import Mission, MissionPoint, random_context
from plansentry_drone.mission_planner import visiting_order
from plansentry_drone.rules import POINTS_VISITED

from plansentry.core.decision import FallbackOutcome
from plansentry.core.failures import FailureMode

UNSAFE = FailureMode.UNSAFE


def test_the_mission_plan_visits_every_point_in_nearest_neighbour_order(kit, ctx) -> None:
    """From home: P1 (nearest), then P3, then P2, then home; it breaks no rule."""
    plan = kit.fallbacks[0].plan(ctx).plan
    stops = [w for w in plan.waypoints if w[2] != 60.0]
    assert [w[:2] for w in stops] == [(700.0, 600.0), (200.0, 1100.0), (1500.0, 100.0)]
    assert plan.end == "home" and plan.waypoints[-1][:2] == (0.0, 0.0)
    assert kit.domain.check_rules(plan, ctx) == []
    assert not kit.fallbacks[0].plan(ctx).abandons_task


def test_the_mission_plan_bends_around_a_zone_the_straight_line_crosses(kit, ctx) -> None:
    """Home to P1 crosses the hospital's zone: the plan turns at a corner outside it."""
    plan = kit.fallbacks[0].plan(ctx).plan
    assert plan.waypoints[1][:2] not in ((0.0, 0.0), (700.0, 600.0))
    assert ctx.airspace.obstacles.leg_clear((0.0, 0.0), plan.waypoints[1][:2], 10.0)


def test_the_mission_plan_takes_off_vertically_at_cruise_altitude(kit, ctx) -> None:
    """On the ground, below the band: the first waypoint is straight above the drone."""
    plan = kit.fallbacks[0].plan(ctx).plan
    assert plan.waypoints[0] == (0.0, 0.0, 60.0)


def test_the_mission_planner_is_deterministic(kit, ctx) -> None:
    """Same context, same plan."""
    assert kit.fallbacks[0].plan(ctx) == kit.fallbacks[0].plan(ctx)


def test_visiting_order_breaks_ties_by_the_earlier_point() -> None:
    """Two points equally near: the first listed goes first."""
    a = MissionPoint("A", (10.0, 0.0, 30.0), 5.0)
    b = MissionPoint("B", (-10.0, 0.0, 30.0), 5.0)
    assert [p.point_id for p in visiting_order((0.0, 0.0, 0.0), (a, b))] == ["A", "B"]


def test_too_little_battery_for_the_mission_leaves_the_planner_without_a_plan(
    kit, starved_ctx
) -> None:
    """30 Wh against a mission needing about 77 Wh: no plan, and the reason says so."""
    outcome = kit.fallbacks[0].plan(starved_ctx)
    assert outcome.plan is None and outcome.detail.startswith("battery too low for the mission")


def test_return_to_home_flies_home_when_the_mission_is_out_of_reach(kit, starved_ctx) -> None:
    """The same drone gets home: a plan that abandons the mission, safe by every safety rule,
    ending over home; the guard finds it usable."""
    outcome = kit.fallbacks[1].plan(starved_ctx)
    assert outcome.abandons_task and outcome.plan.end == "home"
    broken = kit.domain.check_rules(outcome.plan, starved_ctx)
    assert {v.rule for v in broken} == {POINTS_VISITED}  # the mission is given up, not flown
    (checked,) = [o for o in kit.guard().run_fallbacks(starved_ctx) if o.name == outcome.name]
    assert checked.usable


def test_return_to_home_has_no_plan_when_home_is_out_of_reach(kit, stranded_ctx) -> None:
    """5 Wh cannot get home with the reserve: no plan, and the reason says so."""
    outcome = kit.fallbacks[1].plan(stranded_ctx)
    assert outcome.plan is None and outcome.detail.startswith("battery too low to get home")


def test_return_to_home_on_the_ground_at_home_has_no_plan(kit, ctx) -> None:
    """Below the band over home, landing where it is is going home: no flight planned."""
    outcome = kit.fallbacks[1].plan(with_battery(ctx, 1.0))
    assert outcome == FallbackOutcome(
        "return_to_home", None, (), "already at home below the band: landing is going home"
    )


def test_a_point_inside_a_no_fly_zone_cannot_be_planned(kit, ctx) -> None:
    """A delivery inside the school's zone: no clear route to it, no plan."""
    point = MissionPoint("P-SCHOOL", (1300.0, 300.0, 30.0), 5.0)
    blocked = dataclasses.replace(ctx, mission=Mission("M-X", (point,)))
    outcome = kit.fallbacks[0].plan(blocked)
    assert outcome.plan is None and outcome.detail == "no clear route to P-SCHOOL"


def test_a_point_outside_the_band_cannot_be_planned(kit, ctx) -> None:
    """A point at 150 m, over the 120 m ceiling: no plan."""
    point = MissionPoint("P-HIGH", (700.0, 600.0, 150.0), 5.0)
    high = dataclasses.replace(ctx, mission=Mission("M-X", (point,)))
    assert "outside the altitude band" in kit.fallbacks[0].plan(high).detail


def test_an_airborne_drone_starts_where_it_flies(kit, ctx) -> None:
    """Inside the band, no climb-out waypoint: the first leg leaves from the drone itself."""
    flying = with_battery(ctx, 180.0, AIRBORNE_M)
    plan = kit.fallbacks[0].plan(flying).plan
    assert plan.waypoints[0] != (900.0, 700.0, 60.0)
    assert kit.domain.check_rules(plan, flying) == []


@pytest.mark.parametrize("max_speed_mps", [8.0, 15.0])
def test_the_fallbacks_fly_at_cruise_speed_capped_by_the_drone(kit, ctx, max_speed_mps) -> None:
    """12 m/s cruise, or the drone's top speed if lower."""
    slow = dataclasses.replace(
        ctx, drone=dataclasses.replace(ctx.drone, max_speed_mps=max_speed_mps)
    )
    assert kit.fallbacks[0].plan(slow).plan.speed_mps == min(12.0, max_speed_mps)


def test_every_fallback_plan_passes_the_rules_over_random_missions(kit, ctx) -> None:
    """200 seeded missions of up to 16 points, on the ground or flying: whenever a fallback has
    a plan, the rules accept it (a fallback never plans what the gate would refuse; one that
    abandons the mission is held to the safety rules only)."""
    rng = random.Random(11)
    planned = 0
    for i in range(200):
        mission = random_context(rng, ctx.airspace, points=(1, 16), airborne=0.5, seq=i)
        for fb in kit.fallbacks:
            outcome = fb.plan(mission)
            if outcome.plan is not None:
                planned += 1
                broken = kit.domain.check_rules(outcome.plan, mission)
                if outcome.abandons_task:
                    broken = [v for v in broken if v.mode is UNSAFE]
                assert broken == [], (fb.name, i)
    assert planned > 150


def test_each_fallback_declares_a_finite_worst_case_time(kit) -> None:
    """The declared WCETs fit the default budget with the reserve and the wake margin."""
    assert [fb.name for fb in kit.fallbacks] == ["mission_planner", "return_to_home"]
    assert all(math.isfinite(fb.wcet_ms) and fb.wcet_ms > 0 for fb in kit.fallbacks)
    assert kit.config().budget_ms == 150.0  # GuardConfig refuses WCETs that do not fit
