"""Fixtures of the drone kit's tests: the kit, the example context (a three-point mission from
home), the mission planner's plan for it, and contexts that starve the fallbacks."""

from __future__ import annotations

import msgspec
import pytest
from drone_helpers import AIRBORNE_M, with_battery
from plansentry_drone import DroneContext, DronePlan, drone_kit

from plansentry.runtime.kit import DomainKit


@pytest.fixture(scope="session")
def kit() -> DomainKit[DronePlan, DroneContext]:
    return drone_kit()


@pytest.fixture(scope="session")
def ctx(kit) -> DroneContext:
    return kit.codec.context_from_json(kit.example_context)


@pytest.fixture(scope="session")
def good_plan(kit, ctx) -> DronePlan:
    plan = kit.fallbacks[0].plan(ctx).plan
    assert plan is not None
    return plan


@pytest.fixture(scope="session")
def good_bytes(kit, good_plan) -> bytes:
    return msgspec.json.encode(kit.codec.plan_to_json(good_plan))


@pytest.fixture(scope="session")
def starved_ctx(ctx) -> DroneContext:
    """Airborne with 30 Wh: home is in reach, the mission is not."""
    return with_battery(ctx, 30.0, AIRBORNE_M)


@pytest.fixture(scope="session")
def stranded_ctx(ctx) -> DroneContext:
    """Airborne with 5 Wh: not even home is in reach."""
    return with_battery(ctx, 5.0, AIRBORNE_M)
