"""Wiring for the reference domain: a guard for picking plans on one map."""

from __future__ import annotations

from collections.abc import Sequence

from plansentry.runtime.config import GuardConfig
from plansentry.runtime.guard import DecisionHook, Guard
from plansentry.warehouse.classical import DECLARED_WCET_MS, NAME, ClassicalPlanner
from plansentry.warehouse.map import Warehouse, default_map
from plansentry.warehouse.order import PickContext
from plansentry.warehouse.rules import WarehouseDomain
from plansentry.warehouse.schema import Plan


def default_config(**overrides: object) -> GuardConfig:
    """The guard configuration for the warehouse: defaults plus the classical planner's WCET."""
    kw: dict[str, object] = {"fallback_wcet_ms": {NAME: DECLARED_WCET_MS}}
    kw.update(overrides)
    return GuardConfig(**kw)  # type: ignore[arg-type]


def make_guard(
    wh: Warehouse | None = None,
    *,
    config: GuardConfig | None = None,
    hooks: Sequence[DecisionHook] = (),
    domain: WarehouseDomain | None = None,
) -> Guard[Plan, PickContext]:
    """A guard with the warehouse rules and the classical planner as its one fallback."""
    if domain is None:
        domain = WarehouseDomain(wh if wh is not None else default_map())
    cfg = config if config is not None else default_config()
    return Guard(domain, [ClassicalPlanner(domain.router)], config=cfg, hooks=hooks)
