"""The rware robot's world for plansentry's fleet simulator (``plansentry simulate --domain rware``).

A synthetic model of one robot's fetches on an rware floor, stated as assumptions (nothing here
steps rware: :mod:`plansentry_rware.execution` does that, outside the simulator):

- **A task** is one fetch: a scene on the kit's floor (``size``), drawn from the run's seed: every
  shelf at its home but up to ``displaced`` (default 4) of them (put down on another home, or
  carried away), ``others`` (default 3) other robots standing on random cells, ``requests``
  (default 2) requested standing shelves. One unit of work: one delivery.
- **The robot** stands where its last plan left it (``at``: its cell), unloaded: it puts every
  shelf down at the end of its plan. Other robots standing on its cell are not
  drawn. Where no fetch exists from there (other robots near it hold every way out), the robots
  near it are taken to have moved on: only ``blocked_p`` of the tasks are blocked, and in those
  other robots stand on every cell next to it (no plan can leave; the unaware model's plan walks
  into one of them).
- **The oracle** is the fetch planner; a good model writes its plan.
- **Execution time** from rware's step semantics (one step, ``step_s`` = 1 s by default, as the
  kit's README): each ``FORWARD`` is a step, each quarter turn (``LEFT``/``RIGHT``) a step (a
  half turn two), lifting the shelf and putting it down a step each; the robot is taken to face
  its first move already (a context has no heading: at most 2 steps more). A route's jump of
  several cells is charged as the steps between.
- **The independent checker** (:meth:`RwareWorld.unsafe`) walks the route cell by cell against
  the floor and the scene, as rware would move the robot, and knows nothing of the kit's rules:
  a cell off the floor, a loaded move into a cell where a shelf stands (rware cancels it: in a
  real warehouse, a collision), or one of the first :data:`STILL_STEPS` moves into a cell where
  another robot stands (it is still there). It lifts whatever shelf stands where the unloaded leg
  ends, as rware's ``TOGGLE_LOAD`` does. A loaded robot crossing an *empty* shelf home is safe to
  it (rware allows it) and unsafe to the kit's rules (the kit's stricter rule, by design).
- **Served**: a delivery when the shelf the robot lifts is requested and its loaded route reaches
  a goal without a move into a standing shelf (which rware would refuse).
- **The model's faults** (:data:`FAULTS`): ``schema``, ``wrong_shelf`` (``invalid``, rule
  ``shelf_requested``), ``broken_route`` (``invalid``, rule ``route_step``), ``unsafe`` (the
  unloaded leg through a robot next to it, the loaded legs cut across the storage blocks, or a
  loaded step into a shelf home next to the pickup), ``stale``, besides the simulator's own.
- **The pilot's controller** reads as the kit's pilot does (:mod:`plansentry_rware.controllers`):
  it crashes (a restart) on text it cannot parse into a plan; a plan it cannot drive (a cell not
  one step from the one before, or off the floor) halts it on the way (a restart); it drives the
  rest.
- **The fallback's time**: the fetch planner's, measured on this world's contexts
  (:data:`FALLBACK_TIME`).
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Final, final

import msgspec
from msgspec.structs import replace as revise

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
from plansentry_rware.context import Robot, RwareContext
from plansentry_rware.examples import initial_shelves, sized_layout
from plansentry_rware.faults import RwareFaults
from plansentry_rware.fetch_planner import DECLARED_WCET_MS, FetchPlanner
from plansentry_rware.layout import Cell, Layout
from plansentry_rware.rules import ROUTE_STEP, SHELF_REQUESTED
from plansentry_rware.schema import RwarePlan

#: rware's ``Direction`` values.
UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3
_HEADING: Final = {(0, -1): UP, (0, 1): DOWN, (-1, 0): LEFT, (1, 0): RIGHT}
_OPPOSITE: Final = {UP: DOWN, DOWN: UP, LEFT: RIGHT, RIGHT: LEFT}

#: The checker's own assumption: another robot stands still for this robot's first moves.
STILL_STEPS: Final = 3

FAULTS: Final = (
    "malformed",
    "schema",
    "wrong_shelf",
    "broken_route",
    "unsafe",
    "stale",
    "stall",
    "transport",
)

PROFILES: Final[Mapping[str, Mapping[str, Any]]] = MappingProxyType(
    {
        "pilot": {
            "description": "the pilot: 0.7 % malformed JSON, rare stalls",
            "faults": {"malformed": 0.007, "stall": 0.0001},
        },
        "chaos": {
            "description": "every fault at 2 % or more: every kind of bad plan, often",
            "faults": {
                "malformed": 0.03,
                "schema": 0.02,
                "wrong_shelf": 0.03,
                "broken_route": 0.03,
                "unsafe": 0.10,
                "stale": 0.02,
                "stall": 0.02,
                "transport": 0.02,
            },
            "tail_p": 0.02,
            "stall_s": 45.0,
        },
    }
)

#: The world's parameters and their defaults (see the module docstring).
PARAMS: Final[Mapping[str, float]] = {
    "others": 3,
    "requests": 2,
    "displaced": 4,
    "step_s": 1.0,
}

#: The fallback chain's time (``Guard.run_fallbacks``: the fetch planner, its plan checked) on this
#: world's contexts (tiny floor, the default parameters), as
#: ``python kits/plansentry-rware/bench/world_time.py --contexts 20000 --seed 1`` measured it on
#: this project's 2-core VM (load average 0.3), 2026-12-08: quantiles 0, 0.1, ..., 0.9 and the
#: slowest 0.1 % of the runs; none over the declared 40 ms (95 % upper end 0.000192).
_TAIL_MS: Final = (
    *(0.802, 0.805, 0.807, 0.809, 0.812, 0.815, 0.83, 0.837, 0.856, 0.871),
    *(0.891, 0.902, 0.911, 0.928, 0.956, 0.967, 0.976, 1.016, 1.07, 1.116),
)
FALLBACK_TIME: Final = FallbackTime(
    wcet_ms=DECLARED_WCET_MS,
    quantiles_ms=(0.014, 0.179, 0.206, 0.229, 0.25, 0.272, 0.295, 0.321, 0.358, 0.413),
    tail_ms=_TAIL_MS,
    samples=20000,
    over_wcet_p_high=0.000192,
)


def world_params(params: Mapping[str, Any]) -> dict[str, float]:
    """The world's parameters, defaults filled in; a :class:`ConfigError` naming a bad one."""
    out = number_params(params, PARAMS, world="rware")
    for name in ("others", "requests", "displaced"):
        v = out[name]
        low = 1 if name == "requests" else 0
        if v != int(v) or not low <= v <= 18:
            raise ConfigError(f"{name} must be an integer from {low} to 18, got {v!r}")
    if not out["step_s"] > 0:
        raise ConfigError(f"step_s must be > 0, got {out['step_s']!r}")
    return out


@final
@dataclass(frozen=True, slots=True)
class Scene:
    """A task's scene: the standing shelves, the requested ones, the other robots' cells."""

    shelves: tuple[tuple[int, Cell], ...]
    requests: tuple[int, ...]
    others: tuple[Cell, ...]
    blocked: bool


def _toward(a: Cell, b: Cell) -> Iterator[Cell]:
    """The cells a robot drives through from ``a`` to ``b``: along x, then along y (one cell
    when they are neighbours)."""
    x, y = a
    while x != b[0]:
        x += 1 if b[0] > x else -1
        yield (x, y)
    while y != b[1]:
        y += 1 if b[1] > y else -1
        yield (x, y)


@final
class RwareWorld(BaseWorld[RwarePlan, RwareContext, Scene, Cell]):
    """The rware robot's world on one floor (see the module docstring)."""

    faults = FAULTS
    profiles = PROFILES
    fault_rules = ((SHELF_REQUESTED, "wrong_shelf"), (ROUTE_STEP, "broken_route"))
    fallback_time = FALLBACK_TIME

    def __init__(self, layout: Layout, settings: WorldSettings) -> None:
        p = world_params(settings.params)
        self.layout = layout
        self.blocked_p = settings.blocked_p
        self.others = int(p["others"])
        self.requests = int(p["requests"])
        self.displaced = int(p["displaced"])
        self.step_s = p["step_s"]
        self.planner = FetchPlanner()
        self.writer = RwareFaults()
        self._shelves = initial_shelves(layout)
        self._homes = sorted(layout.shelf_homes)
        self._cells = sorted((x, y) for x in range(layout.width) for y in range(layout.height))
        self._starts = [c for c in sorted(layout.highways) if c not in layout.goals]

    # -- the work ------------------------------------------------------------------------------

    def tasks(self, rng: random.Random, prefix: str) -> Iterator[Task[Scene]]:
        for number in itertools.count(1):
            shelves = dict(self._shelves)
            for sid in rng.sample(sorted(shelves), k=rng.randint(0, self.displaced)):
                free = [h for h in self._homes if h not in shelves.values()]
                if rng.random() < 0.5 and free:
                    shelves[sid] = rng.choice(free)
                else:
                    del shelves[sid]
            standing = sorted(shelves)
            requests = tuple(sorted(rng.sample(standing, k=min(self.requests, len(standing)))))
            others = tuple(rng.sample(self._cells, k=self.others))
            blocked = rng.random() < self.blocked_p
            scene = Scene(tuple(sorted(shelves.items())), requests, others, blocked)
            yield Task(f"{prefix}-{number:06d}", 1, blocked, scene)

    def start(self, robot: int) -> Cell:
        return self._starts[(robot * 7) % len(self._starts)]

    def context(self, task: Task[Scene], robot_id: str, at: Cell) -> RwareContext:
        cell = at
        scene = task.spec
        others = {c for c in scene.others if c != cell}
        if scene.blocked:
            x, y = cell
            near = {(x + dx, y + dy) for dx, dy in _HEADING}
            others |= {c for c in near if self.layout.inside(c)}
        ctx = RwareContext(
            task_id=task.id,
            robot=Robot(robot_id, cell),
            requests=scene.requests,
            shelves=scene.shelves,
            reserved=frozenset(others),
            layout=self.layout,
        )
        if not scene.blocked and self.planner.plan(ctx).plan is None:
            ctx = replace(ctx, reserved=ctx.reserved - ctx.near_reserved())  # they moved on
        return ctx

    # -- the oracle and the model --------------------------------------------------------------

    def best(self, ctx: RwareContext) -> RwarePlan | None:
        return self.planner.plan(ctx).plan

    def best_unaware(self, ctx: RwareContext) -> RwarePlan:
        plan = self.writer.best_unaware(ctx)
        assert plan is not None, "a requested shelf always stands, and its own cell is a home"
        return plan

    def encode(self, plan: RwarePlan) -> bytes:
        return self.writer.encode(plan)

    def answer(
        self,
        fault: str,
        ctx: RwareContext,
        best: RwarePlan,
        other: RwarePlan | None,
        rng: random.Random,
        *,
        noise: float,
    ) -> tuple[str, bytes]:
        w = self.writer
        if fault in ("", "schema", "stale"):
            return w.answer(fault, ctx, best, other, rng, noise=noise)
        if fault == "wrong_shelf":
            kind, text = w.answer(fault, ctx, best, other, rng, noise=noise)
            if kind != "wrong_shelf":  # no route to one: name one anyway
                shelf = next(s for s, _c in ctx.shelves if s not in ctx.requests)
                kind, text = "wrong_shelf:named", self.encode(revise(best, shelf=shelf))
            return kind, text
        if fault == "broken_route":
            kind, text = w.answer(fault, ctx, best, other, rng, noise=noise)
            if kind == "broken_route:none":  # every leg shorter than 3 cells: skip the first
                leg = next(n for n in ("to_goal", "back", "to_shelf") if len(getattr(best, n)) > 1)
                kind = f"broken_route:{leg}"
                text = self.encode(revise(best, **{leg: getattr(best, leg)[1:]}))
            return kind, text
        if fault != "unsafe":
            raise ValueError(f"the rware world writes no answer of fault {fault!r}")
        kind, text = w.answer("collision", ctx, best, other, rng, noise=noise)
        if kind == "collision":
            return "unsafe:collision", text
        kind, text = w.answer("shortcut", ctx, best, other, rng, noise=noise)
        if kind == "shortcut":
            cut = msgspec.json.decode(text, type=RwarePlan)
            highways = self.layout.highways
            if any(c not in highways for c in (*cut.to_goal, *cut.back[:-1])):
                return "unsafe:shortcut", text
        # a loaded step into a shelf home next to the pickup, and back
        pickup = best.to_shelf[-1] if best.to_shelf else ctx.robot.position
        x, y = pickup
        homes = [
            (x + dx, y + dy) for dx, dy in _HEADING if (x + dx, y + dy) in self.layout.shelf_homes
        ]
        homes.sort(key=lambda c: (c not in ctx.shelf_at, c))  # a standing shelf first
        detour = revise(best, to_goal=(homes[0], pickup, *best.to_goal))
        return "unsafe:into_shelf", self.encode(detour)

    # -- execution -----------------------------------------------------------------------------

    def _moves(self, plan: RwarePlan, start: Cell) -> Iterator[tuple[str, Cell]]:
        """Every cell the robot drives into, with its leg, jumps driven through."""
        here = start
        for leg in ("to_shelf", "to_goal", "back"):
            for cell in getattr(plan, leg):
                for step in _toward(here, cell):
                    yield leg, step
                here = cell

    def execute_s(self, plan: RwarePlan, ctx: RwareContext) -> float:
        here, steps, heading = ctx.robot.position, 2, None  # 2: lift and put down
        for _leg, cell in self._moves(plan, here):
            want = _HEADING[(cell[0] - here[0], cell[1] - here[1])]
            if heading is not None and want != heading:
                steps += 2 if want == _OPPOSITE[heading] else 1
            heading = want
            steps += 1
            here = cell
        return steps * self.step_s

    def after(self, plan: RwarePlan, ctx: RwareContext) -> Cell:
        cells = plan.cells()
        return cells[-1] if cells else ctx.robot.position

    def served(self, plan: RwarePlan, task: Task[Scene], mode: FailureMode | None) -> int:
        scene = task.spec
        if mode is FailureMode.STALE or plan.task_id != task.id or not plan.to_goal:
            return 0
        standing = dict((cell, sid) for sid, cell in scene.shelves)
        pickup = plan.to_shelf[-1] if plan.to_shelf else dict(scene.shelves).get(plan.shelf)
        lifted = standing.pop(pickup, None) if pickup is not None else None
        if pickup is None or lifted is None or lifted not in scene.requests:
            return 0
        here = pickup
        for cell in plan.to_goal:
            if any(step in standing for step in _toward(here, cell)):
                return 0  # rware refuses the loaded move: the robot never gets there
            here = cell
        return 1 if here in self.layout.goals else 0

    def unsafe(self, plan: RwarePlan, ctx: RwareContext) -> bool:
        """The route walked cell by cell (see the module docstring)."""
        layout = self.layout
        standing = {cell for _sid, cell in ctx.shelves}
        others = ctx.reserved
        loaded = toggled = ctx.robot.carrying is not None
        here = ctx.robot.position
        for n, (leg, cell) in enumerate(self._moves(plan, here), start=1):
            if leg != "to_shelf" and not toggled:
                toggled = True  # TOGGLE_LOAD where the unloaded leg ended: lifts what stands there
                loaded = here in standing
                standing.discard(here)
            x, y = cell
            if not (0 <= x < layout.width and 0 <= y < layout.height):
                return True
            if loaded and cell in standing:
                return True
            if n <= STILL_STEPS and cell in others:
                return True
            here = cell
        return False

    def read(self, text: bytes, ctx: RwareContext) -> Read[RwarePlan]:
        try:
            plan = msgspec.convert(json.loads(text), RwarePlan)
        except (ValueError, TypeError, UnicodeDecodeError, RecursionError, msgspec.ValidationError):
            return Read("unreadable", Reaction.CRASH, None)
        here = ctx.robot.position
        for cell in plan.cells():
            if abs(cell[0] - here[0]) + abs(cell[1] - here[1]) != 1 or not self.layout.inside(cell):
                return Read("undrivable", Reaction.HALT, plan)
            here = cell
        return Read("plan", Reaction.EXECUTE, plan)


@final
class RwareWorlds:
    """The kit's world factory (``DomainKit.world``): the rware world on the kit's floor."""

    profiles = PROFILES

    def __init__(self, size: str) -> None:
        self.size = size

    def __call__(self, settings: WorldSettings) -> RwareWorld:
        return RwareWorld(sized_layout(self.size), settings)
