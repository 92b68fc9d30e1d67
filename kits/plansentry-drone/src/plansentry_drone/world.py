"""The drone's world for plansentry's fleet simulator (``plansentry simulate --domain drone``).

What a third party's kit hands the simulator (:class:`plansentry.runtime.world.World`), stated as
assumptions where nothing here measures them (docs: the kit's README, "Simulate the drone"):

- **Missions** are drawn from the airspace: 1 to ``max_points`` (default 5) delivery points,
  uniform over the geofence and clear of every zone by 20 m more than the clearance, at altitudes
  inside the band, tolerances of 3, 5 or 10 m. With probability ``blocked_p`` one point is put
  at the middle of a no-fly zone instead (a delivery no plan can fly to). Whether any plan
  serves a mission is the oracle's verdict, not the draw's: a mission the oracle cannot fly (its
  battery, a point no clear route reaches) is blocked too.
- **The fleet** flies out of home: every mission starts on the ground at home with a full
  battery (``battery_wh``, default 180 Wh, the kit's example drone); a drone that lands at a pad
  is ferried home and its battery swapped (``turnaround_s``, default 60 s, per mission).
- **Flight time** from the plan itself: its legs (altitude change included) at its speed, a
  ``hover_s`` hover (default 15 s, the energy model's own figure) per point it visits, and the
  final descent at ``descent_mps`` (default 2 m/s).
- **The oracle** visits the points in the order of the shortest straight-line tour (exact, all
  orders, for up to 7 points), routed around the zones as the mission planner routes; where
  that tour cannot be flown, the mission planner's plan.
- **The model's faults** (:data:`FAULTS`): ``missed_point`` (a point's waypoint moved out of its
  tolerance: ``invalid``, rule ``points_visited``), ``unsafe`` (over the top speed, a waypoint
  in a no-fly zone, one above the band), ``stale`` (another mission's plan), ``schema`` and
  ``slow`` (a crawl at a tenth of the speed), besides the simulator's own.
- **The independent checker** samples the flight every 2 m and asks whether the drone is
  outside the geofence, inside a no-fly zone (its polygons and circles, by its own geometry), out
  of the band between take-off and landing, over its top speed, or out of battery (the energy
  model: the airframe's physics, shared with the rules by design). It judges incursions; the
  rules also keep a clearance, so a plan that passes within the clearance is unsafe to the rules
  and safe to the checker (the stricter judge is the gate's).
- **The pilot's controller** reads the plan as a plain controller reads JSON: it crashes (a
  restart) on text ``json.loads`` refuses, a missing field or a wrong type, a speed of 0 or less;
  it flies to an ``end`` it does not know and stops there (a halt); it flies anything else.
- **The fallbacks' time**: the guard runs the mission planner and return-to-home before every
  decision it might need them; their time together, as ``bench/world_time.py`` measured it on
  the world's own missions (:mod:`plansentry_drone.fallback_time`).
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final, final

import msgspec

from plansentry.core.errors import ConfigError
from plansentry.core.failures import FailureMode
from plansentry.runtime.world import (
    BaseWorld,
    FallbackTime,
    Reaction,
    Read,
    Task,
    WorldSettings,
    number_params,
)
from plansentry_drone.airspace import HOME, Airspace, CircleZone, PolygonZone
from plansentry_drone.context import Drone, DroneContext, Mission, MissionPoint
from plansentry_drone.energy import EnergyModel
from plansentry_drone.flight import FlightSettings, energy_shortfall, fly, speed
from plansentry_drone.mission_planner import MissionPlanner
from plansentry_drone.rules import POINTS_VISITED
from plansentry_drone.schema import MAX_SPEED_MPS, DronePlan, plan_to_builtins

#: The faults a drone answer can show, in the order the synthetic model draws them.
FAULTS: Final = (
    "malformed",
    "schema",
    "missed_point",
    "unsafe",
    "stale",
    "stall",
    "transport",
    "slow",
)
SCHEMA_KINDS: Final = ("missing_field", "wrong_type", "short_waypoint", "extra_field")
UNSAFE_KINDS: Final = ("over_speed", "no_fly", "above_band")

#: The drone's built-in profiles, as data. ``pilot``: the pilot's fault rates as its model showed
#: them (0.7 % malformed JSON, 1 stall in 10,000: the seed's own pilot, DESIGN.md) with a latency
#: for a longer answer (an assumption: a drone plan is about five times the tokens of a picking
#: plan; the embedded model took 2-5 s for 200 tokens on this kind of machine,
#: ../../shared/notes/models.md), so a median of 2.5 s and the same spread; ``chaos``: every
#: fault at 1 % or more, to exercise every row.
PROFILES: Final[Mapping[str, Mapping[str, Any]]] = {
    "pilot": {
        "description": "the pilot's fault rates (0.7 % malformed, rare stalls) at a drone plan's "
        "latency (median 2.5 s: an assumption, see plansentry_drone.world)",
        "faults": {"malformed": 0.007, "stall": 0.0001},
        "median_s": 2.5,
        "tail_min_s": 6.0,
    },
    "chaos": {
        "description": "every fault at 1 % or more: exercises every row of the FMLI matrix",
        "faults": {
            "malformed": 0.02,
            "schema": 0.01,
            "missed_point": 0.02,
            "unsafe": 0.03,
            "stale": 0.01,
            "stall": 0.01,
            "transport": 0.01,
            "slow": 0.01,
        },
        "median_s": 2.5,
        "tail_min_s": 6.0,
        "tail_p": 0.02,
        "stall_s": 45.0,
    },
}

#: The world's parameters and their defaults (see the module docstring).
PARAMS: Final[Mapping[str, float]] = {
    "max_points": 5,
    "battery_wh": 180.0,
    "turnaround_s": 60.0,
    "hover_s": 15.0,
    "descent_mps": 2.0,
    "top_speed_mps": 15.0,
}
#: Sampling step of the independent checker (m).
_STEP_M: Final = 2.0
#: The oracle tries every order of up to this many points.
_EXACT_POINTS: Final = 7


@functools.cache
def measured_fallback_time() -> FallbackTime:
    """The fallbacks' time as ``bench/world_time.py`` measured it (:mod:`.fallback_time`,
    imported when first asked: the bench itself draws the world's missions)."""
    from plansentry_drone import fallback_time

    return FallbackTime(
        wcet_ms=fallback_time.DECLARED_WCET_MS,
        quantiles_ms=fallback_time.QUANTILES_MS,
        tail_ms=fallback_time.TAIL_MS,
        samples=fallback_time.SAMPLES,
        over_wcet_p_high=fallback_time.OVER_WCET_P_HIGH,
    )


def world_params(params: Mapping[str, Any]) -> dict[str, float]:
    """The world's parameters, defaults filled in; a :class:`ConfigError` naming a bad one."""
    out = number_params(params, PARAMS, world="drone")
    for name, number in out.items():
        low = 0.0 if name == "turnaround_s" else 1e-9
        if number < low:
            raise ConfigError(f"{name} must be {'>= 0' if low == 0 else '> 0'}, got {number!r}")
    if out["max_points"] != int(out["max_points"]) or not 1 <= out["max_points"] <= 16:
        raise ConfigError(f"max_points must be an integer from 1 to 16, got {out['max_points']!r}")
    if out["top_speed_mps"] > MAX_SPEED_MPS:
        raise ConfigError(f"top_speed_mps must be at most {MAX_SPEED_MPS:g}")
    return out


@final
class DroneWorld(BaseWorld[DronePlan, DroneContext, Mission, str]):
    """The drone's world in one airspace (see the module docstring). ``at`` is the site a drone
    stands on: always home, in this world."""

    faults = FAULTS
    profiles = PROFILES
    fault_rules = ((POINTS_VISITED, "missed_point"),)

    @property
    def fallback_time(self) -> FallbackTime:
        return measured_fallback_time()

    def __init__(
        self,
        airspace: Airspace,
        energy: EnergyModel,
        flight: FlightSettings,
        settings: WorldSettings,
    ) -> None:
        p = world_params(settings.params)
        self.airspace = airspace
        self.energy = energy
        self.flight = flight
        self.blocked_p = settings.blocked_p
        self.max_points = int(p["max_points"])
        self.battery_wh = p["battery_wh"]
        self.turnaround_s = p["turnaround_s"]
        self.hover_s = p["hover_s"]
        self.descent_mps = p["descent_mps"]
        self.top_speed_mps = p["top_speed_mps"]
        self.planner = MissionPlanner(energy, flight)
        self._best: dict[str, DronePlan | None] = {}
        self._open = replace(airspace, no_fly=(), version=airspace.version)
        self._zone_points = [_inside(z) for z in airspace.no_fly]
        self._fence = airspace.geofence
        self._zones = airspace.no_fly

    # -- the work ------------------------------------------------------------------------------

    def tasks(self, rng: random.Random, prefix: str) -> Iterator[Task[Mission]]:
        airspace = self.airspace
        low, high = airspace.min_alt_m, airspace.max_alt_m
        for number in itertools.count(1):
            points = []
            for i in range(rng.randint(1, self.max_points)):
                x, y = _free_point(rng, airspace, 20.0)
                alt = round(rng.uniform(low + 5, min(high - 5, low + 60)), 1)
                tolerance = rng.choice((3.0, 5.0, 10.0))
                points.append(MissionPoint(f"P{i + 1}", (x, y, alt), tolerance))
            if self._zone_points and rng.random() < self.blocked_p:
                x, y = rng.choice(self._zone_points)
                points[rng.randrange(len(points))] = MissionPoint(
                    f"P{len(points) + 1}", (x, y, round((low + high) / 2, 1)), 5.0
                )
            mission = Mission(f"{prefix}-{number:06d}", tuple(points))
            ctx = self.context(Task(mission.mission_id, len(points), False, mission), "DR-1", HOME)
            yield Task(mission.mission_id, len(points), self.best(ctx) is None, mission)

    def start(self, robot: int) -> str:
        return HOME

    def context(self, task: Task[Mission], robot_id: str, at: str) -> DroneContext:
        x, y = self.airspace.sites[at]
        drone = Drone(
            drone_id=robot_id,
            position_m=(x, y, 0.0),
            battery_wh=self.battery_wh,
            max_speed_mps=self.top_speed_mps,
        )
        return DroneContext(task.spec, drone, self.airspace)

    # -- the oracle and the model --------------------------------------------------------------

    def best(self, ctx: DroneContext) -> DronePlan | None:
        """The shortest straight-line tour, routed; the mission planner's plan where it cannot
        be flown (kept per mission: every mission starts at home)."""
        key = ctx.mission.mission_id
        if key not in self._best:
            if len(self._best) > 20_000:
                self._best.clear()
            self._best[key] = self._plan(ctx)
        plan = self._best[key]
        if plan is None or plan.drone_id == ctx.drone.drone_id:
            return plan
        found: DronePlan = msgspec.structs.replace(plan, drone_id=ctx.drone.drone_id)
        return found

    def _plan(self, ctx: DroneContext) -> DronePlan | None:
        fallback = self.planner.plan(ctx).plan
        points = ctx.mission.points
        if fallback is None or len(points) > _EXACT_POINTS or len(points) < 3:
            return fallback
        start = ctx.drone.position_m
        home = self.airspace.home

        def tour(order: Sequence[MissionPoint]) -> float:
            xy = [(start[0], start[1]), *((p.position_m[0], p.position_m[1]) for p in order), home]
            return sum(math.dist(a, b) for a, b in itertools.pairwise(xy))

        order = min(itertools.permutations(points), key=tour)
        waypoints = fly(ctx, [(p.point_id, p.position_m) for p in order], HOME, self.flight)
        if isinstance(waypoints, str):
            return fallback
        hover = len(points)
        if energy_shortfall(ctx, waypoints, self.energy, hover_points=hover, purpose=""):
            return fallback
        plan = DronePlan(
            mission_id=ctx.mission.mission_id,
            drone_id=ctx.drone.drone_id,
            waypoints=waypoints,
            speed_mps=speed(ctx, self.flight),
            end=HOME,
        )
        return plan if self.execute_s(plan, ctx) < self.execute_s(fallback, ctx) else fallback

    def best_unaware(self, ctx: DroneContext) -> DronePlan:
        """The mission planner's plan as if there were no no-fly zone and the battery were
        endless: what a model that does not see why the mission cannot be flown writes."""
        drone = replace(ctx.drone, battery_wh=1e9)
        plan = self.planner.plan(DroneContext(ctx.mission, drone, self._open)).plan
        assert plan is not None, "a mission's points are in the band and inside the geofence"
        return plan

    def encode(self, plan: DronePlan) -> bytes:
        return msgspec.json.encode(plan)

    def answer(
        self,
        fault: str,
        ctx: DroneContext,
        best: DronePlan,
        other: DronePlan | None,
        rng: random.Random,
        *,
        noise: float,
    ) -> tuple[str, bytes]:
        change = msgspec.structs.replace
        if fault == "":
            if noise and rng.random() < noise:  # a little slower than it could be
                best = change(best, speed_mps=round(best.speed_mps * 0.85, 1))
            return "", self.encode(best)
        if fault == "schema":
            kind = rng.choice(SCHEMA_KINDS)
            data = plan_to_builtins(best)
            if kind == "missing_field":
                del data[rng.choice(["mission_id", "drone_id", "waypoints", "speed_mps", "end"])]
            elif kind == "wrong_type":
                data["speed_mps"] = f"{best.speed_mps:g} m/s"
            elif kind == "short_waypoint":
                data["waypoints"][rng.randrange(len(data["waypoints"]))] = data["waypoints"][0][:2]
            else:
                data["priority"] = "urgent"
            return kind, json.dumps(data).encode()
        if fault == "missed_point":
            return "missed_point", self.encode(self._miss(ctx, best, rng))
        if fault == "unsafe":
            kind, plan = self._unsafe(ctx, best, rng)
            return kind, self.encode(plan)
        if fault == "slow":
            return "crawl", self.encode(change(best, speed_mps=max(0.5, best.speed_mps / 10)))
        if fault != "stale":
            raise ValueError(f"the drone writes no answer of fault {fault!r}")
        if other is not None and other.mission_id != best.mission_id:
            return "other_mission", self.encode(change(other, drone_id=best.drone_id))
        return "other_mission", self.encode(change(best, mission_id=best.mission_id + "-PREV"))

    def _miss(self, ctx: DroneContext, best: DronePlan, rng: random.Random) -> DronePlan:
        """One point's waypoint moved straight up or down out of its tolerance (the route over
        the ground is the same: only that point is missed)."""
        point = rng.choice(ctx.mission.points)
        px, py, pz = point.position_m
        low, high = self.airspace.min_alt_m, self.airspace.max_alt_m
        shift = point.tolerance_m + 5.0
        alt = pz + shift if pz + shift <= high else pz - shift
        alt = min(max(alt, low), high)
        waypoints = tuple(
            (x, y, alt) if math.dist((x, y, z), (px, py, pz)) <= point.tolerance_m else (x, y, z)
            for x, y, z in best.waypoints
        )
        return msgspec.structs.replace(best, waypoints=waypoints)

    def _unsafe(
        self, ctx: DroneContext, best: DronePlan, rng: random.Random
    ) -> tuple[str, DronePlan]:
        change = msgspec.structs.replace
        kind = rng.choice(UNSAFE_KINDS)
        if kind == "no_fly" and not self._zone_points:
            kind = "over_speed"
        if kind == "over_speed":
            fast = min(MAX_SPEED_MPS, round(ctx.drone.max_speed_mps * 1.5, 1))
            return kind, change(best, speed_mps=fast)
        i = rng.randrange(len(best.waypoints))
        x, y, z = best.waypoints[i]
        if kind == "above_band":
            high = (x, y, self.airspace.max_alt_m + 20.0)
            return kind, change(best, waypoints=(*best.waypoints[:i], high, *best.waypoints[i:]))
        zx, zy = rng.choice(self._zone_points)
        detour = (zx, zy, z)
        return kind, change(best, waypoints=(*best.waypoints[:i], detour, *best.waypoints[i:]))

    # -- execution -----------------------------------------------------------------------------

    def execute_s(self, plan: DronePlan, ctx: DroneContext) -> float:
        prev = ctx.drone.position_m
        metres = 0.0
        for wp in plan.waypoints:
            metres += math.dist(prev, wp)
            prev = wp
        visits = _visited(plan, ctx.mission.points)
        descent = max(0.0, plan.waypoints[-1][2]) / self.descent_mps
        return metres / plan.speed_mps + visits * self.hover_s + descent + self.turnaround_s

    def after(self, plan: DronePlan, ctx: DroneContext) -> str:
        return HOME  # ferried home and its battery swapped, wherever it landed

    def served(self, plan: DronePlan, task: Task[Mission], mode: FailureMode | None) -> int:
        if mode is FailureMode.STALE or plan.mission_id != task.spec.mission_id:
            return 0
        return _visited(plan, task.spec.points)

    def unsafe(self, plan: DronePlan, ctx: DroneContext) -> bool:
        """The flight sampled every 2 m (see the module docstring)."""
        drone, airspace = ctx.drone, self.airspace
        if plan.speed_mps > drone.max_speed_mps:
            return True
        visits = _visited(plan, ctx.mission.points)
        needed = self.energy.with_reserve_wh(
            self.energy.estimate_wh(drone.position_m, plan.waypoints, hover_points=visits)
        )
        if needed > drone.battery_wh:
            return True
        low, high = airspace.min_alt_m, airspace.max_alt_m
        path = [drone.position_m, *plan.waypoints]
        site = airspace.sites.get(plan.end)
        if site is not None:
            path.append((site[0], site[1], 0.0))
        last = len(path) - 2
        landing_m = airspace.landing_tolerance_m
        for n, (a, b) in enumerate(itertools.pairwise(path)):
            across = math.hypot(b[0] - a[0], b[1] - a[1])
            vertical = across == 0 or (n == last and site is not None and across <= landing_m)
            steps = max(1, math.ceil(math.dist(a, b) / _STEP_M))
            for k in range(steps + 1):
                t = k / steps
                x, y, z = (
                    a[0] + (b[0] - a[0]) * t,
                    a[1] + (b[1] - a[1]) * t,
                    a[2] + (b[2] - a[2]) * t,
                )
                if not _in_polygon((x, y), self._fence):
                    return True
                if any(_in_zone((x, y), zone) for zone in self._zones):
                    return True
                climbing_or_landing = vertical and n in (0, last)
                if not climbing_or_landing and not low <= z <= high and not (n == 0 and t == 0):
                    return True
        return False

    def read(self, text: bytes, ctx: DroneContext) -> Read[DronePlan]:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return Read("not_json", Reaction.CRASH, None)
        if not isinstance(data, dict):
            return Read("wrong_type", Reaction.CRASH, None)
        try:
            waypoints = tuple((float(w[0]), float(w[1]), float(w[2])) for w in data["waypoints"])
            plan = DronePlan(
                mission_id=str(data["mission_id"]),
                drone_id=str(data["drone_id"]),
                waypoints=waypoints,
                speed_mps=float(data["speed_mps"]),
                end=str(data["end"]),
            )
        except KeyError:
            return Read("missing_field", Reaction.CRASH, None)
        except (TypeError, ValueError, IndexError):
            return Read("wrong_type", Reaction.CRASH, None)
        if not waypoints or not plan.speed_mps > 0:
            return Read("bad_speed", Reaction.CRASH, None)
        if plan.end not in self.airspace.sites:
            return Read("unknown_end", Reaction.HALT, plan)
        return Read("plan", Reaction.EXECUTE, plan)

    def notes(self, faults: Mapping[str, float]) -> Mapping[str, str]:
        return {
            "restart": "no schema-valid drone answer halts the pilot's controller but an "
            "unknown landing site, which no fault of the drone writes"
        }


def _visited(plan: DronePlan, points: Sequence[MissionPoint]) -> int:
    """Mission points some waypoint comes within the point's tolerance of."""
    return sum(
        any(math.dist(w, p.position_m) <= p.tolerance_m for w in plan.waypoints) for p in points
    )


def _free_point(rng: random.Random, airspace: Airspace, margin_m: float) -> tuple[float, float]:
    xs = [p[0] for p in airspace.geofence]
    ys = [p[1] for p in airspace.geofence]
    for _ in range(10_000):
        p = (round(rng.uniform(min(xs), max(xs)), 1), round(rng.uniform(min(ys), max(ys)), 1))
        if airspace.obstacles.point_clear(p, airspace.clearance_m + margin_m):
            return p
    raise ConfigError(f"airspace {airspace.version}: no room {margin_m:g} m clear of everything")


def _inside(zone: PolygonZone | CircleZone) -> tuple[float, float]:
    """A point well inside a no-fly zone: a circle's centre, a polygon's vertex mean (the
    polygons of an airspace are convex enough for it; checked)."""
    if isinstance(zone, CircleZone):
        return (float(zone.center[0]), float(zone.center[1]))
    xs = [p[0] for p in zone.polygon]
    ys = [p[1] for p in zone.polygon]
    centre = (round(sum(xs) / len(xs), 1), round(sum(ys) / len(ys), 1))
    if not _in_polygon(centre, zone.polygon):
        raise ConfigError(f"no-fly zone {zone.zone_id}: its vertex mean is outside it")
    return centre


def _in_polygon(p: tuple[float, float], polygon: Sequence[tuple[float, float]]) -> bool:
    """Ray casting (the checker's own geometry, not the rules')."""
    x, y = p
    inside = False
    for (x0, y0), (x1, y1) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        if (y0 > y) != (y1 > y) and x < (x1 - x0) * (y - y0) / (y1 - y0) + x0:
            inside = not inside
    return inside


def _in_zone(p: tuple[float, float], zone: PolygonZone | CircleZone) -> bool:
    if isinstance(zone, CircleZone):
        return math.dist(p, zone.center) < zone.radius_m
    return _in_polygon(p, zone.polygon)
