"""``plansentry simulate``: the fleet simulation, a progress bar, the FMLI matrix as a table or JSON."""

from __future__ import annotations

import argparse
import json
import time
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from plansentry.cli.common import progress_bar
from plansentry.core.errors import ConfigError
from plansentry.domains.warehouse.sim.config import SimConfig, SimConfigError
from plansentry.domains.warehouse.sim.engine import simulate
from plansentry.domains.warehouse.sim.profiles import ProfileError, load_profile
from plansentry.domains.warehouse.sim.report import simulation_report


def add_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument(
        "--profile",
        default="pilot",
        help="built-in fault profile (pilot, outage, chaos, clean) or a YAML file (default pilot)",
    )
    s.add_argument("--robots", type=int, default=4, help="robots in the fleet (default 4)")
    span = s.add_mutually_exclusive_group()
    span.add_argument("--cycles", type=int, help="decision points to simulate (default 100000)")
    span.add_argument("--hours", type=float, help="simulated hours instead of --cycles")
    s.add_argument("--seed", type=int, default=0, help="seed of the run (default 0)")
    s.add_argument("--budget-ms", type=float, default=150.0, help="guard budget (default 150)")
    s.add_argument(
        "--sweep-budget",
        metavar="MS,MS,...",
        help="also run the guarded controller at each of these budgets, e.g. 50,100,150,300,500",
    )
    s.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    s.add_argument("--map", metavar="PATH", help="warehouse map (YAML); default: embedded")
    s.add_argument("--repair", action="store_true", help="enable the gate's repair step")
    s.add_argument(
        "--judge-all-plans",
        action="store_true",
        help="judge even clean model plans with the independent safety checker (slower)",
    )
    s.add_argument("--restart-s", type=float, default=12.0, help="mean restart after a halt")
    s.add_argument("--item-value", type=float, default=2.0, help="money per item (default 2)")
    s.add_argument(
        "--downtime-cost", type=float, default=120.0, help="money per robot-hour standing still"
    )
    s.add_argument("--json", action="store_true", help="print one JSON document")


def _budgets(text: str | None) -> tuple[float, ...]:
    if not text:
        return ()
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(
            f"--sweep-budget must be numbers separated by commas, got {text!r}"
        ) from None


def config_from_args(args: argparse.Namespace) -> SimConfig:
    try:
        profile = load_profile(args.profile)
        span: dict[str, Any] = (
            {"cycles": None, "hours": args.hours}
            if args.hours is not None
            else {"cycles": args.cycles if args.cycles is not None else 100_000}
        )
        return SimConfig(
            profile=profile,
            robots=args.robots,
            seed=args.seed,
            budget_ms=args.budget_ms,
            sweep_budgets_ms=_budgets(args.sweep_budget),
            map_path=args.map,
            repair=args.repair,
            judge_all_plans=args.judge_all_plans,
            restart_s=args.restart_s,
            item_value=args.item_value,
            downtime_cost_per_hour=args.downtime_cost,
            **span,
        )
    except (SimConfigError, ProfileError) as exc:
        raise ConfigError(str(exc)) from None


def run(args: argparse.Namespace, out: IO[str]) -> int:
    config = config_from_args(args)
    if isinstance(args.workers, bool) or args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}")
    t0 = time.monotonic()
    with progress_bar("simulating") as progress:
        task = progress.add_task("sim", total=len(config.replications()))
        run = simulate(
            config,
            workers=args.workers,
            on_replication=lambda done, total: progress.update(task, completed=done),
        )
    wall = time.monotonic() - t0
    doc = simulation_report(run)
    if args.json:
        out.write(json.dumps(doc, indent=2, sort_keys=False) + "\n")
        return 0
    console = Console(file=out, highlight=False)
    if not console.is_terminal:
        console.width = 150  # a log or a pipe: room for the whole matrix
    _print(console, doc, wall, args.workers)
    return 0


def _print(console: Console, doc: dict[str, Any], wall: float, workers: int) -> None:
    cfg = doc["config"]
    span = f"{cfg['cycles']} cycles" if cfg["cycles"] is not None else f"{cfg['hours']} h"
    console.print(
        f"[bold]plansentry simulate[/]: profile {cfg['profile']['name']}, {cfg['robots']} robots, "
        f"{span}, seed {cfg['seed']}, budget {cfg['budget_ms']:g} ms "
        f"({wall:.1f} s wall, {workers} worker{'s' if workers > 1 else ''})"
    )
    t = Table(title="Controllers", title_justify="left")
    cols = [
        ("items/h", "items_per_hour"),
        ("s/item p50", "cycle_s_per_item_p50"),
        ("s/item p99", "cycle_s_per_item_p99"),
        ("downtime", "downtime_fraction"),
        ("halt rate", "halt_rate"),
        ("unsafe", "unsafe_executed"),
        ("lost orders", "lost_orders"),
    ]
    t.add_column("controller")
    for title, _ in cols:
        t.add_column(title, justify="right")
    for name in ("unguarded", "guarded", "oracle"):
        if name in doc:
            row = doc[name]
            t.add_row(name, *(_fmt(row[key], key) for _, key in cols))
    console.print(t)
    if "risk_reduction" in doc:
        console.print(
            f"risk reduction (unguarded halt rate / guarded): [bold]{doc['risk_reduction']}[/]"
        )
    m = Table(title="FMLI matrix", title_justify="left")
    for title in (
        "failure mode",
        "bucket",
        "count",
        "rate (95 % CI)",
        "detect p50/p99 ms",
        "mitigation",
        "halts u/g",
        "downtime s u/g",
        "unsafe u/g",
    ):
        m.add_column(title, justify="left" if title in ("failure mode", "mitigation") else "right")
    for r in doc["fmli"]:
        lo, hi = r["rate_ci95"]
        detect = (
            "-" if r["detect_ms_p50"] is None else f"{r['detect_ms_p50']:g}/{r['detect_ms_p99']:g}"
        )
        m.add_row(
            r["failure_mode"],
            r["bucket"],
            str(r["count"]),
            f"{r['rate'] * 100:.3f} % ({lo * 100:.3f}-{hi * 100:.3f})",
            detect,
            ", ".join(f"{k} {v}" for k, v in r["mitigation"].items()) or "-",
            f"{r['halts_unguarded']}/{r['halts_guarded']}",
            f"{r['downtime_s_unguarded']:g}/{r['downtime_s_guarded']:g}",
            f"{r['unsafe_unguarded']}/{r['unsafe_guarded']}",
        )
    console.print(m)
    if "budget_sweep" in doc:
        b = Table(title="Budget trade-off (guarded)", title_justify="left")
        for title in ("budget ms", "items/h", "halt rate", "model plans", "fallbacks", "timeouts"):
            b.add_column(title, justify="right")
        for r in doc["budget_sweep"]:
            b.add_row(
                f"{r['budget_ms']:g}",
                f"{r['items_per_hour']:,.0f}",
                f"{r['halt_rate']:.4%}",
                f"{r['model_plan_rate']:.2%}",
                f"{r['fallback_rate']:.2%}",
                str(r["timeouts"]),
            )
        console.print(b)


def _fmt(value: Any, key: str) -> str:
    if key in ("downtime_fraction", "halt_rate"):
        return f"{value:.3%}"
    if key == "items_per_hour":
        return f"{value:,.0f}"
    return str(value)
