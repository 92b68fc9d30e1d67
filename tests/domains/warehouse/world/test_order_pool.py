"""A pool of orders (``order_pool``): drawn at the stated shares, and a decision in it is the
decision the unpooled path takes for the same request (its kept plans and contexts change
nothing but the time)."""

from __future__ import annotations

import random

import pytest

from plansentry.report.stats import wilson
from plansentry.sim.config import SimConfig, SimConfigError
from plansentry.sim.engine import run_replication
from plansentry.sim.scene import Scene
from warehouse_fixtures import PROFILES


def pooled_scene(closure_p: float = 0.05, **settings: object) -> Scene:
    """A scene of the chaos profile with a world of its own."""
    config = SimConfig(
        profile=PROFILES["chaos"],
        cycles=10,
        world_params={"closure_p": closure_p},
        **settings,  # type: ignore[arg-type]
    )
    return Scene(config, own_world=True)


def pooled_world(**settings: object):  # type: ignore[no-untyped-def]
    return pooled_scene(**settings).world  # type: ignore[arg-type]


def test_a_pooled_replication_decides_as_the_unpooled_path_does() -> None:
    """Same pool, same draws: with plans and contexts kept, or computed afresh each time (the
    unpooled path), every controller's tally is the same."""
    settings = {"order_pool": 60, "closure_p": 0.2, "blocked_order_p": 0.05}
    kept = pooled_scene(**settings)  # type: ignore[arg-type]
    fresh = pooled_scene(**settings)  # type: ignore[arg-type]
    fresh.world._contexts_size = 0  # WarehouseWorld.context: the domain's context, every time
    fresh.world._best_size = 0  # WarehouseWorld.best: the cache is emptied before each plan
    a = run_replication(kept, 0, 1_500, None, (150.0,))
    b = run_replication(fresh, 0, 1_500, None, (150.0,))
    assert kept.world._contexts and not fresh.world._contexts
    assert a == b


def test_pooled_orders_come_at_the_stated_shares() -> None:
    """Each draw picks the kind of order with the shares the fresh stream has."""
    world = pooled_world(order_pool=50, closure_p=0.2, blocked_order_p=0.05)
    drawn = world.pooled(random.Random(3), 20_000)
    blocked = sum(t.blocked for t in drawn)
    closed = sum(bool(t.spec.closed_zones) and not t.blocked for t in drawn)
    for count, share in ((blocked, 0.05), (closed, 0.2)):
        lo, hi = wilson(count, len(drawn))
        assert lo <= share <= hi
    assert world.order_pool() is world.order_pool()  # drawn once


def test_the_pool_is_the_same_in_every_world_of_a_run() -> None:
    """The pool depends on the run's seed alone: every worker draws the same one."""
    assert pooled_world(order_pool=20).order_pool() == pooled_world(order_pool=20).order_pool()
    assert (
        pooled_world(order_pool=20).order_pool() != pooled_world(order_pool=20, seed=1).order_pool()
    )


def test_a_run_without_a_pool_writes_no_pool_setting() -> None:
    """order_pool=0 leaves the document's configuration as it was before the setting existed."""
    assert "order_pool" not in SimConfig(profile=PROFILES["pilot"], cycles=1).to_json()
    assert SimConfig(profile=PROFILES["pilot"], cycles=1, order_pool=5).to_json()["order_pool"] == 5


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_a_pool_size_that_is_no_count_is_refused(bad: object) -> None:
    """order_pool is an integer >= 0."""
    with pytest.raises(SimConfigError, match="order_pool"):
        SimConfig(profile=PROFILES["pilot"], cycles=1, order_pool=bad)  # type: ignore[arg-type]


def test_the_command_line_passes_the_pool_on() -> None:
    """simulate --order-pool N sets order_pool; without it the pool is off."""
    import argparse

    from plansentry.cli.simulate import add_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert config_from_args(parser.parse_args(["--order-pool", "300"])).order_pool == 300
    assert config_from_args(parser.parse_args([])).order_pool == 0
