"""Each rule caught by a crafted plan, by its exported name and failure mode (never its message)."""

from __future__ import annotations

import dataclasses

import msgspec
import pytest
from drone_helpers import with_battery
from plansentry_drone import (
    ALTITUDE_BAND,
    ASKED_VERSION,
    BATTERY_RESERVE,
    DRONE_ID,
    GEOFENCE,
    MISSION_ID,
    NO_FLY_ZONE,
    POINTS_VISITED,
    ROUTE_END,
    RULES,
    SPEED_LIMIT,
    DronePlan,
)

from plansentry.core.failures import FailureMode
from plansentry.core.gate import Gate

UNSAFE, INVALID, STALE = FailureMode.UNSAFE, FailureMode.INVALID, FailureMode.STALE


def replace(plan: DronePlan, **changes) -> DronePlan:
    return msgspec.structs.replace(plan, **changes)


def caught(violations, rule: str, mode: FailureMode):
    """The violations of ``rule``; fails unless there is one, each with ``mode``."""
    found = [v for v in violations if v.rule == rule]
    assert found, f"{rule} not reported: {violations}"
    assert all(v.mode is mode for v in found)
    return found


def test_the_mission_planners_plan_breaks_no_rule(kit, ctx, good_plan) -> None:
    """The baseline every crafted plan below departs from is itself clean."""
    assert kit.domain.check_rules(good_plan, ctx) == []
    assert kit.domain.check_fresh(good_plan, ctx, ctx.version) == []


def test_every_rule_name_is_exported_in_rules() -> None:
    """The ten rule names, all in RULES."""
    names = {
        MISSION_ID,
        ASKED_VERSION,
        DRONE_ID,
        POINTS_VISITED,
        ROUTE_END,
        GEOFENCE,
        NO_FLY_ZONE,
        ALTITUDE_BAND,
        SPEED_LIMIT,
        BATTERY_RESERVE,
    }
    assert names == RULES


def test_a_plan_for_another_mission_is_stale(kit, ctx, good_plan) -> None:
    """mission_id names another mission: stale, by the mission_id rule."""
    found = kit.domain.check_fresh(replace(good_plan, mission_id="M-OTHER"), ctx, ctx.version)
    caught(found, MISSION_ID, STALE)


def test_a_plan_asked_for_another_airspace_version_is_stale(kit, ctx, good_plan) -> None:
    """Asked before the airspace changed: stale, by the asked_version rule."""
    found = kit.domain.check_fresh(good_plan, ctx, "M-EX-1@demo-site/2025-05.9")
    caught(found, ASKED_VERSION, STALE)


def test_a_plan_for_another_drone_is_invalid(kit, ctx, good_plan) -> None:
    """drone_id names another drone: invalid."""
    caught(kit.domain.check_rules(replace(good_plan, drone_id="DR-9"), ctx), DRONE_ID, INVALID)


def test_a_mission_point_left_out_is_invalid(kit, ctx, good_plan) -> None:
    """Without the waypoint at P2 the mission is not flown: invalid, naming P2."""
    waypoints = tuple(w for w in good_plan.waypoints if w[:2] != (1500.0, 100.0))
    found = caught(
        kit.domain.check_rules(replace(good_plan, waypoints=waypoints), ctx),
        POINTS_VISITED,
        INVALID,
    )
    assert "P2" in found[0].detail


def test_a_point_missed_by_more_than_its_tolerance_is_invalid(kit, ctx, good_plan) -> None:
    """A waypoint 6 m from a point with a 5 m tolerance does not visit it."""
    waypoints = tuple(
        (700.0, 606.0, 40.0) if w[:2] == (700.0, 600.0) else w for w in good_plan.waypoints
    )
    caught(
        kit.domain.check_rules(replace(good_plan, waypoints=waypoints), ctx),
        POINTS_VISITED,
        INVALID,
    )


def test_a_plan_that_skips_the_points_is_invalid_whoever_writes_it(kit, ctx, good_plan) -> None:
    """Straight home: the model may not give the mission up (only a fallback that abandons the
    task is held to the safety rules alone); every point is reported unvisited."""
    home_only = replace(good_plan, waypoints=((0.0, 0.0, 60.0),))
    broken = kit.domain.check_rules(home_only, ctx)
    assert broken and {v.rule for v in broken} == {POINTS_VISITED}
    assert {v.mode for v in broken} == {INVALID}


@pytest.mark.parametrize("end", ["PAD-WEST", "Home", ""])
def test_an_unknown_landing_site_is_invalid(kit, ctx, good_plan, end: str) -> None:
    """end is neither home nor a pad of this airspace: invalid."""
    plan = msgspec.convert({**kit.codec.plan_to_json(good_plan), "end": end or "x"}, DronePlan)
    caught(kit.domain.check_rules(plan, ctx), ROUTE_END, INVALID)


def test_a_route_that_stops_short_of_its_pad_is_invalid(kit, ctx, good_plan) -> None:
    """The last waypoint is over home, the plan says it lands on PAD-EAST: invalid."""
    caught(kit.domain.check_rules(replace(good_plan, end="PAD-EAST"), ctx), ROUTE_END, INVALID)


def test_a_waypoint_outside_the_geofence_is_unsafe(kit, ctx, good_plan) -> None:
    """A waypoint east of the fence: unsafe, at that waypoint."""
    waypoints = (*good_plan.waypoints[:1], (2000.0, 0.0, 60.0), *good_plan.waypoints[1:])
    found = caught(
        kit.domain.check_rules(replace(good_plan, waypoints=waypoints), ctx), GEOFENCE, UNSAFE
    )
    assert found[0].path == "waypoints[1]"


def test_a_leg_across_the_geofences_notch_is_unsafe(kit, ctx, good_plan) -> None:
    """Two waypoints inside the L-shaped fence, the leg between them cuts its outside corner."""
    detour = ((900.0, 1300.0, 60.0), (1700.0, 800.0, 60.0))
    waypoints = (good_plan.waypoints[0], *detour, *good_plan.waypoints[1:])
    found = caught(
        kit.domain.check_rules(replace(good_plan, waypoints=waypoints), ctx), GEOFENCE, UNSAFE
    )
    assert [v.path for v in found] == ["waypoints[2]"]


def test_a_waypoint_inside_a_no_fly_zone_is_unsafe(kit, ctx, good_plan) -> None:
    """A waypoint in the hospital's zone: unsafe, naming the zone."""
    waypoints = (good_plan.waypoints[0], (450.0, 300.0, 60.0), *good_plan.waypoints[1:])
    found = caught(
        kit.domain.check_rules(replace(good_plan, waypoints=waypoints), ctx), NO_FLY_ZONE, UNSAFE
    )
    assert "NFZ-HOSPITAL" in found[0].detail and found[0].path == "waypoints[1]"


def test_a_leg_crossing_a_zone_between_two_legal_waypoints_is_unsafe(kit, ctx, good_plan) -> None:
    """Straight from home to P1: both ends legal, the segment crosses the hospital's zone."""
    waypoints = (good_plan.waypoints[0], *good_plan.waypoints[2:])  # without the detour corner
    found = kit.domain.check_rules(replace(good_plan, waypoints=waypoints), ctx)
    assert [(v.rule, v.mode, v.path) for v in found] == [(NO_FLY_ZONE, UNSAFE, "waypoints[1]")]
    assert "crosses no-fly zone NFZ-HOSPITAL" in found[0].detail


def test_a_leg_grazing_a_zone_inside_the_clearance_is_unsafe(kit, ctx, good_plan) -> None:
    """A leg passing 5 m north of the school's circle, inside the 10 m clearance: unsafe."""
    graze = ((1100.0, 455.0, 60.0), (1500.0, 455.0, 60.0))
    waypoints = (*good_plan.waypoints[:-1], *graze, good_plan.waypoints[-1])
    found = caught(
        kit.domain.check_rules(replace(good_plan, waypoints=waypoints), ctx), NO_FLY_ZONE, UNSAFE
    )
    assert any("passes 5.0 m from no-fly zone NFZ-SCHOOL" in v.detail for v in found)


@pytest.mark.parametrize("alt_m", [10.0, 150.0])
def test_a_waypoint_outside_the_altitude_band_is_unsafe(kit, ctx, good_plan, alt_m) -> None:
    """Below 20 m or above 120 m: unsafe."""
    waypoints = ((0.0, 0.0, alt_m), *good_plan.waypoints[1:])
    found = caught(
        kit.domain.check_rules(replace(good_plan, waypoints=waypoints), ctx), ALTITUDE_BAND, UNSAFE
    )
    assert found[0].path == "waypoints[0]"


def test_faster_than_the_drone_can_fly_is_unsafe(kit, ctx, good_plan) -> None:
    """20 m/s for a drone whose top speed is 15 m/s: unsafe."""
    caught(kit.domain.check_rules(replace(good_plan, speed_mps=20.0), ctx), SPEED_LIMIT, UNSAFE)


def test_the_battery_rule_refuses_a_long_mission_with_estimate_and_limit(
    kit, ctx, good_plan
) -> None:
    """The mission's circuit flown six times (about 30 km) on 180 Wh: only the battery rule
    objects, and its detail gives the estimate, the total with the reserve and the limit."""
    long_route = replace(good_plan, waypoints=good_plan.waypoints * 6)
    estimate = kit.domain.energy.estimate_wh(
        ctx.drone.position_m, long_route.waypoints, hover_points=3
    )
    found = kit.domain.check_rules(long_route, ctx)
    assert [(v.rule, v.mode) for v in found] == [(BATTERY_RESERVE, UNSAFE)]
    assert found[0].detail == (
        f"estimated {estimate:.1f} Wh + 25% reserve = {estimate * 1.25:.1f} Wh > 180.0 Wh available"
    )


def test_the_battery_rule_counts_the_reserve(kit, ctx, good_plan) -> None:
    """The three-point mission (about 74 Wh) on 80 Wh: enough for the flight, not with the
    25 % reserve on top."""
    caught(kit.domain.check_rules(good_plan, with_battery(ctx, 80.0)), BATTERY_RESERVE, UNSAFE)
    assert kit.domain.check_rules(good_plan, with_battery(ctx, 93.0)) == []


def test_the_gate_reports_the_most_severe_mode(kit, ctx, good_plan) -> None:
    """Another drone and too fast: the gate's verdict is unsafe and lists both."""
    text = msgspec.json.encode(replace(good_plan, drone_id="DR-9", speed_mps=30.0))
    verdict = Gate(kit.domain).check(text, len(text), ctx, ctx.version)
    assert verdict.mode is UNSAFE
    assert {v.rule for v in verdict.violations} == {DRONE_ID, SPEED_LIMIT}


def test_the_rules_do_not_change_the_context(kit, ctx, good_plan) -> None:
    """Judging leaves the context as it was (frozen all the way down)."""
    before = dataclasses.astuple(ctx.drone)
    kit.domain.check_rules(replace(good_plan, speed_mps=30.0), ctx)
    assert dataclasses.astuple(ctx.drone) == before
