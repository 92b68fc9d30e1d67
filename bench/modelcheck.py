"""The model check of the decider and breaker (docs/VERIFICATION.md), on every preset.

For each preset of ``plansentry.testing.modelcheck_presets``: states and transitions explored,
closure or the depth reached, the time taken, every invariant's violations (with the first
counterexample's concrete inputs), the liveness bound against the worst healthy run found, and how
often each (state, event) pair of the transition table fired.

Usage: ``python bench/modelcheck.py [--json] [--preset NAME ...] [--depth N] [--allow INVARIANT]
[--coverage-md] [--from-json DOC]`` (``--from-json``: render a document an earlier ``--json`` run
wrote, as text or as the coverage table, without running). Exit code 1 if an invariant not named
by ``--allow`` is broken.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine
from plansentry.core.fsm import TRANSITIONS, Event, State
from plansentry.testing.modelcheck import CheckResult, check
from plansentry.testing.modelcheck_presets import PRESETS


def run_one(name: str, depth: int | None, quiet: bool) -> dict[str, Any]:
    p = PRESETS[name]
    depth = depth if depth is not None else p.max_depth

    def progress(r: CheckResult, frontier: int) -> None:
        if not quiet:
            print(
                f"  {name}: depth {r.depth}, {r.states:,} states, {r.transitions:,} transitions, "
                f"next {frontier:,}, {r.seconds:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    result = check(p.config, in_flight=p.in_flight, max_depth=depth, progress=progress)
    doc = {
        "preset": name,
        "summary": p.summary,
        "in_flight": p.in_flight,
        "max_depth": depth,
        "breaker": p.config.to_json()["breaker"],
        "recover_after": p.config.recover_after,
        "max_stuck_workers": p.config.max_stuck_workers,
        **result.to_json(),
    }
    return doc


def coverage_md(docs: list[dict[str, Any]]) -> str:
    """The state-coverage table from the presets' documents: every (state, event) pair, how often
    each preset fired it if it is in the table, else whether any input fired it."""
    names = [d["preset"] for d in docs]
    lines = [
        "| state | event | table | " + " | ".join(names) + " |",
        "|" + " --- |" * (3 + len(names)),
    ]
    for s in State:
        for e in Event:
            pair = f"{s.value} {e.value}"
            target = TRANSITIONS.get((s, e))
            if target is not None:
                cells = [f"{d['coverage'][pair]:,}" for d in docs]
            else:
                cells = ["fired" if pair in d["missing_pairs_fired"] else "never" for d in docs]
            where = f"-> {target.value}" if target is not None else "not in it"
            lines.append(f"| {s.value} | {e.value} | {where} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def human(doc: dict[str, Any]) -> str:
    out = []
    for r in doc["results"]:
        reach = "closure" if r["closed"] else f"depth {r['depth']}, not closed"
        live = r["liveness"]
        out.append(
            f"{r['preset']}: {r['states']:,} states, {r['transitions']:,} transitions, {reach}, "
            f"{r['seconds']:.1f} s; liveness worst {live['worst_decisions']} decisions / "
            f"{live['worst_s']:.3f} s (bound {live['bound_decisions']} / {live['bound_s']:.3f} s)"
        )
        for inv, v in r["violations"].items():
            out.append(f"  {inv}: {v['count']:,} violations; first: {v['message']}")
            out += [f"    {line}" for line in v["trace"]]
        if not r["violations"]:
            out.append("  every invariant holds")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--preset", action="append", choices=sorted(PRESETS))
    ap.add_argument("--depth", type=int, default=None, help="override the presets' depth")
    ap.add_argument("--allow", action="append", default=[], help="an invariant known broken")
    ap.add_argument("--coverage-md", action="store_true", help="print the coverage table")
    ap.add_argument("--from-json", type=Path, help="render a document --json wrote, run nothing")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args()
    if args.from_json is not None:
        doc = json.loads(args.from_json.read_text())
    else:
        docs = [run_one(name, args.depth, args.quiet) for name in args.preset or list(PRESETS)]
        doc = {"machine": machine(), "results": docs}
    if args.coverage_md:
        print(coverage_md(doc["results"]))
    else:
        emit(doc, args.json, human)
    broken = {inv for r in doc["results"] for inv in r["violations"]} - set(args.allow)
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
