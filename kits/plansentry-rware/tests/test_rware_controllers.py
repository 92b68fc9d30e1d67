"""The deciders side by side in rware: the guard never drives a plan its gate refused, the pilot's
controller drives whatever it can parse, and the same seed gives the same run."""

from __future__ import annotations

import pytest
from plansentry_rware.controllers import (
    ClassicalDecider,
    GuardDecider,
    PilotDecider,
    PilotGuardDecider,
)
from plansentry_rware.execution import Fleet, make_env, rware_judgement
from plansentry_rware.faults import FAULTS, PROFILES, RwareFaults

from plansentry.sim.profiles import builtin_profiles, check_faults

PROFILE = builtin_profiles(PROFILES)


def _run(decider, steps=250, seed=2):
    fleet = Fleet(make_env("tiny", robots=3, seed=seed), decider)
    fleet.run(steps)
    return fleet


def test_the_profiles_name_only_faults_this_world_writes() -> None:
    """Every built-in profile is held to FAULTS."""
    for profile in PROFILE.values():
        check_faults(profile, FAULTS, world="rware")


def test_the_guard_drives_only_plans_that_passed_or_its_fallbacks(kit) -> None:
    """Under chaos: every model plan driven passed the gate; refused ones were replaced by the
    fetch planner's plan or by stay, and rware saw no loaded robot refused by a shelf."""
    fleet = _run(GuardDecider(kit, PROFILE["chaos"], seed=1))
    model = [r for r in fleet.records if r.source == "llm"]
    assert model and all(r.verdict == "" for r in model)
    assert any(r.source == "fetch_planner" and r.verdict for r in fleet.records)
    assert fleet.counts.refused_by_shelf == 0 and fleet.counts.loaded_on_shelf == 0
    assert fleet.counts.deliveries >= 3


def test_the_pilot_drives_plans_the_gate_refuses(kit) -> None:
    """Under chaos the unguarded controller executes plans the kit's rules refused."""
    fleet = _run(PilotDecider(kit, PROFILE["chaos"], seed=1), steps=400)
    refused = [r for r in fleet.records if r.verdict]
    assert refused and {r.verdict.split(":")[0] for r in refused} <= {"invalid", "unsafe", "stale"}


def test_the_pilots_guard_stays_on_text_it_cannot_read(kit) -> None:
    """The pilot's guard never restarts: JSON or schema failures and late answers are a stay."""
    decider = PilotGuardDecider(kit, PROFILE["chaos"], seed=3)
    fleet = _run(decider)
    assert all(r.source == "pilot_guard" for r in fleet.records)
    assert decider.calls > len(fleet.records)


@pytest.mark.parametrize("make", [ClassicalDecider, "guard", "pilot"])
def test_a_run_is_reproducible_from_its_seed(kit, make) -> None:
    """Same seeds, same counts."""

    def build():
        if make == "guard":
            return GuardDecider(kit, PROFILE["chaos"], seed=9)
        if make == "pilot":
            return PilotDecider(kit, PROFILE["chaos"], seed=9)
        return make()

    assert _run(build(), steps=120).counts == _run(build(), steps=120).counts


@pytest.mark.parametrize(
    "fault", [f for f in FAULTS if f not in ("malformed", "stall", "transport")]
)
def test_every_fault_kind_is_refused_by_the_gate_where_it_can_be_written(
    kit, ctx, good_plan, fault
) -> None:
    """Each kind the world writes from a good plan fails the gate (or says it could not be written)."""
    import random

    from plansentry.core.gate import Gate

    other = good_plan.__class__(
        **{**{f: getattr(good_plan, f) for f in good_plan.__struct_fields__}, "task_id": "R1-0"}
    )
    kind, text = RwareFaults().answer(fault, ctx, good_plan, other, random.Random(0), noise=0.0)
    verdict = Gate(kit.domain).check(text, len(text), ctx, ctx.version)
    if kind.endswith(":none"):
        assert verdict.mode is None
    else:
        assert verdict.mode is not None, kind


def test_no_plan_the_guard_drove_is_judged_bad_by_rware(kit) -> None:
    """Under chaos, 4 robots, two seeds: of every plan plansentry's guard drove (the model's or
    the fetch planner's), rware's checker counts none bad; the unguarded pilot's, some."""
    guarded, unguarded = [], []
    for seed in (0, 1):
        fleet = Fleet(
            make_env("tiny", robots=4, seed=seed), GuardDecider(kit, PROFILE["chaos"], seed=seed)
        )
        fleet.run(400)
        guarded += [rware_judgement(r) for r in fleet.records]
        fleet = Fleet(
            make_env("tiny", robots=4, seed=seed), PilotDecider(kit, PROFILE["chaos"], seed=seed)
        )
        fleet.run(400)
        unguarded += [rware_judgement(r) for r in fleet.records]
    assert len(guarded) > 50 and not [j for j in guarded if j.startswith("bad")]
    assert [j for j in unguarded if j.startswith("bad")]


def test_the_guards_audit_log_of_an_rware_run_replays_exactly(kit, tmp_path) -> None:
    """Every decision of a chaos run in rware, written by the audit log through the kit's codec,
    is decided again the same from the log alone; plansentry fmli reads it."""
    import subprocess
    import sys

    from plansentry.telemetry.audit import AuditLog
    from plansentry.telemetry.replay import replay

    path = tmp_path / "rware.audit.jsonl"
    log = AuditLog(path, kit=kit, config=kit.config())
    fleet = Fleet(
        make_env("tiny", robots=3, seed=5),
        GuardDecider(kit, PROFILE["chaos"], seed=5, hooks=(log,)),
    )
    fleet.run(200)
    result = replay(path)
    assert result.decisions == sum(fleet.sources.values()) > 10
    assert result.ok, result.differences[:3]
    done = subprocess.run(
        [sys.executable, "-m", "plansentry.cli", "fmli", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
