"""Fixtures of the rware kit's tests: the kit, the example context (rware-tiny, every shelf at
home), the fetch planner's plan for it."""

from __future__ import annotations

import msgspec
import pytest
from plansentry_rware import RwareContext, RwarePlan, rware_kit

from plansentry.runtime.kit import DomainKit


@pytest.fixture(scope="session")
def kit() -> DomainKit[RwarePlan, RwareContext]:
    return rware_kit()


@pytest.fixture(scope="session")
def ctx(kit) -> RwareContext:
    return kit.codec.context_from_json(kit.example_context)


@pytest.fixture(scope="session")
def good_plan(kit, ctx) -> RwarePlan:
    plan = kit.fallbacks[0].plan(ctx).plan
    assert plan is not None
    return plan


@pytest.fixture(scope="session")
def good_bytes(kit, good_plan) -> bytes:
    return msgspec.json.encode(kit.codec.plan_to_json(good_plan))
