"""The drone as a domain kit: its rules, fallbacks, safe action, codec, prompt and identity.

:func:`drone_kit` builds the kit in Python; :func:`make_kit` is the entry point's factory, which
rebuilds it from an audit log's header or ``plansentry check --param KEY=VALUE`` (values may be
strings). ``params`` (all JSON scalars):

- ``airspace``: the YAML airspace file whose example context ``check`` uses (``None``: the
  embedded default), recorded as an absolute path. Contexts carry their own airspace, so the
  file decides no replayed decision, but rebuilding the kit reads it: keep it where it was;
- ``cruise_alt_m``, ``cruise_speed_mps``: how the fallbacks fly;
- ``cruise_wh_per_m``, ``climb_wh_per_m``, ``hover_wh_per_point``, ``landing_wh``,
  ``reserve_fraction``: the energy model (:mod:`plansentry_drone.energy`).

Rules versions (the identity in every audit log's header):

- ``drone-rules/1``: freshness (mission, asked version), validity (drone, points visited, route
  end) and safety (geofence, no-fly zones as segments, altitude band, speed, battery reserve).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Final

from plansentry.core.errors import ConfigError
from plansentry.runtime.kit import DomainKit, SafeAction
from plansentry.runtime.world import World, WorldSettings
from plansentry_drone.airspace import Airspace, default_airspace, load_airspace
from plansentry_drone.codec import DroneCodec
from plansentry_drone.context import DroneContext
from plansentry_drone.energy import EnergyModel
from plansentry_drone.examples import example_context_json
from plansentry_drone.flight import FlightSettings
from plansentry_drone.identity import NAME, RULES_VERSIONS
from plansentry_drone.mission_planner import MissionPlanner
from plansentry_drone.prompt import DronePrompt
from plansentry_drone.return_home import ReturnToHome
from plansentry_drone.rules import RULES, DroneDomain
from plansentry_drone.schema import DronePlan

#: The drone's safe action. A multirotor cannot stop and hold as a ground robot does: hovering
#: spends the battery until the drone falls. When no plan passes the gate, it descends and lands
#: where it is, which needs no plan, no route and no energy estimate.
LAND: Final = SafeAction("land", "descend and land where it is")

_ENERGY_PARAMS: Final = frozenset(f.name for f in fields(EnergyModel))
_FLIGHT_PARAMS: Final = frozenset(f.name for f in fields(FlightSettings))


def drone_kit(
    *,
    airspace: Airspace | None = None,
    airspace_path: str | None = None,
    energy: EnergyModel | None = None,
    flight: FlightSettings | None = None,
    rules_version: str | None = None,
) -> DomainKit[DronePlan, DroneContext]:
    """The drone kit: its example context in ``airspace`` (or the file at ``airspace_path``, or
    the embedded default), its rules and fallbacks under ``energy`` and ``flight``.

    ``airspace_path`` is what the audit log records; a kit built from an :class:`Airspace`
    object records ``None`` (contexts carry their airspace, so replay is unaffected).
    """
    version = rules_version or RULES_VERSIONS[0]
    if version not in RULES_VERSIONS:
        raise ConfigError(
            f"drone rules {version!r} unknown; this version has {', '.join(RULES_VERSIONS)}"
        )
    if airspace_path:
        airspace_path = str(Path(airspace_path).resolve())  # replay may run from elsewhere
    if airspace is None:
        airspace = load_airspace(airspace_path) if airspace_path else default_airspace()
    energy = energy if energy is not None else EnergyModel()
    flight = flight if flight is not None else FlightSettings()
    return DomainKit(
        name=NAME,
        rules_version=version,
        domain=DroneDomain(energy),
        codec=DroneCodec(),
        fallbacks=(MissionPlanner(energy, flight), ReturnToHome(energy, flight)),
        safe_action=LAND,
        prompt=DronePrompt(energy),
        rules=RULES,
        example_context=example_context_json(airspace),
        params={"airspace": airspace_path, **asdict(flight), **asdict(energy)},
        world=DroneWorlds(airspace, energy, flight),
    )


class DroneWorlds:
    """The kit's world factory (``DomainKit.world``): the simulator's drone world in the kit's
    airspace, energy model and flight settings (:mod:`plansentry_drone.world`, imported when
    first built)."""

    def __init__(self, airspace: Airspace, energy: EnergyModel, flight: FlightSettings) -> None:
        self.airspace = airspace
        self.energy = energy
        self.flight = flight

    @property
    def profiles(self) -> Mapping[str, Mapping[str, Any]]:
        from plansentry_drone.world import PROFILES

        return PROFILES

    def __call__(self, settings: WorldSettings) -> World[Any, Any, Any, Any]:
        from plansentry_drone.world import DroneWorld

        return DroneWorld(self.airspace, self.energy, self.flight, settings)


def make_kit(
    *, rules_version: str | None = None, airspace: str | None = None, **numbers: Any
) -> DomainKit[DronePlan, DroneContext]:
    """The plugin's factory (see the module docstring for the parameters); an unknown or bad
    parameter is a :class:`ConfigError` naming it."""
    unknown = sorted(set(numbers) - _ENERGY_PARAMS - _FLIGHT_PARAMS)
    if unknown:
        known = ", ".join(sorted({"airspace", *_ENERGY_PARAMS, *_FLIGHT_PARAMS}))
        raise ConfigError(f"drone kit: unknown parameter(s) {', '.join(unknown)}; known: {known}")
    values: dict[str, float] = {}
    for name, value in numbers.items():
        try:
            values[name] = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a number, got {value!r}") from None
    energy = EnergyModel(**{k: v for k, v in values.items() if k in _ENERGY_PARAMS})
    flight = FlightSettings(**{k: v for k, v in values.items() if k in _FLIGHT_PARAMS})
    return drone_kit(
        airspace_path=airspace or None, energy=energy, flight=flight, rules_version=rules_version
    )
