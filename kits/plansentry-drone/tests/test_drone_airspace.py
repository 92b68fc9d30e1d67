"""The airspace: the embedded default, its JSON form, what is refused, and the router over it."""

from __future__ import annotations

import pytest
from plansentry_drone import Airspace, CircleZone, PolygonZone, default_airspace, load_airspace
from plansentry_drone.airspace import MAX_CORNERS, airspace_from_json, airspace_to_json

from plansentry.core.errors import ConfigError, InputError

FENCE = ((0.0, 0.0), (1000.0, 0.0), (1000.0, 1000.0), (0.0, 1000.0))


def airspace(**overrides) -> Airspace:
    kw = {
        "version": "t/1",
        "geofence": FENCE,
        "min_alt_m": 20.0,
        "max_alt_m": 120.0,
        "home": (100.0, 100.0),
        "pads": (("PAD-1", (900.0, 900.0)),),
        "no_fly": (PolygonZone("Z", ((400.0, 0.0), (600.0, 0.0), (600.0, 800.0), (400.0, 800.0))),),
    }
    kw.update(overrides)
    return Airspace(**kw)


def test_default_airspace_has_its_zones_home_and_pads() -> None:
    """Three no-fly zones (one a circle), home at the origin, two pads."""
    a = default_airspace()
    assert [z.zone_id for z in a.no_fly] == ["NFZ-HOSPITAL", "NFZ-SCHOOL", "NFZ-SUBSTATION"]
    assert any(isinstance(z, CircleZone) for z in a.no_fly)
    assert a.home == (0.0, 0.0) and set(a.sites) == {"home", "PAD-NORTH", "PAD-EAST"}


def test_json_round_trip_gives_an_equal_airspace() -> None:
    """to JSON and back: equal, and the same JSON again."""
    a = default_airspace()
    again = airspace_from_json(airspace_to_json(a))
    assert again == a and airspace_to_json(again) == airspace_to_json(a)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"geofence": ((0.0, 0.0), (10.0, 10.0), (10.0, 0.0), (0.0, 10.0))}, "airspace.geofence"),
        ({"min_alt_m": 120.0, "max_alt_m": 20.0}, "airspace.min_alt_m"),
        ({"home": (500.0, 500.0)}, "airspace.home"),
        ({"pads": (("PAD-1", (2000.0, 0.0)),)}, "airspace.pads.PAD-1"),
        ({"pads": (("home", (900.0, 900.0)),)}, "airspace.pads"),
        ({"no_fly": (CircleZone("C", (800.0, 200.0), 0.0),)}, "airspace.no_fly.C"),
    ],
)
def test_an_airspace_that_cannot_be_flown_is_refused_naming_the_field(overrides, field) -> None:
    """Self-crossing fence, empty band, home in a zone, pad outside, pad named home, zero radius."""
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        airspace(**overrides)


def test_an_airspace_past_the_corner_limit_is_refused() -> None:
    """More corners than the limit would unbound the gate's time: refused."""
    many = tuple(CircleZone(f"C{i}", (200.0 + 150 * i, 900.0), 10.0) for i in range(5))
    with pytest.raises(InputError, match=f"> {MAX_CORNERS}"):
        airspace(no_fly=many)


def test_json_with_a_wrong_type_names_the_field() -> None:
    """A string where a number belongs: the message names its path."""
    data = airspace_to_json(default_airspace())
    data["max_alt_m"] = "high"
    with pytest.raises(InputError, match=r"\$\.max_alt_m"):
        airspace_from_json(data)


def test_load_airspace_names_the_file(tmp_path) -> None:
    """A file whose zone has neither polygon nor circle: ConfigError with the file and zone."""
    path = tmp_path / "site.yaml"
    path.write_text(
        "version: x\ngeofence: [[0, 0], [100, 0], [100, 100]]\nmin_alt_m: 10\nmax_alt_m: 50\n"
        "home: [60, 20]\nclearance_m: 2\nno_fly: [{id: Z}]\n"
    )
    with pytest.raises(ConfigError, match=r"site\.yaml.*no_fly\.Z"):
        load_airspace(path)


def test_router_goes_around_a_wall_of_a_zone() -> None:
    """Across a zone that leaves a gap at the top, the path bends through the gap, clear."""
    a = airspace()
    path = a.router.path((100.0, 100.0), (900.0, 100.0))
    assert path
    legs = list(zip([(100.0, 100.0), *path], [*path, (900.0, 100.0)], strict=True))
    assert all(a.obstacles.leg_clear(p, q, a.clearance_m) for p, q in legs)
    assert all(y > 800.0 for _x, y in path)


def test_router_finds_no_path_through_a_wall() -> None:
    """A zone from fence to fence cuts the site in two: no path."""
    wall = PolygonZone("W", ((400.0, -10.0), (600.0, -10.0), (600.0, 1010.0), (400.0, 1010.0)))
    a = airspace(no_fly=(wall,), pads=())
    assert a.router.path((100.0, 100.0), (900.0, 100.0)) is None
