"""What a replication runs against: the kit, its world, the gate and the synthetic model, built
once per process from a :class:`~plansentry.sim.config.SimConfig` and shared by replications.

:func:`world_of` finds the world of a kit (one line, exit 2 on the command line, when the kit has
none); :func:`scene_for` keeps a few scenes per process (a worker builds its own once).
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any, Final, final

from plansentry.core.gate import Gate
from plansentry.runtime.kit import DomainKit, load_kit
from plansentry.runtime.world import World, WorldFactory, WorldSettings
from plansentry.sim.config import SimConfig, SimConfigError
from plansentry.sim.profiles import Profile, builtin_profiles, check_faults
from plansentry.sim.synthetic import SyntheticModel


def kit_of(config: SimConfig) -> DomainKit[Any, Any]:
    """The kit ``config`` names, built with its ``kit_params``."""
    return load_kit(config.domain, params=config.kit_params)


def _factory(kit: DomainKit[Any, Any]) -> WorldFactory:
    """``kit``'s world factory; :class:`SimConfigError` if the kit has none."""
    if kit.world is None:
        raise SimConfigError(
            f"the {kit.name} kit has no world: it cannot be simulated (a kit adds one as "
            "DomainKit.world; docs/GUARD_YOUR_PLANNER.md, 'Simulate your kit')"
        )
    return kit.world


def world_of(kit: DomainKit[Any, Any], config: SimConfig) -> World[Any, Any, Any, Any]:
    """``kit``'s world for ``config``; :class:`SimConfigError` if the kit has none."""
    return _factory(kit)(config.world_settings())


def profiles_of(domain: str, kit_params: dict[str, Any] | None = None) -> dict[str, Profile]:
    """The built-in profiles of ``domain``'s world (its own, then the generic ones), read from
    the factory when it has them (a world's class does), else from a world built to ask."""
    factory = _factory(load_kit(domain, params=kit_params or {}))
    profiles = getattr(factory, "profiles", None)
    if profiles is None:
        profiles = factory(WorldSettings()).profiles
    return builtin_profiles(profiles)


@final
class Scene:
    """The kit, its world, a gate over the kit's rules and the synthetic model of the run's
    profile; ``fallback_overrun_p`` resolved (the world's measured bound when the run gives
    none). ``own_world``: build a world of its own instead of sharing the process's (tests that
    compare two worlds)."""

    def __init__(self, config: SimConfig, *, own_world: bool = False) -> None:
        if own_world:
            kit = kit_of(config)
            world = world_of(kit, config)
        else:
            kit, world = _world_for(config)
        check_faults(config.profile, world.faults, world=f"the {kit.name} world")
        if config.fallback_overrun_p is None:
            config = replace(config, fallback_overrun_p=world.fallback_time.over_wcet_p_high)
        self.config = config
        self.kit = kit
        self.world = world
        self.model = SyntheticModel(config.profile, world)
        self.gate: Gate[Any, Any] = Gate(kit.domain, kit.config().gate)
        self.version = kit.domain.version
        self.overrun_p: float = config.fallback_overrun_p  # type: ignore[assignment]
        self.wcet_ms = world.fallback_time.wcet_ms

    def fallback_ms(self, rng: random.Random) -> float:
        """The fallback's compute time for one decision (ms), from the world's measurement."""
        return self.world.fallback_time.draw_ms(
            rng,
            overrun_p=self.overrun_p,
            overrun_mean_ms=self.config.fallback_overrun_mean_ms,
        )

    def start(self, robot: int) -> Any:
        return self.world.start(robot)

    def document_config(self) -> dict[str, Any]:
        """The document's ``config``: the scenario (its profile's faults in the world's order)
        laid out by the world, with its calibration."""
        raw = self.config.to_json()
        raw["profile"] = self.config.profile.to_json(self.world.faults)
        return self.world.describe(raw)


_SCENES: dict[str, Scene] = {}
_WORLDS: dict[str, tuple[DomainKit[Any, Any], World[Any, Any, Any, Any]]] = {}
_KEEP: Final = 4


def _world_for(config: SimConfig) -> tuple[DomainKit[Any, Any], World[Any, Any, Any, Any]]:
    """The kit and world of ``config`` in this process: scenarios that differ only in what the
    world does not see (the profile, the budgets, the controllers) share one."""
    key = repr((config.domain, config.kit_params, config.world_settings()))
    found = _WORLDS.get(key)
    if found is None:
        if len(_WORLDS) >= _KEEP:
            _WORLDS.clear()
        kit = kit_of(config)
        found = _WORLDS[key] = (kit, world_of(kit, config))
    return found


def scene_for(config: SimConfig) -> Scene:
    """The scene of ``config`` in this process, built once (a few are kept, not all); found
    again by its resolved configuration too (what a run hands its replications)."""
    key = repr(config)
    scene = _SCENES.get(key)
    if scene is None:
        if len(_SCENES) >= 2 * _KEEP:
            _SCENES.clear()
        scene = _SCENES[key] = Scene(config)
        _SCENES[repr(scene.config)] = scene
    return scene
