"""A fleet's logs: how fast ``plansentry fmli`` and ``fit`` read many audit logs, and in how much
memory.

1. Generate: ``--decisions`` guarded decisions in ``--logs`` audit logs, one per robot's day, each
   written by ``plansentry simulate --profile pilot --robots 1 --audit-log`` with its own seed (the
   logs a fleet hands plansentry: real records, every field the guard writes). Timed, not counted
   in the figures below.
2. Read: ``plansentry fmli LOGS --json`` and ``plansentry fit LOGS -o PROFILE --json``, each in a
   fresh process, as a user runs them: wall seconds, decisions a second, the process's peak
   resident memory (``wait4``'s ``ru_maxrss``), and the seconds 10,000,000 decisions would take at
   that rate (issue 22's goal: 10,000,000 in 60 s with bounded memory).

The goal's 10,000,000 decisions are about 13 GB of logs here and take about 45 minutes to generate
(``simulate`` writes 3,800 logged decisions a second); ``--decisions`` picks the size, and the
rate and the memory per decision say how the figures scale.

Usage: ``python bench/logs.py [--json] [--decisions 200000] [--logs 20] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine

GOAL_DECISIONS = 10_000_000
GOAL_S = 60.0


def timed(argv: list[str]) -> dict[str, Any]:
    """``argv`` in a child process: its exit code, wall seconds and peak resident memory (MB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"bench/logs.py: {' '.join(argv)} failed:\n{err[-2000:]}")
    return {
        "exit": proc.returncode,
        "s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def generate(work: Path, decisions: int, logs: int) -> tuple[list[Path], float]:
    """``logs`` audit logs holding ``decisions`` in all, and the seconds it took."""
    each, extra = divmod(decisions, logs)
    paths = []
    t0 = time.perf_counter()
    for i in range(logs):
        path = work / f"robot-{i:04d}.audit.jsonl"
        cycles = each + (1 if i < extra else 0)
        argv = [sys.executable, "-m", "plansentry.cli", "simulate", "--profile", "pilot"]
        argv += ["--robots", "1", "--cycles", str(cycles), "--seed", str(i)]
        subprocess.run(
            [*argv, "--audit-log", str(path), "--json"], check=True, stdout=subprocess.DEVNULL
        )
        paths.append(path)
    return paths, time.perf_counter() - t0


def _decisions(path: Path) -> int:
    """Decision records in the log at ``path``, read a line at a time (a fleet's log is GBs)."""
    with path.open("rb") as log:
        return sum(b'"type":"decision"' in line for line in log)


def measure(decisions: int, logs: int, work: Path) -> dict[str, Any]:
    paths, gen_s = generate(work, decisions, logs)
    size = sum(p.stat().st_size for p in paths)
    logged = sum(_decisions(p) for p in paths)
    cli = [sys.executable, "-m", "plansentry.cli"]
    runs = {
        "fmli": timed([*cli, "fmli", *map(str, paths), "--json"]),
        "fit": timed([*cli, "fit", *map(str, paths), "-o", str(work / "fitted.yaml"), "--json"]),
    }
    for r in runs.values():
        r["decisions_per_s"] = round(logged / r["s"])
        r["s_for_goal"] = round(GOAL_DECISIONS / r["decisions_per_s"])
    return {
        "bench": "logs",
        "machine": machine(),
        "load_before": os.getloadavg()[0],
        "logs": logs,
        "decisions": logged,
        "bytes": size,
        "generate_s": round(gen_s, 1),
        "goal": {"decisions": GOAL_DECISIONS, "s": GOAL_S},
        "runs": runs,
    }


def human(doc: dict[str, Any]) -> str:
    lines = [
        f"{doc['decisions']:,} logged decisions in {doc['logs']} logs, {doc['bytes'] / 1e6:,.0f} MB "
        f"(generated in {doc['generate_s']} s); load {doc['load_before']:.2f}",
        f"goal: {doc['goal']['decisions']:,} decisions in {doc['goal']['s']:g} s, bounded memory",
    ]
    for name, r in doc["runs"].items():
        lines.append(
            f"{name:5} {r['s']:8.2f} s  {r['decisions_per_s']:>9,} decisions/s  "
            f"peak {r['peak_rss_mb']:,.0f} MB  "
            f"10M at this rate: {r['s_for_goal']:,} s"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--decisions", type=int, default=200_000, help="logged decisions in all")
    p.add_argument("--logs", type=int, default=20, help="audit logs (robots) they are split over")
    p.add_argument("--keep", type=Path, help="write the logs here and keep them")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.decisions < args.logs or args.logs < 1:
        raise SystemExit("bench/logs.py: --decisions must be at least --logs, and --logs >= 1")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        doc = measure(args.decisions, args.logs, args.keep)
    else:
        work = Path(tempfile.mkdtemp(prefix="plansentry-bench-logs-"))
        try:
            doc = measure(args.decisions, args.logs, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    emit(doc, args.json, human)


if __name__ == "__main__":
    main()
