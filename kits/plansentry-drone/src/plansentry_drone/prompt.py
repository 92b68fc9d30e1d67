"""The prompt for a drone's mission plan: the mission, the drone, the airspace and the rules stated
plainly, and the plan's JSON Schema narrowed to this context for constrained decoding.

The narrowed schema fixes the ids, lists the landing sites, bounds the speed by the drone's top
speed and every altitude by the band (a model flies the mission; giving it up is the
return-to-home fallback's call). It is narrower than the gate's schema, never wider, and cannot say
"avoid the zones" or "visit every point": the gate's rules judge those.
"""

from __future__ import annotations

from typing import Any, Final, final

from plansentry.runtime.planner import Prompt
from plansentry_drone.airspace import HOME, Airspace, PolygonZone
from plansentry_drone.context import DroneContext
from plansentry_drone.energy import EnergyModel
from plansentry_drone.schema import MAX_WAYPOINTS

SYSTEM: Final = (
    "You plan flights for a delivery drone. Reply with one JSON object and nothing else."
)
_SHAPE: Final = (
    'Reply as {"mission_id": ..., "drone_id": ..., "waypoints": [[x, y, alt], ...], '
    '"speed_mps": ..., "end": "home" or a pad id}.'
)
#: A waypoint ``[1234.5, -567.8, 60.0],`` is about 14 tokens; the ids, speed and end about 60.
TOKENS_PER_WAYPOINT: Final = 16
TOKENS_FIXED: Final = 80


def _xy(p: tuple[float, float]) -> str:
    return f"[{p[0]:g}, {p[1]:g}]"


def _airspace_text(a: Airspace) -> str:
    zones = "; ".join(
        f"{z.zone_id} polygon [{', '.join(_xy(p) for p in z.polygon)}]"
        if isinstance(z, PolygonZone)
        else f"{z.zone_id} circle centre {_xy(z.center)} radius {z.radius_m:g} m"
        for z in a.no_fly
    )
    pads = ", ".join(f"{name} {_xy(p)}" for name, p in a.pads) or "none"
    return (
        f"Airspace {a.version} (metres, x east, y north):\n"
        f"- geofence [{', '.join(_xy(p) for p in a.geofence)}]: every waypoint and every straight "
        f"leg between them, from the drone's position on, stays inside it and at least "
        f"{a.clearance_m:g} m from its edge;\n"
        f"- no-fly zones, every leg at least {a.clearance_m:g} m clear of each: {zones or 'none'};\n"
        f"- every waypoint's altitude between {a.min_alt_m:g} and {a.max_alt_m:g} m;\n"
        f"- land at home {_xy(a.home)} or a pad ({pads}): the last waypoint within "
        f"{a.landing_tolerance_m:g} m of it, horizontally; the drone then descends and lands.\n"
    )


def narrowed_schema(ctx: DroneContext) -> dict[str, Any]:
    """The plan schema narrowed to ``ctx`` (every document it admits, the gate's schema admits)."""
    a = ctx.airspace
    return {
        "type": "object",
        "properties": {
            "mission_id": {"const": ctx.mission.mission_id},
            "drone_id": {"const": ctx.drone.drone_id},
            "waypoints": {
                "type": "array",
                "items": {
                    "type": "array",
                    "prefixItems": [
                        {"type": "number", "minimum": -100_000, "maximum": 100_000},
                        {"type": "number", "minimum": -100_000, "maximum": 100_000},
                        {"type": "number", "minimum": a.min_alt_m, "maximum": a.max_alt_m},
                    ],
                    "minItems": 3,
                    "maxItems": 3,
                },
                "minItems": 1,
                "maxItems": MAX_WAYPOINTS,
            },
            "speed_mps": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": min(ctx.drone.max_speed_mps, 40.0),
            },
            "end": {"enum": sorted(a.sites)},
        },
        "required": ["mission_id", "drone_id", "waypoints", "speed_mps", "end"],
        "additionalProperties": False,
    }


@final
class DronePrompt:
    """A :class:`~plansentry.runtime.planner.PromptBuilder` for drone missions under one energy
    model (the prompt states it, so a model can budget the battery as the rule does)."""

    def __init__(self, energy: EnergyModel) -> None:
        self.energy = energy

    def __call__(self, ctx: DroneContext) -> Prompt:
        m, d, e = ctx.mission, ctx.drone, self.energy
        points = "".join(
            f"- {p.point_id} at [{', '.join(f'{v:g}' for v in p.position_m)}], "
            f"within {p.tolerance_m:g} m\n"
            for p in m.points
        )
        task = (
            f"Mission {m.mission_id} for drone {d.drone_id}. The drone is at "
            f"[{', '.join(f'{v:g}' for v in d.position_m)}] (x, y, altitude in metres) with "
            f"{d.battery_wh:g} Wh of battery; its top speed is {d.max_speed_mps:g} m/s.\n"
            f"Visit every point, in any order, with a waypoint within its tolerance:\n{points}"
            f"{_airspace_text(ctx.airspace)}"
            f"Energy: {e.cruise_wh_per_m:g} Wh per metre flown, {e.climb_wh_per_m:g} Wh per metre "
            f"climbed, {e.hover_wh_per_point:g} Wh at each point, {e.landing_wh:g} Wh to land; "
            f"the total plus {e.reserve_fraction:.0%} must not exceed the battery.\n"
            f'End at "{HOME}" unless a pad is better.\n{_SHAPE}'
        )
        waypoints = min(MAX_WAYPOINTS, 4 * (len(m.points) + 2))
        return Prompt(
            messages=({"role": "system", "content": SYSTEM}, {"role": "user", "content": task}),
            max_tokens=TOKENS_FIXED + TOKENS_PER_WAYPOINT * waypoints,
            json_schema=narrowed_schema(ctx),
        )
