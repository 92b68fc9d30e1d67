"""A synthetic model that writes real text: good plans as JSON, and the faults of a profile.

Given the best plan for a context (the world's oracle), one call draws, from the random generator
it is handed, a fault (or none), a latency and the bytes the model returns. The bytes are what a
language model would send: JSON the world writes from a good plan, broken the way models break it.
Nothing is a label the guard could read: the gate sees only the text.

What every world shares is written here (:data:`~plansentry.runtime.world.GENERIC_FAULTS`): text a
JSON parser refuses (truncated, a trailing comma, unbalanced, in prose, in a code fence), no
answer in time (``stall``), a failed call (``transport``). Every other kind, and the good answer
itself, the world writes (:meth:`~plansentry.runtime.world.World.answer`).

Draw order, fixed so a profile gives the same calls on every version: one uniform number picks
the fault (cumulative rates in the world's order), then the latency, then whatever the kind needs.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Final, final

from plansentry.runtime.world import World
from plansentry.sim.profiles import Profile

MALFORMED_KINDS: Final = ("truncated", "trailing_comma", "unbalanced", "prose", "fence")


@final
@dataclass(frozen=True, slots=True)
class ModelCall:
    """One call of the synthetic model.

    ``text`` is ``None`` when the call returns nothing (``transport``; a ``stall`` with no
    ``stall_s``). ``latency_s`` is ``None`` when it never returns. ``fault`` and ``kind`` are what was
    injected: the simulator's ground truth for accounting, never shown to the guard.
    """

    fault: str
    kind: str
    text: bytes | None
    latency_s: float | None
    error: str = ""


@final
class SyntheticModel:
    """Draws model calls for a profile in one world."""

    def __init__(self, profile: Profile, world: World[Any, Any, Any, Any]) -> None:
        self.profile = profile
        self.world = world
        # Cumulative fault rates, in the world's order, for one uniform draw per call.
        acc, table = 0.0, []
        for fault in world.faults:
            rate = profile.rate(fault)
            if rate > 0:
                acc += rate
                table.append((acc, fault))
        self._faults = tuple(table)
        self._mu = math.log(profile.median_s)

    def latency(self, rng: random.Random) -> float:
        p = self.profile
        if p.tail_p and rng.random() < p.tail_p:
            return p.tail_min_s * rng.paretovariate(p.tail_alpha)
        return rng.lognormvariate(self._mu, p.sigma)

    def call(self, ctx: Any, best: Any, other: Any | None, rng: random.Random) -> ModelCall:
        """What the model answers for ``ctx`` whose best plan is ``best`` (``other``: a plan for a
        different task, which a ``stale`` answer repeats)."""
        u = rng.random()
        fault = ""
        for edge, name in self._faults:
            if u < edge:
                fault = name
                break
        latency = self.latency(rng)
        world = self.world
        if fault == "transport":
            return ModelCall(fault, "refused", None, self.profile.transport_s, "connection refused")
        if fault == "stall":
            stall = self.profile.stall_s
            text = world.encode(best) if stall is not None else None
            return ModelCall(fault, "stall", text, stall)
        if fault == "malformed":
            kind = rng.choice(MALFORMED_KINDS)
            return ModelCall(fault, kind, malformed(world.encode(best), kind, rng), latency)
        kind, text = world.answer(fault, ctx, best, other, rng, noise=self.profile.route_noise)
        return ModelCall(fault, kind, text, latency)


def malformed(text: bytes, kind: str, rng: random.Random) -> bytes:
    """``text`` (a JSON object) broken the way ``kind`` of :data:`MALFORMED_KINDS` says."""
    if kind == "truncated":
        return text[: rng.randrange(1, len(text) - 1)]
    if kind == "trailing_comma":
        return text[:-1] + b",}"
    if kind == "unbalanced":
        return text[:-1] + b"]"
    if kind == "prose":
        return b"Here is the plan for the order:\n" + text + b"\nLet me know if you need changes."
    return b"```json\n" + text + b"\n```"
