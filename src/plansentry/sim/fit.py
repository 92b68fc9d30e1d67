"""A world's fault profile from real decisions: how what the gate saw maps onto the profile's fault
kinds, and how much of each injected fault the gate shows (``plansentry fit``; the fitting itself is
:mod:`plansentry.report.fit`).

Each world names its fault kinds (``World.faults``) and which rule of an ``invalid`` verdict shows
which kind (``World.fault_rules``: the warehouse's ``bin_exists`` is a ``hallucinated_bin``); the
rest of the mapping is every world's (:func:`mapping`, printed with every fit).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any, Final

from plansentry.core.failures import FailureMode
from plansentry.report.decisions import Answer
from plansentry.runtime.world import World
from plansentry.sim.config import SimConfig
from plansentry.sim.profiles import Profile
from plansentry.sim.scene import Scene
from plansentry.sim.synthetic import SyntheticModel

#: Synthetic outputs drawn per fault to measure the share the gate sees (:func:`detection_shares`).
DETECTION_DRAWS: Final = 1000
#: Faults the synthetic model does not write as text (they fail or delay the call).
UNWRITTEN: Final = frozenset({"stall", "transport"})


def mapping(world: World[Any, Any, Any, Any]) -> str:
    """How each thing the gate can see becomes a fault of ``world``'s profile, in words."""
    rules = "; ".join(f"invalid naming {rule} -> {kind}" for rule, kind in world.fault_rules)
    return (
        "malformed, empty and oversize output, and output the gate could use only after taking "
        "it out of a code fence or prose or repairing it (a bare JSON parser refuses it) -> "
        f"malformed; {rules + '; ' if rules else ''}a failed call -> transport; any other mode "
        "named like a profile fault (schema, unsafe, stale, ...) -> that fault. Latency: an "
        "answer that came, in time or after (a late_answer record, or a prompt re-run after the "
        "fact), gives its latency from asking and its text, judged like any other; a call the "
        "guard stopped whose answer nobody saw is censored (its latency exceeds the wait; no "
        "text, so no observation for the rates); stall -> the share of calls that never "
        "answered, beyond what the fitted latency explains of the censored ones (stall_s: "
        "never); a decision the breaker took without asking the model -> nothing. A fault the "
        "simulator injects is not always what the gate sees (a slow answer the kit's rules "
        "accept passes as a good plan): each rate is divided by the share of that fault the gate "
        "shows, measured by drawing synthetic outputs through the gate"
    )


def fault_of(answer: Answer, world: World[Any, Any, Any, Any]) -> str | None:
    """The profile fault an answer shows (:func:`mapping`): ``""`` for a good plan, ``None`` when
    no fault kind of ``world``'s profiles matches it."""
    faults = world.faults
    mode = answer.mode
    if mode is None:
        bare = answer.extraction in ("", "bare") and not answer.repaired
        return "" if bare else "malformed"
    if mode in (FailureMode.EMPTY.value, FailureMode.OVERSIZE.value):
        return "malformed" if "malformed" in faults else None
    if mode == FailureMode.INVALID.value:
        for rule, kind in world.fault_rules:
            if rule in answer.rules and kind in faults:
                return kind
    return mode if mode in faults else None


def detection_shares(
    scene: Scene, kinds: Iterable[str], *, draws: int = DETECTION_DRAWS, seed: int = 0
) -> dict[str, tuple[int, int]]:
    """For each fault of ``kinds`` the synthetic model can write, how many of ``draws`` of its
    outputs the gate shows as that fault (:func:`fault_of`): ``(seen, draws)``. Not every injected
    fault is what the gate sees (a ``slow`` detour the cycle-time rule accepts passes as a good
    plan), and a profile whose simulation reproduces a log must inject what the log saw divided
    by that share. Seeded, so the same kinds give the same shares."""
    world, gate, version = scene.world, scene.gate, scene.version
    out = {}
    for kind in kinds:
        model = SyntheticModel(Profile(name=kind, faults={kind: 1.0}), world)
        rng = random.Random(seed)
        tasks = world.tasks(random.Random(seed + 1), "D")
        seen = n = 0
        while n < draws:
            task = next(tasks)
            ctx = world.context(task, "R1", world.start(rng.randrange(8)))
            best = None if task.blocked else world.best(ctx)
            if best is None:
                continue
            call = model.call(ctx, best, None, rng)
            n += 1
            if call.text is None:
                continue
            v = gate.check(call.text, len(call.text), ctx, version(ctx))
            answer = Answer(
                call.text,
                v.mode.value if v.mode is not None else None,
                frozenset(x.rule for x in v.violations),
                bool(v.repairs),
                v.extraction or "bare",
                0,
                0,
            )
            seen += fault_of(answer, world) == kind
        out[kind] = (seen, n)
    return out


def fit_scene(domain: str, kit_params: dict[str, Any], world_params: dict[str, Any]) -> Scene:
    """The scene ``fit`` measures detection shares in: the kit's world at its defaults."""
    return Scene(
        SimConfig(
            profile=Profile(name="defaults"),
            cycles=1,
            domain=domain,
            kit_params=kit_params,
            world_params=world_params,
        )
    )
