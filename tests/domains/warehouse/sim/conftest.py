"""Simulator fixtures: worlds (map, planners, calibration) built once per configuration, and a hook
that records a guard's decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from plansentry.domains.warehouse.sim.config import SimConfig
from plansentry.domains.warehouse.sim.engine import world_for
from plansentry.domains.warehouse.sim.profiles import PROFILES
from plansentry.domains.warehouse.sim.world import World


@pytest.fixture(scope="session")
def make_world():
    """``make_world(**settings)``: the world of a pilot scenario with these settings (cached)."""

    def make(**settings: Any) -> World:
        settings.setdefault("profile", PROFILES["pilot"])
        settings.setdefault("cycles", 10)
        return world_for(SimConfig(**settings))

    return make


@pytest.fixture(scope="session")
def world(make_world) -> World:
    return make_world()


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
