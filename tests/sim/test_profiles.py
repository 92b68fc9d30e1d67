"""Fault profiles: the built-ins are valid, YAML loads, and every bad field is named."""

from __future__ import annotations

import pickle

import pytest

from plansentry.domains.warehouse.world.profiles import FAULTS
from plansentry.sim.config import SimConfig
from plansentry.sim.profiles import (
    Profile,
    ProfileError,
    check_faults,
    load_profile,
    parse_profile,
)
from plansentry.sim.scene import Scene
from warehouse_fixtures import PROFILES


def test_builtins_are_valid_and_picklable() -> None:
    assert set(PROFILES) >= {"pilot", "outage", "chaos", "clean"}
    assert PROFILES["pilot"].rate("malformed") == 0.007
    assert PROFILES["outage"].rate("transport") == 1.0
    for p in PROFILES.values():
        assert pickle.loads(pickle.dumps(p)) == p  # workers receive it by pickling


def test_a_yaml_profile_loads(tmp_path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "description: our model\nfaults: {malformed: 0.01, unsafe: 0.002}\nmedian_s: 1.4\n",
        encoding="utf-8",
    )
    p = load_profile(str(path))
    assert p.name == "mine" and p.rate("unsafe") == 0.002 and p.median_s == 1.4


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"faults": {"malformed": 1.5}}, "faults.malformed"),
        ({"faults": {"malformed": 0.6, "stall": 0.6}}, "sum"),
        ({"median_s": -1}, "median_s"),
        ({"median_s": float("nan")}, "median_s"),
        ({"tail_p": 2}, "tail_p"),
        ({"stall_s": 0}, "stall_s"),
        ({"latency": 1}, "unknown field 'latency'"),
        ({"faults": [0.1]}, "faults must be a mapping"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_bad_profiles_name_the_field(data, named) -> None:
    with pytest.raises(ProfileError, match=named.replace("(", r"\(")):
        parse_profile(data, source="p.yaml")


def test_an_unknown_profile_name_lists_the_builtins() -> None:
    with pytest.raises(ProfileError, match="pilot"):
        load_profile("no-such-profile", PROFILES)


def test_a_fault_the_world_does_not_write_is_named() -> None:
    """A profile is data of its own; held to a world, a fault that world has not is refused,
    naming it and the world's faults, before anything runs."""
    typo = parse_profile({"faults": {"malformd": 0.1}}, source="p.yaml")
    with pytest.raises(ProfileError, match=r"faults\.malformd is not a fault of the warehouse"):
        check_faults(typo, FAULTS, world="the warehouse world")
    with pytest.raises(ProfileError, match=r"faults\.malformd.*known: malformed, schema"):
        Scene(SimConfig(profile=typo, cycles=1))


def test_profile_rejects_a_non_number_rate() -> None:
    with pytest.raises(ProfileError, match=r"faults\.stall"):
        Profile(name="x", faults={"stall": True})
