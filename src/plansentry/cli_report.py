"""``plansentry report`` (a JSON document to one HTML file) and ``plansentry sweep`` (a grid)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, Any

from rich.console import Console

from plansentry.cli_simulate import progress_bar
from plansentry.report.fmli import sweep_document
from plansentry.runtime.config import ConfigError
from plansentry.sim.fleet import LocalEngine, SimConfigError
from plansentry.sim.profiles import ProfileError, load_profile
from plansentry.sim.sweep import RayEngine, SweepConfig, sweep


def add_report_arguments(r: argparse.ArgumentParser) -> None:
    r.add_argument("run", help="a simulate, sweep or demo JSON document ('-' reads stdin)")
    r.add_argument("--out", default="report.html", help="the HTML file to write (report.html)")


def run_report_command(args: argparse.Namespace, out: IO[str]) -> int:
    try:
        from plansentry.report.html import ReportError, render
    except ImportError as exc:
        raise ConfigError(
            f"the report needs matplotlib: pip install 'plansentry[report]' ({exc})"
        ) from None
    text = sys.stdin.read() if args.run == "-" else Path(args.run).read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{args.run}: not JSON: {exc}") from None
    try:
        page = render(doc)
    except ReportError as exc:
        raise ConfigError(f"{args.run}: {exc}") from None
    Path(args.out).write_text(page, encoding="utf-8")
    out.write(f"wrote {args.out} ({len(page) / 1024:.0f} KiB)\n")
    return 0


def _list(text: str, kind: type, name: str) -> tuple[Any, ...]:
    try:
        values = tuple(kind(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"--{name} must be a comma-separated list, got {text!r}") from None
    if not values:
        raise ConfigError(f"--{name} is empty")
    return values


def add_sweep_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--budgets", default="50,150,300", help="guard budgets, ms (50,150,300)")
    s.add_argument("--profiles", default="pilot,outage", help="fault profiles (pilot,outage)")
    s.add_argument("--robots", default="4", help="fleet sizes (4)")
    s.add_argument("--cycles", type=int, default=20_000, help="cycles per grid point, first stage")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "--ci-rel",
        type=float,
        help="grow each point until the 95 %% CI of its rarest rate is within this fraction of it",
    )
    s.add_argument("--max-cycles", type=int, default=2_000_000, help="cap per grid point")
    s.add_argument("--engine", choices=("local", "ray"), default="local")
    s.add_argument("--workers", type=int, default=1, help="local engine: processes (1)")
    s.add_argument("--ray-address", help="ray engine: an existing cluster (default: a local one)")
    s.add_argument("--json", action="store_true", help="print one JSON document")


def run_sweep_command(args: argparse.Namespace, out: IO[str]) -> int:
    try:
        config = SweepConfig(
            profiles=tuple(load_profile(p) for p in _list(args.profiles, str, "profiles")),
            budgets_ms=_list(args.budgets, float, "budgets"),
            robots=_list(args.robots, int, "robots"),
            cycles=args.cycles,
            seed=args.seed,
            ci_rel=args.ci_rel,
            max_cycles=args.max_cycles,
        )
        engine: LocalEngine | RayEngine = (
            RayEngine(args.ray_address) if args.engine == "ray" else LocalEngine(args.workers)
        )
    except (SimConfigError, ProfileError) as exc:
        raise ConfigError(str(exc)) from None
    try:
        with progress_bar("sweeping") as progress:
            task = progress.add_task("sweep", total=None)
            runs = sweep(
                config,
                engine,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    finally:
        if isinstance(engine, RayEngine):
            engine.close()
    doc = sweep_document(runs, engine=engine.name, seed=args.seed, ci_rel=args.ci_rel)
    if args.json:
        out.write(json.dumps(doc, indent=2) + "\n")
        return 0
    console = Console(file=out, highlight=False)
    for row in doc["grid"]:
        g, u = row["guarded"], row["unguarded"]
        lo, hi = g["halt_rate_ci95"]
        console.print(
            f"{row['profile']:>8} robots {row['robots']:>3} budget {row['budget_ms']:>6g} ms "
            f"cycles {row['cycles']:>9,}  halt rate u {u['halt_rate']:.5%}  g {g['halt_rate']:.5%} "
            f"[{lo:.5%}, {hi:.5%}]  fallbacks {g['fallback_rate']:.3%}  "
            f"items/h {g['items_per_hour']:,.0f}  risk reduction {row['risk_reduction']}"
        )
    return 0
