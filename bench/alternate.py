"""One bench, several builds of plansentry, in alternating processes: a comparison side by side.

Each ``--build NAME=SPEC`` is a way to import plansentry: ``compiled`` (this tree, its compiled
modules), ``pure`` (this tree, ``PLANSENTRY_PURE=1``) or a path to another tree's ``src`` (a
checkout of the baseline, put first on ``PYTHONPATH``). Every round runs the bench once per build,
in turn, so all builds share the machine's noise; the bench's JSON documents are kept, and the
medians over rounds of the ``--field`` values (dotted paths into a document) printed side by side.

Usage::

    python bench/alternate.py --rounds 5 --build baseline=/tmp/base/src --build pure=pure \\
        --build compiled=compiled --field cases.valid.ratios.gate_over_floor -- bench/gate.py

The documents go to ``--out`` (one JSON file: every round's documents and the medians).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def environment(spec: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PLANSENTRY_PURE", None)
    if spec == "pure":
        env["PLANSENTRY_PURE"] = "1"
    elif spec == "compiled":
        env["PLANSENTRY_PURE"] = "0"
    else:
        src = Path(spec).resolve()
        if not (src / "plansentry" / "__init__.py").exists():
            raise SystemExit(f"alternate: {spec} is not a tree's src (no plansentry/__init__.py)")
        env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    return env


def pick(doc: Any, path: str) -> Any:
    for key in path.split("."):
        doc = doc[int(key)] if isinstance(doc, list) else doc[key]
    return doc


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", action="append", required=True, help="NAME=compiled|pure|PATH")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--field", action="append", default=[], help="dotted path into a document")
    p.add_argument("--out", type=Path, help="write every document and the medians here")
    p.add_argument("bench", nargs=argparse.REMAINDER, help="-- the bench and its arguments")
    args = p.parse_args()
    bench = [a for a in args.bench if a != "--"]
    builds = dict(b.split("=", 1) for b in args.build)
    docs: dict[str, list[Any]] = {name: [] for name in builds}
    for r in range(args.rounds):
        for name, spec in builds.items():
            t0 = time.monotonic()
            out = subprocess.run(
                [sys.executable, *bench, "--json"],
                env=environment(spec),
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode:
                raise SystemExit(f"alternate: {name}, round {r}: {out.stderr[-2000:]}")
            docs[name].append(json.loads(out.stdout))
            load = os.getloadavg()[0]
            print(f"round {r} {name}: {time.monotonic() - t0:.0f} s, load {load:.2f}", flush=True)
    medians = {
        field: {name: statistics.median(pick(d, field) for d in ds) for name, ds in docs.items()}
        for field in args.field
    }
    for field, values in medians.items():
        print(f"{field}: " + ", ".join(f"{n} {v:g}" for n, v in values.items()))
        for name, ds in docs.items():
            print(f"    {name}: {[pick(d, field) for d in ds]}")
    if args.out:
        args.out.write_text(json.dumps({"builds": builds, "medians": medians, "docs": docs}))


if __name__ == "__main__":
    main()
