"""Fixtures of the generic tests: the toy domain (plansentry.testing), its guard and runtime, a
context and a plan that passes. Tests under tests/domains/<name>/ override these with their own."""

from __future__ import annotations

import pytest

from plansentry import _native
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.testing.toy import ToyContext, ToyPlan, toy_kit


@pytest.fixture(scope="session")
def kit():
    return toy_kit()


@pytest.fixture(scope="session")
def domain(kit):
    return kit.domain


@pytest.fixture
def guard(kit):
    return kit.guard()


@pytest.fixture
def runtime(guard) -> VirtualRuntime:
    return VirtualRuntime(guard)


@pytest.fixture(scope="session")
def ctx() -> ToyContext:
    return ToyContext("T-1", target=7, max_step=3, blocked=frozenset({4}))


@pytest.fixture(scope="session")
def good_plan(kit, ctx) -> ToyPlan:
    plan = kit.fallbacks[0].plan(ctx).plan
    assert plan is not None
    return plan


@pytest.fixture(scope="session")
def good_bytes(kit, good_plan) -> bytes:
    import msgspec

    return msgspec.json.encode(kit.codec.plan_to_json(good_plan))


def pytest_collection_modifyitems(config, items) -> None:
    """Tests that patch the core's modules see nothing of it when it is compiled (compiled modules
    call one another directly): in a compiled session they run in the pure-Python session that
    tests/test_native.py starts, and are skipped here saying so."""
    if _native.BUILD != "compiled":
        return
    moved = pytest.mark.skip(reason="run on the pure build by tests/test_native.py")
    for item in items:
        if item.get_closest_marker("pure_core") is not None:
            item.add_marker(moved)
