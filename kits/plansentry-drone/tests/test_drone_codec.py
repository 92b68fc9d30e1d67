"""The codec: contexts and plans to JSON and back, exactly, and bad input named by its field."""

from __future__ import annotations

import copy

import msgspec
import pytest

from plansentry.core.errors import InputError


def test_the_context_round_trips_exactly(kit, ctx) -> None:
    """JSON (through bytes) and back: an equal context that writes the same JSON."""
    data = kit.codec.context_to_json(ctx)
    again = kit.codec.context_from_json(msgspec.json.decode(msgspec.json.encode(data)))
    assert again == ctx and kit.codec.context_to_json(again) == data


def test_the_plan_round_trips_exactly(kit, good_plan) -> None:
    """A plan to JSON and back is the same plan."""
    data = kit.codec.plan_to_json(good_plan)
    assert kit.codec.plan_from_json(msgspec.json.decode(msgspec.json.encode(data))) == good_plan


def test_one_airspace_is_built_once(kit) -> None:
    """Two contexts with the same airspace JSON share one airspace object (built once)."""
    a = kit.codec.context_from_json(kit.example_context)
    b = kit.codec.context_from_json(copy.deepcopy(kit.example_context))
    assert a.airspace is b.airspace


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("drone", "battery_wh"), "full", r"\$\.drone\.battery_wh"),
        (("drone", "max_speed_mps"), 0, r"\$\.drone\.max_speed_mps"),
        (("mission", "points"), [], r"\$\.mission\.points"),
        (("airspace", "max_alt_m"), -5, r"\$\.max_alt_m"),
        (("airspace", "home"), [500.0, 300.0], r"airspace\.home"),
    ],
)
def test_a_bad_context_names_the_field(kit, path, value, field: str) -> None:
    """A wrong type, an out-of-range number, an empty list, a home in a zone: named."""
    data = copy.deepcopy(kit.example_context)
    data[path[0]][path[1]] = value
    with pytest.raises(InputError, match=field):
        kit.codec.context_from_json(data)


def test_a_context_missing_its_drone_is_refused(kit) -> None:
    """No drone: InputError naming it."""
    data = {k: v for k, v in kit.example_context.items() if k != "drone"}
    with pytest.raises(InputError, match="drone"):
        kit.codec.context_from_json(data)


def test_repeated_mission_point_ids_are_refused(kit) -> None:
    """Two points called P1: refused, naming the points."""
    data = copy.deepcopy(kit.example_context)
    data["mission"]["points"][1]["id"] = "P1"
    with pytest.raises(InputError, match=r"mission\.points"):
        kit.codec.context_from_json(data)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"waypoints": [[0.0, 0.0]]}, r"\$\.waypoints\[0\]"),
        ({"speed_mps": 0}, r"\$\.speed_mps"),
        ({"intent": "return"}, "intent"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_plan_names_the_field(kit, good_plan, change, field: str) -> None:
    """A two-number waypoint, a zero speed, an unknown key (the model cannot declare the
    mission given up): named."""
    data = {**kit.codec.plan_to_json(good_plan), **change}
    with pytest.raises(InputError, match=field):
        kit.codec.plan_from_json(data)
