"""What the synthetic model (``plansentry.sim.synthetic``) writes for an rware robot: the fault
kinds, the built-in profiles, and the text of each kind written from a good plan.

The simulator draws which fault, the latency, malformed text, stalls and failed calls itself;
the rest is here (:meth:`RwareFaults.answer`), written the way a model errs on a grid:

- ``schema``: valid JSON of the wrong shape (a leg missing, the shelf as a string);
- ``wrong_shelf``: a standing shelf nobody requested, fetched and carried to a goal;
- ``broken_route``: a cell left out of a leg, so the route jumps two cells at once;
- ``shortcut``: the loaded legs routed straight across the storage blocks (A* over every cell no
  robot holds), as a model that ignores the shelves writes them;
- ``collision``: the unloaded leg routed through a robot standing next to it;
- ``stale``: the plan of another task.

When a kind cannot be written for this context (no shortcut is shorter, no other robot is in the
way), the answer is the good plan and the kind says so (``shortcut:none``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any, Final, final

import msgspec
from msgspec.structs import replace as revise

from plansentry_rware.context import NEAR_STEPS, RwareContext
from plansentry_rware.fetch_planner import FetchPlanner
from plansentry_rware.layout import Cell
from plansentry_rware.router import astar
from plansentry_rware.schema import RwarePlan, plan_to_builtins

#: Every fault a profile may name, in the order the synthetic model draws them.
FAULTS: Final = (
    "malformed",
    "schema",
    "wrong_shelf",
    "broken_route",
    "shortcut",
    "collision",
    "stale",
    "stall",
    "transport",
)

PROFILES: Final[Mapping[str, Mapping[str, Any]]] = MappingProxyType(
    {
        "pilot": {
            "description": "the pilot: 0.7 % malformed JSON, rare stalls, median latency 0.9 s",
            "faults": {"malformed": 0.007, "stall": 0.0001},
            "stall_s": None,
        },
        "chaos": {
            "description": "every fault at 2 % or more: every kind of bad plan, often",
            "faults": {
                "malformed": 0.03,
                "schema": 0.02,
                "wrong_shelf": 0.03,
                "broken_route": 0.03,
                "shortcut": 0.05,
                "collision": 0.05,
                "stale": 0.02,
                "stall": 0.02,
                "transport": 0.02,
            },
            "tail_p": 0.02,
            "stall_s": 45.0,
        },
    }
)

_ENCODER: Final = msgspec.json.Encoder()


def _shortcut(ctx: RwareContext, plan: RwarePlan) -> RwarePlan | None:
    """``plan`` with its loaded legs routed over every cell no robot holds (shelves ignored)."""
    layout, reserved = ctx.layout, ctx.near_reserved()

    def free(c: Cell) -> bool:
        return c not in reserved

    start = plan.to_shelf[-1] if plan.to_shelf else ctx.robot.position
    to_goal = plan.to_goal
    if to_goal:
        found = astar(layout, start, (to_goal[-1],), free)
        to_goal = found if found is not None else to_goal
    end = to_goal[-1] if to_goal else start
    back = astar(layout, end, (plan.back[-1],), free) if plan.back else None
    out = revise(plan, to_goal=to_goal, back=back if back else plan.back)
    return out if out != plan else None


def _collision(ctx: RwareContext, plan: RwarePlan) -> RwarePlan | None:
    """``plan`` with its unloaded leg routed as if no other robot were there."""
    if not plan.to_shelf:
        return None
    found = astar(ctx.layout, ctx.robot.position, (plan.to_shelf[-1],), lambda c: True)
    if found is None or not set(found[:NEAR_STEPS]) & ctx.reserved:
        return None
    return revise(plan, to_shelf=found)


@final
class RwareFaults:
    """The world side of the synthetic model for rware (``faults``, ``profiles``, ``encode``,
    ``answer``: what :class:`plansentry.sim.synthetic.SyntheticModel` asks of a world)."""

    faults = FAULTS
    profiles = PROFILES

    def __init__(self) -> None:
        self._planner = FetchPlanner()

    def encode(self, plan: RwarePlan) -> bytes:
        return _ENCODER.encode(plan)

    def best(self, ctx: RwareContext) -> RwarePlan | None:
        """The oracle's plan: the fetch planner's."""
        return self._planner.plan(ctx).plan

    def best_unaware(self, ctx: RwareContext) -> RwarePlan | None:
        """What a good model writes when the fetch planner has none: the fetch planner's plan as
        if no other robot held a cell (``None`` if even that has none)."""
        return self._planner.plan(replace(ctx, reserved=frozenset())).plan

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
        if fault == "schema":
            doc = plan_to_builtins(best)
            if rng.random() < 0.5:
                del doc["back"]
                return "schema:missing_leg", _ENCODER.encode(doc)
            doc["shelf"] = str(doc["shelf"])
            return "schema:shelf_string", _ENCODER.encode(doc)
        if fault == "wrong_shelf":
            return self._wrong_shelf(ctx, best, rng)
        if fault == "broken_route":
            for leg in ("to_goal", "back", "to_shelf"):
                cells = getattr(best, leg)
                if len(cells) >= 3:
                    i = rng.randrange(0, len(cells) - 1)
                    cut = cells[:i] + cells[i + 1 :]
                    return f"broken_route:{leg}", self.encode(revise(best, **{leg: cut}))
            return "broken_route:none", self.encode(best)
        if fault == "shortcut":
            plan = _shortcut(ctx, best)
            return ("shortcut", self.encode(plan)) if plan else ("shortcut:none", self.encode(best))
        if fault == "collision":
            plan = _collision(ctx, best)
            return (
                ("collision", self.encode(plan)) if plan else ("collision:none", self.encode(best))
            )
        if fault == "stale":
            if other is not None and other.task_id != best.task_id:
                return "stale:other_task", self.encode(other)
            return "stale:renamed", self.encode(revise(best, task_id=best.task_id + "-old"))
        return "", self.encode(best)

    def _wrong_shelf(
        self, ctx: RwareContext, best: RwarePlan, rng: random.Random
    ) -> tuple[str, bytes]:
        if ctx.robot.carrying is not None:
            return "wrong_shelf:none", self.encode(best)
        unrequested = [s for s, _c in ctx.shelves if s not in ctx.requests]
        rng.shuffle(unrequested)
        for shelf in unrequested[:4]:
            fake = replace(ctx, requests=(shelf,))
            plan = self._planner.plan(fake).plan
            if plan is not None:
                return "wrong_shelf", self.encode(revise(plan, task_id=best.task_id))
        return "wrong_shelf:none", self.encode(best)
