"""The warehouse map: a grid of cells, bins on shelves, pack stations and zones, loaded from YAML.

Cells are ``(x, y)`` with x to the right and y down; internally a cell is the integer ``y * width + x``.
Zone kinds:

- ``staff_only``: people only; a robot must never enter;
- ``speed``: a lower speed limit (``speed_limit_mps``) for any route that crosses it;
- ``closable``: normally open; an order may close it (cleaning, a spill, a blocked aisle).

Loading checks the whole map and raises :class:`MapError` naming the offending field
(``map.zones[1].kind``), including bins that no pack station can reach.
"""

from __future__ import annotations

import importlib.resources
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, final

import yaml

from plansentry.core.errors import ConfigError

ZONE_KINDS: Final = ("staff_only", "speed", "closable")


class MapError(ConfigError):
    """A map file that cannot be used; the message names the field and says what is wrong."""


@final
@dataclass(frozen=True, slots=True)
class Bin:
    name: str
    shelf: int
    access: int  # the floor cell a robot stands on to pick from this bin


@final
@dataclass(frozen=True, slots=True)
class Zone:
    name: str
    kind: str
    bit: int
    cells: frozenset[int]
    speed_limit_mps: float | None = None


@final
@dataclass(frozen=True, eq=False)
class Warehouse:
    """An immutable, validated map. Build it with :func:`load_map` or :func:`default_map`."""

    name: str
    version: str
    width: int
    height: int
    cell_m: float
    max_speed_mps: float
    free: frozenset[int]
    pack_stations: Mapping[str, int]
    bins: Mapping[str, Bin]
    zones: Mapping[str, Zone]
    cell_zones: tuple[int, ...]  # zone bit mask of every cell

    def cell(self, x: int, y: int) -> int:
        return y * self.width + x

    def xy(self, cell: int) -> tuple[int, int]:
        return cell % self.width, cell // self.width

    def in_bounds(self, x: int, y: int) -> bool:
        return 0 <= x < self.width and 0 <= y < self.height

    def mask_of(self, kinds: Iterable[str]) -> int:
        wanted = set(kinds)
        return sum(z.bit for z in self.zones.values() if z.kind in wanted)

    def closed_mask(self, zone_names: Iterable[str]) -> int:
        """Bit mask of the named zones; unknown names raise :class:`KeyError`."""
        return sum(self.zones[name].bit for name in set(zone_names))

    def neighbours(self, cell: int) -> tuple[int, ...]:
        x, y = self.xy(cell)
        out = []
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nx, ny = x + dx, y + dy
            if self.in_bounds(nx, ny):
                n = self.cell(nx, ny)
                if n in self.free:
                    out.append(n)
        return tuple(out)


def _field(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise MapError(f"{where}.{key}: missing")
    return data[key]


def _xy(value: Any, where: str, width: int, height: int) -> tuple[int, int]:
    ok = (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )
    if not ok:
        raise MapError(f"{where}: expected a cell [x, y] of two integers, got {value!r}")
    x, y = value
    if not (0 <= x < width and 0 <= y < height):
        raise MapError(f"{where}: cell [{x}, {y}] is outside the {width}x{height} grid")
    return x, y


def _positive(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MapError(f"{where}: expected a finite number, got {value!r}")
    if value <= 0:
        raise MapError(f"{where}: must be > 0, got {value!r}")
    return float(value)


def parse_map(data: Any, *, source: str = "map") -> Warehouse:
    """Validate a map already read from YAML; see the module docstring for the format."""
    if not isinstance(data, Mapping):
        raise MapError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    w = "map"
    name = str(_field(data, "name", w))
    version = str(_field(data, "version", w))
    cell_m = _positive(data.get("cell_m", 1.0), f"{w}.cell_m")
    max_speed = _positive(_field(data, "max_speed_mps", w), f"{w}.max_speed_mps")
    grid_text = _field(data, "grid", w)
    if not isinstance(grid_text, str):
        raise MapError(f"{w}.grid: expected a block of text rows")
    rows = [r for r in grid_text.splitlines() if r.strip()]
    if not rows:
        raise MapError(f"{w}.grid: empty")
    width, height = len(rows[0]), len(rows)
    free: set[int] = set()
    for y, row in enumerate(rows):
        if len(row) != width:
            raise MapError(f"{w}.grid: row {y} has {len(row)} cells, row 0 has {width}")
        for x, ch in enumerate(row):
            if ch == ".":
                free.add(y * width + x)
            elif ch != "#":
                raise MapError(f"{w}.grid: row {y} column {x}: unknown cell {ch!r}; use '.' or '#'")

    stations_raw = _field(data, "pack_stations", w)
    if not isinstance(stations_raw, Mapping) or not stations_raw:
        raise MapError(f"{w}.pack_stations: expected a non-empty mapping of name: [x, y]")
    stations: dict[str, int] = {}
    for sname, xy in stations_raw.items():
        x, y = _xy(xy, f"{w}.pack_stations.{sname}", width, height)
        if y * width + x not in free:
            raise MapError(f"{w}.pack_stations.{sname}: cell [{x}, {y}] is not floor")
        stations[str(sname)] = y * width + x

    zones: dict[str, Zone] = {}
    cell_zones = [0] * (width * height)
    zones_raw = data.get("zones", [])
    if not isinstance(zones_raw, list):
        raise MapError(f"{w}.zones: expected a list")
    for i, z in enumerate(zones_raw):
        zw = f"{w}.zones[{i}]"
        if not isinstance(z, Mapping):
            raise MapError(f"{zw}: expected a mapping")
        zname = str(_field(z, "name", zw))
        if zname in zones:
            raise MapError(f"{zw}.name: zone {zname!r} is defined twice")
        kind = _field(z, "kind", zw)
        if kind not in ZONE_KINDS:
            raise MapError(
                f"{zw}.kind: unknown zone kind {kind!r}; use one of {', '.join(ZONE_KINDS)}"
            )
        limit = None
        if kind == "speed":
            limit = _positive(_field(z, "speed_limit_mps", zw), f"{zw}.speed_limit_mps")
        rects = _field(z, "rects", zw)
        if not isinstance(rects, list) or not rects:
            raise MapError(f"{zw}.rects: expected a non-empty list of [x0, y0, x1, y1]")
        cells: set[int] = set()
        for j, rect in enumerate(rects):
            rw = f"{zw}.rects[{j}]"
            if not (isinstance(rect, list) and len(rect) == 4):
                raise MapError(f"{rw}: expected [x0, y0, x1, y1], got {rect!r}")
            x0, y0 = _xy(rect[:2], rw, width, height)
            x1, y1 = _xy(rect[2:], rw, width, height)
            if x1 < x0 or y1 < y0:
                raise MapError(f"{rw}: corners out of order, need x0 <= x1 and y0 <= y1")
            cells.update(y * width + x for y in range(y0, y1 + 1) for x in range(x0, x1 + 1))
        bit = 1 << i
        zones[zname] = Zone(zname, kind, bit, frozenset(cells), limit)
        for c in cells:
            cell_zones[c] |= bit

    staff = sum(z.bit for z in zones.values() if z.kind == "staff_only")
    for sname, c in stations.items():
        if cell_zones[c] & staff:
            raise MapError(f"{w}.pack_stations.{sname}: inside a staff-only zone")

    bins: dict[str, Bin] = {}
    aisles = _field(data, "aisles", w)
    if not isinstance(aisles, list) or not aisles:
        raise MapError(f"{w}.aisles: expected a non-empty list")
    for i, a in enumerate(aisles):
        aw = f"{w}.aisles[{i}]"
        if not isinstance(a, Mapping):
            raise MapError(f"{aw}: expected a mapping")
        aname = str(_field(a, "name", aw))
        ax = _field(a, "x", aw)
        span = _field(a, "rows", aw)
        if not (isinstance(span, list) and len(span) == 2):
            raise MapError(f"{aw}.rows: expected [first, last]")
        skip = set(a.get("skip_rows", []))
        for y in range(span[0], span[1] + 1):
            if y in skip:
                continue
            _xy([ax, y], f"{aw} row {y}", width, height)
            access = y * width + ax
            if access not in free:
                raise MapError(f"{aw}: aisle cell [{ax}, {y}] is not floor")
            for side, sx in (("L", ax - 1), ("R", ax + 1)):
                if not (0 <= sx < width) or y * width + sx in free:
                    continue  # no shelf on this side
                bname = f"{aname}-{y:02d}-{side}"
                if bname in bins:
                    raise MapError(f"{aw}: bin {bname} defined twice")
                bins[bname] = Bin(bname, y * width + sx, access)
    if not bins:
        raise MapError(f"{w}.aisles: no aisle cell has a shelf beside it, so the map has no bins")

    wh = Warehouse(
        name=name,
        version=version,
        width=width,
        height=height,
        cell_m=cell_m,
        max_speed_mps=max_speed,
        free=frozenset(free),
        pack_stations=dict(stations),
        bins=dict(bins),
        zones=dict(zones),
        cell_zones=tuple(cell_zones),
    )
    _check_reachable(wh, staff)
    return wh


def _check_reachable(wh: Warehouse, staff: int) -> None:
    first_name, first = next(iter(wh.pack_stations.items()))
    seen = {first}
    queue = deque([first])
    while queue:
        c = queue.popleft()
        for n in wh.neighbours(c):
            if n not in seen and not wh.cell_zones[n] & staff:
                seen.add(n)
                queue.append(n)
    for sname, c in wh.pack_stations.items():
        if c not in seen:
            raise MapError(f"map.pack_stations.{sname}: unreachable from {first_name}")
    for b in wh.bins.values():
        if b.access not in seen:
            x, y = wh.xy(b.access)
            raise MapError(
                f"map.aisles: bin {b.name} is unreachable (aisle cell [{x}, {y}] cannot be "
                f"reached from {first_name} without entering a staff-only zone)"
            )


def load_map(path: str | Path) -> Warehouse:
    """Read and validate a YAML map file. Errors name the file and the field."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise MapError(f"{p}: cannot read map: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MapError(f"{p}: not valid YAML: {exc}") from None
    try:
        return parse_map(data, source=str(p))
    except MapError as exc:
        raise MapError(f"{p}: {exc}") from None


_DEFAULT: Warehouse | None = None


def default_map() -> Warehouse:
    """The embedded default map (``default_map.yaml``), loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        text = importlib.resources.files("plansentry.domains.warehouse").joinpath(
            "default_map.yaml"
        )
        _DEFAULT = parse_map(yaml.safe_load(text.read_text(encoding="utf-8")), source="default map")
    return _DEFAULT
