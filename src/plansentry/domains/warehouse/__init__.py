"""The warehouse picker: plansentry's reference domain, a kit like any other.

A picking plan is the order in which to visit bins, the speed and the pack station to end at. The
gate checks that it covers the order exactly, names real bins, avoids closed and staff-only zones
and respects every speed limit on the route it would drive; the classical planner (nearest neighbour
and 2-opt) is the fallback; the safe action is to stop and hold.

Start with :func:`warehouse_kit` (or :func:`make_guard` for the guard alone). The fleet simulator is
:mod:`plansentry.sim`; the warehouse's world for it is :mod:`plansentry.domains.warehouse.world`.
"""

from plansentry.domains.warehouse.classical import ClassicalPlanner
from plansentry.domains.warehouse.kit import (
    WarehouseCodec,
    default_config,
    make_guard,
    warehouse_kit,
)
from plansentry.domains.warehouse.map import MapError, Warehouse, default_map, load_map
from plansentry.domains.warehouse.order import Order, OrderError, PickContext, make_order
from plansentry.domains.warehouse.rules import RULES, WarehouseDomain
from plansentry.domains.warehouse.schema import Pick, Plan, plan_json_schema

__all__ = [
    "RULES",
    "ClassicalPlanner",
    "MapError",
    "Order",
    "OrderError",
    "Pick",
    "PickContext",
    "Plan",
    "Warehouse",
    "WarehouseCodec",
    "WarehouseDomain",
    "default_config",
    "default_map",
    "load_map",
    "make_guard",
    "make_order",
    "plan_json_schema",
    "warehouse_kit",
]
