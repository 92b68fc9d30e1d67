"""``plansentry sweep``: a grid of budgets x fault profiles x fleet sizes of any kit's world, locally
or on Ray (``--domain``, ``--param`` and ``--world`` as for ``simulate``)."""

from __future__ import annotations

import argparse
import json
from typing import IO

from rich.console import Console

from plansentry.cli.common import comma_list, progress_bar
from plansentry.cli.simulate import add_scenario_arguments, resolve_profile, scenario_kit
from plansentry.core.errors import ConfigError
from plansentry.report.stats import percent
from plansentry.sim.config import SimConfigError
from plansentry.sim.engine import Engine, LocalEngine
from plansentry.sim.profiles import ProfileError
from plansentry.sim.ray import RayEngine
from plansentry.sim.report import sweep_document
from plansentry.sim.sweep import SweepConfig, sweep


def add_arguments(s: argparse.ArgumentParser) -> None:
    add_scenario_arguments(s)
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
    s.add_argument(
        "--ray-address",
        help="ray engine: HOST:PORT of a running cluster (default: a local instance); a cluster "
        "with token authentication needs RAY_AUTH_MODE=token and its token (docs/RAY.md)",
    )
    s.add_argument("--json", action="store_true", help="print one JSON document")


def run(args: argparse.Namespace, out: IO[str]) -> int:
    domain, kit_params, world_params = scenario_kit(args)
    try:
        names = comma_list(args.profiles, str, "--profiles")
        config = SweepConfig(
            profiles=tuple(resolve_profile(p, domain, kit_params) for p in names),
            budgets_ms=comma_list(args.budgets, float, "--budgets"),
            robots=comma_list(args.robots, int, "--robots"),
            cycles=args.cycles,
            seed=args.seed,
            ci_rel=args.ci_rel,
            max_cycles=args.max_cycles,
            domain=domain,
            kit_params=kit_params,
            world_params=world_params,
        )
        if args.ray_address and args.engine != "ray":
            raise SimConfigError("--ray-address needs --engine ray")
        engine: Engine = (
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
        console.print(
            f"{row['profile']:>8} robots {row['robots']:>3} budget {row['budget_ms']:>6g} ms "
            f"cycles {row['cycles']:>9,}  halt rate u {percent(u['halt_rate'], u['halt_rate_ci95'])}"
            f"  g {percent(g['halt_rate'], g['halt_rate_ci95'])}"
            f"  fallbacks {percent(g['fallback_rate'])}  "
            f"items/h {g['items_per_hour']:,.0f}  risk reduction {row['risk_reduction']}"
        )
    return 0
