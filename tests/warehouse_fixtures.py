"""Warehouse fixtures (they override the toy domain's of tests/conftest.py where a conftest imports
them): the default map, its kit, a guard, the default order's context and a plan that passes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from plansentry.domains.warehouse.examples import default_order
from plansentry.domains.warehouse.kit import make_guard, warehouse_kit
from plansentry.domains.warehouse.map import Warehouse, default_map
from plansentry.domains.warehouse.order import PickContext
from plansentry.domains.warehouse.rules import WarehouseDomain
from plansentry.domains.warehouse.schema import Plan, encode_plan
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.sim.config import SimConfig
from plansentry.sim.scene import Scene, profiles_of, scene_for

#: The warehouse world's built-in profiles (its own, then every world's).
PROFILES = profiles_of("warehouse")


@pytest.fixture(scope="session")
def wh() -> Warehouse:
    return default_map()


@pytest.fixture(scope="session")
def domain(wh: Warehouse) -> WarehouseDomain:
    return WarehouseDomain(wh)


@pytest.fixture(scope="session")
def kit(domain: WarehouseDomain):
    return warehouse_kit(domain=domain)


@pytest.fixture
def guard(domain: WarehouseDomain):
    return make_guard(domain=domain)


@pytest.fixture
def runtime(guard) -> VirtualRuntime:
    return VirtualRuntime(guard)


@pytest.fixture(scope="session")
def ctx(domain: WarehouseDomain, wh: Warehouse) -> PickContext:
    return domain.context(default_order(wh), "R1", wh.pack_stations["PACK-1"])


@pytest.fixture(scope="session")
def good_plan(domain: WarehouseDomain, ctx: PickContext) -> Plan:
    from plansentry.domains.warehouse.classical import ClassicalPlanner

    plan = ClassicalPlanner(domain.router).plan(ctx).plan
    assert plan is not None
    return plan


@pytest.fixture(scope="session")
def good_bytes(good_plan: Plan) -> bytes:
    return encode_plan(good_plan)


@pytest.fixture(scope="session")
def make_scene():
    """``make_scene(**settings)``: the scene of a warehouse pilot scenario with these settings
    (cached)."""

    def make(**settings: Any) -> Scene:
        settings.setdefault("profile", PROFILES["pilot"])
        settings.setdefault("cycles", 10)
        return scene_for(SimConfig(**settings))

    return make


@pytest.fixture(scope="session")
def scene(make_scene) -> Scene:
    return make_scene()


@dataclass
class Recorder:
    """A decision hook that keeps every decision."""

    decisions: list[Any] = field(default_factory=list)

    def on_decision(self, event: Any) -> None:
        self.decisions.append(event.decision)

    def on_reset(self, seq: int, reason: str) -> None:
        pass


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
