"""Orders: what a robot must pick, with the zones closed for this order and the map version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, final

import msgspec

from plansentry.core.errors import InputError
from plansentry.domains.warehouse.map import Warehouse
from plansentry.domains.warehouse.tables import RuleTables


class OrderError(InputError):
    """An order that does not fit its map; the message names the field."""


@final
@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    bin: str
    qty: int


@final
@dataclass(frozen=True)
class Order:
    """One pick order. ``closed_zones`` are zone names closed while it runs; ``notes`` is free text
    passed to the model (and the one place untrusted instructions may hide)."""

    order_id: str
    lines: tuple[OrderLine, ...]
    map_version: str
    closed_zones: frozenset[str] = frozenset()
    notes: str = ""

    @property
    def items(self) -> int:
        """Items the order asks for: the sum of its lines' quantities."""
        return sum(line.qty for line in self.lines)

    @cached_property
    def expected(self) -> dict[tuple[str, str], int]:
        """``{(bin, sku): qty}``: what a plan must cover exactly."""
        return {(line.bin, line.sku): line.qty for line in self.lines}

    @property
    def version(self) -> str:
        """What a plan for this order must have been asked with to be fresh."""
        return f"{self.order_id}@{self.map_version}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "order_id": self.order_id,
            "map_version": self.map_version,
            "lines": [{"sku": x.sku, "bin": x.bin, "qty": x.qty} for x in self.lines],
        }
        if self.closed_zones:
            out["closed_zones"] = sorted(self.closed_zones)
        if self.notes:
            out["notes"] = self.notes
        return out


class _LineIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: str
    bin: str
    qty: int


class _OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    order_id: str
    lines: list[_LineIn]
    map_version: str | None = None
    closed_zones: list[str] = []
    notes: str = ""


def order_from_json(data: Mapping[str, Any] | Any, wh: Warehouse) -> Order:
    """Build and validate an order against ``wh``; :class:`OrderError` names the bad field."""
    try:
        raw = msgspec.convert(data, _OrderIn)
    except msgspec.ValidationError as exc:
        raise OrderError(f"order: {exc}") from None
    return make_order(
        raw.order_id,
        [(x.sku, x.bin, x.qty) for x in raw.lines],
        wh,
        map_version=raw.map_version,
        closed_zones=raw.closed_zones,
        notes=raw.notes,
    )


def make_order(
    order_id: str,
    lines: Iterable[tuple[str, str, int]],
    wh: Warehouse,
    *,
    map_version: str | None = None,
    closed_zones: Iterable[str] = (),
    notes: str = "",
) -> Order:
    """An order of ``(sku, bin, qty)`` lines on ``wh``, checked: bins exist, qty >= 1, each (bin, sku)
    once, closed zones exist and are closable."""
    if not order_id:
        raise OrderError("order.order_id: empty")
    out: list[OrderLine] = []
    seen: set[tuple[str, str]] = set()
    for i, (sku, bin_name, qty) in enumerate(lines):
        if bin_name not in wh.bins:
            raise OrderError(f"order.lines[{i}].bin: no bin {bin_name!r} on map {wh.name}")
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
            raise OrderError(f"order.lines[{i}].qty: must be an integer >= 1, got {qty!r}")
        if (bin_name, sku) in seen:
            raise OrderError(f"order.lines[{i}]: ({bin_name}, {sku}) appears twice; merge the qty")
        seen.add((bin_name, sku))
        out.append(OrderLine(sku, bin_name, qty))
    if not out:
        raise OrderError("order.lines: an order needs at least one line")
    closed = frozenset(closed_zones)
    for name in sorted(closed):
        zone = wh.zones.get(name)
        if zone is None:
            raise OrderError(f"order.closed_zones: no zone {name!r} on map {wh.name}")
        if zone.kind != "closable":
            raise OrderError(f"order.closed_zones: zone {name!r} is {zone.kind}, not closable")
    version = wh.version if map_version is None else map_version
    if version != wh.version:
        raise OrderError(
            f"order.map_version: order is for map version {version!r}, map is {wh.version!r}"
        )
    return Order(order_id, tuple(out), version, closed, notes)


@final
@dataclass(frozen=True, eq=False)
class PickContext:
    """Everything a plan is judged against: the order, the robot, where it stands, the closures.

    ``version`` is computed once, with the context. ``tables`` is what the domain that made the
    context (:meth:`~.rules.WarehouseDomain.context`) precomputed for judging plans in it, at
    request time rather than inside the gate; a context made any other way (or copied with
    :func:`dataclasses.replace`) has none, and is judged by the same rules without them.
    """

    order: Order
    robot_id: str
    start: int
    closed_mask: int
    forbidden_mask: int  # closed zones and staff-only zones
    lower_drive_s: float = 0.0  # a lower bound on any route's drive time (the cycle-time rule's)
    version: str = field(init=False, repr=False)  # what a fresh plan was asked with
    tables: RuleTables | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "version", self.order.version)
