"""The airspace a drone flies in: geofence, no-fly zones, altitude band, home and landing pads.

Coordinates are local metres (``x`` east, ``y`` north) from a site origin; altitudes are metres
above ground. The airspace is part of every decision's context (a temporary no-fly zone is a new
airspace version), and each has a ``version`` that freshness checks plans against.

Building an :class:`Airspace` checks it (polygons simple, home and pads inside the geofence and
clear of every zone, sizes within the limits below, which bound the gate's and the fallbacks'
time) and indexes it: its :class:`~plansentry_drone.obstacles.Obstacles` for the rules and its
:class:`~plansentry_drone.router.Router` for the fallbacks. That takes tens of milliseconds, once
per airspace, before any decision; the codec keeps the last few it built.

As JSON (and in a YAML airspace file)::

    {"version": "...", "geofence": [[x, y], ...], "min_alt_m": 20, "max_alt_m": 120,
     "home": [x, y], "pads": {"PAD-N": [x, y]}, "clearance_m": 10, "landing_tolerance_m": 3,
     "no_fly": [{"id": "NFZ-1", "polygon": [[x, y], ...]},
                {"id": "NFZ-2", "circle": {"center": [x, y], "radius_m": 150}}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final, TypeAlias, final

import msgspec
import yaml

from plansentry.core.errors import ConfigError, InputError
from plansentry_drone.geometry import Point, is_simple
from plansentry_drone.obstacles import Obstacles, ZoneShape
from plansentry_drone.router import CIRCLE_SIDES, Router

#: The landing site every airspace has, besides its pads.
HOME: Final = "home"
#: Limits that bound the gate's and the fallbacks' time (each corner is a router node, and every
#: leg is measured against every edge near it). A circle counts as CIRCLE_SIDES corners.
MAX_CORNERS: Final = 64
MAX_ZONES: Final = 12
MAX_PADS: Final = 16
COORD_LIMIT_M: Final = 100_000.0

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Coord = Annotated[float, msgspec.Meta(ge=-COORD_LIMIT_M, le=COORD_LIMIT_M)]
XY: TypeAlias = tuple[Coord, Coord]


@final
@dataclass(frozen=True, slots=True)
class PolygonZone:
    """A no-fly zone bounded by a simple polygon."""

    zone_id: str
    polygon: tuple[Point, ...]


@final
@dataclass(frozen=True, slots=True)
class CircleZone:
    """A no-fly zone within ``radius_m`` of ``center``."""

    zone_id: str
    center: Point
    radius_m: float


NoFlyZone: TypeAlias = PolygonZone | CircleZone


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Airspace:
    """Where a drone may fly; see the module docstring. Raises :class:`InputError` naming the
    field when the airspace cannot be flown in or exceeds the limits."""

    version: str
    geofence: tuple[Point, ...]
    min_alt_m: float
    max_alt_m: float
    home: Point
    pads: tuple[tuple[str, Point], ...] = ()
    no_fly: tuple[NoFlyZone, ...] = ()
    clearance_m: float = 10.0
    landing_tolerance_m: float = 3.0
    obstacles: Obstacles = field(init=False, repr=False, compare=False)
    router: Router = field(init=False, repr=False, compare=False)
    sites: Mapping[str, Point] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check(self)
        shapes: list[ZoneShape] = [
            Obstacles.polygon_zone(z.zone_id, z.polygon)
            if isinstance(z, PolygonZone)
            else Obstacles.circle_zone(z.zone_id, z.center, z.radius_m)
            for z in self.no_fly
        ]
        obstacles = Obstacles(self.geofence, shapes)
        for where, p in (("home", self.home), *((f"pads.{n}", p) for n, p in self.pads)):
            if not obstacles.point_clear(p, self.clearance_m):
                raise InputError(
                    f"airspace.{where}: {list(p)} is outside the geofence or within "
                    f"{self.clearance_m:g} m of its edge or a no-fly zone"
                )
        object.__setattr__(self, "obstacles", obstacles)
        object.__setattr__(self, "router", Router(obstacles, self.clearance_m))
        object.__setattr__(self, "sites", {HOME: self.home, **dict(self.pads)})


def _check(a: Airspace) -> None:
    def bad(where: str, why: str) -> InputError:
        return InputError(f"airspace.{where}: {why}")

    if not is_simple(a.geofence):
        raise bad("geofence", "must be a simple polygon (3 or more corners, no crossing edges)")
    if not 0 <= a.min_alt_m < a.max_alt_m:
        raise bad("min_alt_m", f"the band [{a.min_alt_m:g}, {a.max_alt_m:g}] m is empty")
    if not 0 < a.clearance_m <= 1000:
        raise bad("clearance_m", f"must be in (0, 1000] m, got {a.clearance_m:g}")
    if not 1 <= a.landing_tolerance_m <= 100:
        raise bad("landing_tolerance_m", f"must be in [1, 100] m, got {a.landing_tolerance_m:g}")
    if len(a.no_fly) > MAX_ZONES:
        raise bad("no_fly", f"{len(a.no_fly)} zones > the limit of {MAX_ZONES}")
    if len(a.pads) > MAX_PADS:
        raise bad("pads", f"{len(a.pads)} pads > the limit of {MAX_PADS}")
    names = [n for n, _ in a.pads]
    if HOME in names or len(set(names)) != len(names):
        raise bad("pads", f"pad ids must be distinct and not {HOME!r}: {names}")
    corners = len(a.geofence)
    ids: set[str] = set()
    for z in a.no_fly:
        if z.zone_id in ids:
            raise bad("no_fly", f"zone id {z.zone_id!r} repeats")
        ids.add(z.zone_id)
        if isinstance(z, PolygonZone):
            if not is_simple(z.polygon):
                raise bad(f"no_fly.{z.zone_id}", "must be a simple polygon")
            corners += len(z.polygon)
        else:
            if not 0 < z.radius_m <= COORD_LIMIT_M:
                raise bad(f"no_fly.{z.zone_id}", f"radius_m must be > 0, got {z.radius_m:g}")
            corners += CIRCLE_SIDES
    if corners > MAX_CORNERS:
        raise bad(
            "no_fly", f"{corners} corners in all (a circle counts {CIRCLE_SIDES}) > {MAX_CORNERS}"
        )


class _CircleIn(msgspec.Struct, forbid_unknown_fields=True):
    center: XY
    radius_m: Annotated[float, msgspec.Meta(gt=0, le=COORD_LIMIT_M)]


class _ZoneIn(msgspec.Struct, forbid_unknown_fields=True):
    id: Name
    polygon: Annotated[list[XY], msgspec.Meta(max_length=MAX_CORNERS)] | None = None
    circle: _CircleIn | None = None


class _AirspaceIn(msgspec.Struct, forbid_unknown_fields=True):
    version: Name
    geofence: Annotated[list[XY], msgspec.Meta(min_length=3, max_length=MAX_CORNERS)]
    min_alt_m: Annotated[float, msgspec.Meta(ge=0, le=10_000)]
    max_alt_m: Annotated[float, msgspec.Meta(gt=0, le=10_000)]
    home: XY
    pads: Annotated[dict[Name, XY], msgspec.Meta(max_length=MAX_PADS)] = {}
    no_fly: Annotated[list[_ZoneIn], msgspec.Meta(max_length=MAX_ZONES)] = []
    clearance_m: Annotated[float, msgspec.Meta(gt=0, le=1000)] = 10.0
    landing_tolerance_m: Annotated[float, msgspec.Meta(ge=1, le=100)] = 3.0


def _zone(z: _ZoneIn) -> NoFlyZone:
    if (z.polygon is None) == (z.circle is None):
        raise InputError(f"airspace.no_fly.{z.id}: give a polygon or a circle, not both or neither")
    if z.circle is not None:
        return CircleZone(z.id, z.circle.center, z.circle.radius_m)
    assert z.polygon is not None
    return PolygonZone(z.id, tuple(z.polygon))


def airspace_from_json(data: Any) -> Airspace:
    """An airspace from its JSON form; :class:`InputError` naming the bad field."""
    try:
        raw = msgspec.convert(data, _AirspaceIn)
    except msgspec.ValidationError as exc:
        raise InputError(f"airspace: {exc}") from None
    return Airspace(
        version=raw.version,
        geofence=tuple(raw.geofence),
        min_alt_m=raw.min_alt_m,
        max_alt_m=raw.max_alt_m,
        home=raw.home,
        pads=tuple(raw.pads.items()),
        no_fly=tuple(_zone(z) for z in raw.no_fly),
        clearance_m=raw.clearance_m,
        landing_tolerance_m=raw.landing_tolerance_m,
    )


def airspace_to_json(a: Airspace) -> dict[str, Any]:
    """The airspace as JSON; :func:`airspace_from_json` builds an equal one back."""
    zones: list[dict[str, Any]] = []
    for z in a.no_fly:
        if isinstance(z, PolygonZone):
            zones.append({"id": z.zone_id, "polygon": [list(p) for p in z.polygon]})
        else:
            zones.append(
                {"id": z.zone_id, "circle": {"center": list(z.center), "radius_m": z.radius_m}}
            )
    return {
        "version": a.version,
        "geofence": [list(p) for p in a.geofence],
        "min_alt_m": a.min_alt_m,
        "max_alt_m": a.max_alt_m,
        "home": list(a.home),
        "pads": {name: list(p) for name, p in a.pads},
        "no_fly": zones,
        "clearance_m": a.clearance_m,
        "landing_tolerance_m": a.landing_tolerance_m,
    }


def load_airspace(path: str | Path) -> Airspace:
    """The airspace in the YAML (or JSON) file at ``path``; :class:`ConfigError` naming the file
    and the field when it cannot be used."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"airspace file {path}: {exc}") from None
    try:
        return airspace_from_json(data)
    except InputError as exc:
        raise ConfigError(f"airspace file {path}: {exc}") from None


#: The embedded default airspace's file name, inside this package.
DEFAULT_AIRSPACE_FILE: Final = "default_airspace.yaml"


def default_airspace() -> Airspace:
    """The embedded default airspace (``default_airspace.yaml``): an L-shaped site of about
    2.2 x 1.7 km with three no-fly zones, home at the origin and two landing pads."""
    text = resources.files("plansentry_drone").joinpath(DEFAULT_AIRSPACE_FILE).read_text("utf-8")
    return airspace_from_json(yaml.safe_load(text))
