"""Side by side in rware, on the same seeds: the pilot's unguarded controller, the pilot's guard,
plansentry's guard and the A* planner alone, under the synthetic model's fault profiles; every
count judged by rware's checker (:class:`plansentry_rware.execution.Checker`), and the plans
where the kit's rules and rware's checker disagree, with their causes.

Deliveries are per 1,000 robot-steps, with the 95 % interval over the seeds as independent
replications (Student's t of the per-seed rates, :func:`plansentry.report.stats.replication_interval`):
a fleet's steps are correlated within a run, so the Wilson interval over robot-steps (also in the
document, ``deliveries_per_1000_ci95_steps``) is too narrow and is not the one to read.

    python kits/plansentry-rware/bench/side_by_side.py [--size tiny] [--robots 4] [--steps 1000]
        [--seeds 5] [--profiles pilot,chaos] [--audit DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from plansentry_rware import rware_kit
from plansentry_rware.controllers import (
    ClassicalDecider,
    GuardDecider,
    PilotDecider,
    PilotGuardDecider,
)
from plansentry_rware.execution import Counts, Fleet, make_env, rware_judgement
from plansentry_rware.faults import PROFILES

from plansentry.report.stats import percent, replication_interval, wilson
from plansentry.sim.profiles import builtin_profiles
from plansentry.telemetry.audit import AuditLog

CONTROLLERS = ("pilot", "pilot_guard", "plansentry", "classical")


def _decider(name: str, kit: Any, profile: Any, seed: int, hooks: tuple[Any, ...] = ()) -> Any:
    if name == "classical":
        return ClassicalDecider()
    if name == "plansentry":
        return GuardDecider(kit, profile, seed=seed, hooks=hooks)
    cls = {"pilot": PilotDecider, "pilot_guard": PilotGuardDecider}
    return cls[name](kit, profile, seed=seed)


def measure(
    size: str, robots: int, steps: int, seeds: int, profile_names: list[str], audit: str | None
) -> dict[str, Any]:
    """Every figure the script prints, as one document (the text output is made from it)."""
    kit = rware_kit()
    profiles = builtin_profiles(PROFILES)
    t0 = time.perf_counter()
    disagree: Counter[tuple[str, str, str, str, str]] = Counter()
    judged: Counter[tuple[str, str]] = Counter()
    table: list[dict[str, Any]] = []
    for pname in profile_names:
        profile = profiles[pname]
        for name in CONTROLLERS:
            total = Counts()
            restarts = 0
            refused_driven = 0
            per_seed: list[float] = []
            for seed in range(seeds):
                env = make_env(size, robots=robots, seed=seed)
                hooks: tuple[Any, ...] = ()
                if audit and name == "plansentry":
                    Path(audit).mkdir(parents=True, exist_ok=True)
                    where = Path(audit) / f"{pname}-seed{seed}.audit.jsonl"
                    where.unlink(missing_ok=True)
                    hooks = (AuditLog(where, kit=kit, config=kit.config()),)
                fleet = Fleet(env, _decider(name, kit, profile, seed, hooks))
                counts = fleet.run(steps)
                per_seed.append(1000 * counts.deliveries / counts.robot_steps)
                restarts += fleet.sources["pilot:restart"]
                for field in total.__slots__:
                    setattr(total, field, getattr(total, field) + getattr(counts, field))
                for rec in fleet.records:
                    if rec.verdict is None or rec.source not in ("llm", "pilot", "pilot_guard"):
                        continue
                    verdict = rec.verdict or "accepted"
                    rware = rware_judgement(rec)
                    if rec.verdict:
                        refused_driven += 1
                    judged[(verdict.split(":")[0], rware.split(":")[0])] += 1
                    kit_bad = verdict.split(":")[0] in ("invalid", "unsafe")
                    if verdict == "accepted" and rware.startswith(("bad", "blocked")):
                        disagree[
                            ("kit accepts, rware counts bad", name, verdict, rec.kind, rware)
                        ] += 1
                    elif kit_bad and rware == "good":
                        disagree[
                            ("kit refuses, rware counts good", name, verdict, rec.kind, rware)
                        ] += 1
            lo, hi = wilson(total.deliveries, total.robot_steps)
            seeds_ci = replication_interval(per_seed) if len(per_seed) > 1 else None
            table.append(
                {
                    "profile": pname,
                    "controller": name,
                    "deliveries_per_1000_robot_steps": 1000 * total.deliveries / total.robot_steps,
                    "deliveries_per_1000_per_seed": per_seed,
                    "deliveries_per_1000_ci95": list(seeds_ci) if seeds_ci else None,
                    "deliveries_per_1000_ci95_steps": [1000 * lo, 1000 * hi],
                    "counts": {f: getattr(total, f) for f in total.__slots__},
                    "restarts": restarts,
                    "refused_driven": refused_driven,
                }
            )
    rows = Counter[str]()
    for (k, _r), n in judged.items():
        rows[k] += n
    return {
        "bench": "rware-side-by-side",
        "rware": "2.0.0",
        "size": size,
        "robots": robots,
        "steps": steps,
        "seeds": seeds,
        "profiles": profile_names,
        "table": table,
        "disagreements": [
            {
                "way": way,
                "driven_by": who,
                "verdict": verdict,
                "answer": kind,
                "rware": rware,
                "plans": n,
            }
            for (way, who, verdict, kind, rware), n in sorted(
                disagree.items(), key=lambda kv: -kv[1]
            )
        ],
        "judged": [
            {
                "kit": k,
                "rware": r,
                "plans": n,
                "share": n / rows[k],
                "share_ci95": list(wilson(n, rows[k])),
            }
            for (k, r), n in sorted(judged.items())
        ],
        "seconds": time.perf_counter() - t0,
    }


def text(doc: dict[str, Any]) -> str:
    """The text output: the document's figures, as the script always printed them."""
    out = [
        f"rware {doc['rware']}, {doc['size']}, {doc['robots']} robots, {doc['steps']} steps x "
        f"seeds 0..{doc['seeds'] - 1}, 1 step = 1 s, model asked 2 s ahead\n",
        "| profile | controller | deliveries / 1,000 robot-steps (95 %, over seeds) | deliveries | "
        "refused moves (by shelf) | loaded on a shelf | stalls (20 steps) | restarts | "
        "model plans driven that the gate refuses |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in doc["table"]:
        c = row["counts"]
        ci = row["deliveries_per_1000_ci95"]
        interval = f" ({ci[0]:.1f}-{ci[1]:.1f})" if ci else " (one seed: no interval)"
        out.append(
            f"| {row['profile']} | {row['controller']} | "
            f"{row['deliveries_per_1000_robot_steps']:.1f}{interval} | "
            f"{c['deliveries']} | {c['refused_moves']} ({c['refused_by_shelf']}) | "
            f"{c['loaded_on_shelf']} | {c['stalls']} | {row['restarts']} | "
            f"{row['refused_driven']} |"
        )
    out.append(
        "\nWhere the two judges disagree (model plans driven, every profile and controller):\n"
    )
    out.append(
        "| which way | driven by | kit's verdict | the model's answer | rware's judgement | plans |"
    )
    out.append("| --- | --- | --- | --- | --- | --- |")
    for d in doc["disagreements"]:
        out.append(
            f"| {d['way']} | {d['driven_by']} | {d['verdict']} | {d['answer']} | {d['rware']} | "
            f"{d['plans']} |"
        )
    out.append("\nAll model plans driven, the kit's verdict against rware's judgement:\n")
    out.append("| kit | rware | plans | share of the kit's row |")
    out.append("| --- | --- | --- | --- |")
    for j in doc["judged"]:
        share = percent(j["share"], tuple(j["share_ci95"]))
        out.append(f"| {j['kit']} | {j['rware']} | {j['plans']} | {share} |")
    out.append(f"\n({doc['seconds']:.0f} s)")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--robots", type=int, default=4)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--profiles", default="pilot,chaos")
    parser.add_argument(
        "--audit",
        metavar="DIR",
        help="write plansentry's audit logs there (PROFILE-seedN.audit.jsonl): replay, fmli",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")
    args = parser.parse_args()
    doc = measure(
        args.size, args.robots, args.steps, args.seeds, args.profiles.split(","), args.audit
    )
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(text(doc))


if __name__ == "__main__":
    main()
