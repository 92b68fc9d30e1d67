"""``plansentry simulate``: the fleet simulation of any kit with a world, a progress bar, the FMLI
matrix as a table or JSON.

``--domain NAME`` (default ``warehouse``) names the kit; ``--param KEY=VALUE`` builds it (as
``check`` does) and ``--world KEY=VALUE`` sets its world's own parameters (the warehouse's:
``handling_s``, ``target_s_per_item``, ``closure_p``). :func:`add_scenario_arguments` and
:func:`scenario_kit` are what ``sweep`` and ``fit`` share.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from plansentry.cli.common import key_values, progress_bar
from plansentry.core.errors import ConfigError
from plansentry.report.stats import percent
from plansentry.sim.config import CONTROLLERS, DEFAULT_DOMAIN, SimConfig, SimConfigError
from plansentry.sim.engine import simulate
from plansentry.sim.profiles import Profile, ProfileError, load_profile
from plansentry.sim.report import simulation_report
from plansentry.sim.scene import profiles_of


def add_scenario_arguments(s: argparse.ArgumentParser) -> None:
    """The kit and its world: ``--domain``, ``--param``, ``--world`` (and the warehouse's
    ``--map`` and ``--closure-p``, which say ``--param map=`` and ``--world closure_p=``)."""
    s.add_argument(
        "--domain",
        default=DEFAULT_DOMAIN,
        help=f"the installed kit whose world runs ({DEFAULT_DOMAIN}); it must have a world",
    )
    s.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="a parameter of the kit (the warehouse: map=PATH); repeatable",
    )
    s.add_argument(
        "--world",
        action="append",
        metavar="KEY=VALUE",
        help="a parameter of the kit's world (the warehouse: handling_s, target_s_per_item, "
        "closure_p); repeatable",
    )
    s.add_argument("--map", metavar="PATH", help=argparse.SUPPRESS)  # = --param map=PATH
    s.add_argument("--closure-p", type=float, help=argparse.SUPPRESS)  # = --world closure_p=P


def scenario_kit(args: argparse.Namespace) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(domain, kit_params, world_params)`` from :func:`add_scenario_arguments`' flags."""
    params: dict[str, Any] = key_values(args.param, "--param")
    if args.map:
        params["map"] = args.map
    world: dict[str, Any] = key_values(args.world, "--world")
    if args.closure_p is not None:
        world["closure_p"] = args.closure_p
    return args.domain, params, world


def resolve_profile(name_or_path: str, domain: str, kit_params: dict[str, Any]) -> Profile:
    """A built-in profile of ``domain``'s world by name, or a YAML file."""
    return load_profile(name_or_path, profiles_of(domain, kit_params))


def add_arguments(s: argparse.ArgumentParser) -> None:
    add_scenario_arguments(s)
    s.add_argument(
        "--profile",
        default="pilot",
        help="a built-in fault profile of the kit's world (the warehouse: pilot, chaos, outage, "
        "clean) or a YAML file (default pilot)",
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
    s.add_argument("--repair", action="store_true", help="enable the gate's repair step")
    s.add_argument(
        "--judge-all-plans",
        action="store_true",
        help="judge even clean model plans with the world's independent checker (slower)",
    )
    s.add_argument("--restart-s", type=float, default=12.0, help="mean restart after a halt")
    d = SimConfig.__dataclass_fields__
    s.add_argument(
        "--no-plan-ahead",
        dest="plan_ahead",
        action="store_false",
        help="ask the model at each decision point, not while the previous task executes",
    )
    s.add_argument(
        "--blocked-order-p",
        type=float,
        default=d["blocked_order_p"].default,
        help="share of tasks no plan can serve (0.0003)",
    )
    s.add_argument(
        "--fallback-overrun-p",
        type=float,
        default=None,
        help="share of fallback runs past their declared worst case "
        "(default: the upper end of the 95 %% interval of the share the kit measured)",
    )
    s.add_argument(
        "--fallback-overrun-mean-ms",
        type=float,
        default=d["fallback_overrun_mean_ms"].default,
        help="mean time an overrun adds to the declared worst case (50)",
    )
    s.add_argument(
        "--safe-stop-s", type=float, default=0.0, help="a safe move takes this long to stop (0)"
    )
    s.add_argument("--hold-s", type=float, default=1.0, help="a safe move holds this long (1)")
    s.add_argument(
        "--max-holds", type=int, default=3, help="safe moves on one task before it is unserved"
    )
    s.add_argument(
        "--order-pool",
        type=int,
        default=0,
        metavar="N",
        help="draw tasks from one pool of N per kind, planned once per process (faster; another "
        "stream of tasks than the default; 0: every task drawn afresh; worlds with pools only)",
    )
    s.add_argument(
        "--controllers",
        default=",".join(CONTROLLERS),
        help=f"controllers to run (default {','.join(CONTROLLERS)})",
    )
    s.add_argument(
        "--audit-log",
        metavar="FILE",
        help="append the guarded controller's decisions to FILE in the audit-log format "
        "(plansentry replay reads it)",
    )
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
    domain, kit_params, world_params = scenario_kit(args)
    try:
        profile = resolve_profile(args.profile, domain, kit_params)
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
            repair=args.repair,
            judge_all_plans=args.judge_all_plans,
            restart_s=args.restart_s,
            plan_ahead=args.plan_ahead,
            blocked_order_p=args.blocked_order_p,
            fallback_overrun_p=args.fallback_overrun_p,
            fallback_overrun_mean_ms=args.fallback_overrun_mean_ms,
            safe_stop_s=args.safe_stop_s,
            hold_s=args.hold_s,
            max_holds=args.max_holds,
            controllers=tuple(c.strip() for c in args.controllers.split(",") if c.strip()),
            item_value=args.item_value,
            downtime_cost_per_hour=args.downtime_cost,
            order_pool=args.order_pool,
            domain=domain,
            kit_params=kit_params,
            world_params=world_params,
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
        try:
            run = simulate(
                config,
                workers=args.workers,
                on_replication=lambda done, total: progress.update(task, completed=done),
                audit_log=args.audit_log,
            )
        except SimConfigError as exc:
            raise ConfigError(str(exc)) from None
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
        f"[bold]plansentry simulate[/]: {cfg.get('domain', DEFAULT_DOMAIN)}, "
        f"profile {cfg['profile']['name']}, {cfg['robots']} robots, "
        f"{span}, seed {cfg['seed']}, budget {cfg['budget_ms']:g} ms "
        f"({wall:.1f} s wall, {workers} worker{'s' if workers > 1 else ''})"
    )
    t = Table(title="Controllers", title_justify="left")
    cols = [
        ("items/h", "items_per_hour"),
        ("s/item p50", "cycle_s_per_item_p50"),
        ("s/item p99", "cycle_s_per_item_p99"),
        ("downtime", "downtime_fraction"),
        ("halt rate (95 % CI)", "halt_rate"),
        ("unsafe", "unsafe_executed"),
        ("lost orders", "lost_orders"),
    ]
    t.add_column("controller")
    for title, _ in cols:
        t.add_column(title, justify="right")
    for name in ("unguarded", "guarded", "pilot_guard", "oracle"):
        if name in doc:
            row = doc[name]
            t.add_row(name, *(_fmt(row[key], key, row) for _, key in cols))
    console.print(t)
    for key, label in (
        ("risk_reduction", "guarded"),
        ("pilot_guard_risk_reduction", "pilot_guard"),
    ):
        if key in doc:
            lo, hi = doc[f"{key}_ci95"]
            console.print(
                f"risk reduction (unguarded halt rate / {label}): [bold]{doc[key]}[/] "
                f"(95 % CI {lo} to {hi}"
                + (": the lower bound is the figure" if doc[key] == "inf" else "")
                + ")"
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
        detect = (
            "-" if r["detect_ms_p50"] is None else f"{r['detect_ms_p50']:g}/{r['detect_ms_p99']:g}"
        )
        m.add_row(
            r["failure_mode"],
            r["bucket"],
            str(r["count"]),
            percent(r["rate"], r["rate_ci95"]),
            detect,
            ", ".join(f"{k} {v}" for k, v in r["mitigation"].items()) or "-",
            f"{r['halts_unguarded']}/{r['halts_guarded']}",
            f"{r['downtime_s_unguarded']:g}/{r['downtime_s_guarded']:g}",
            f"{r['unsafe_unguarded']}/{r['unsafe_guarded']}",
        )
    console.print(m)
    for name, rows in doc.get("residual", {}).items():
        r = Table(title=f"Residual causes ({name})", title_justify="left")
        for title in ("cause", "count", "rate (95 % CI)", "halts", "halt rate (95 % CI)", "note"):
            r.add_column(title, justify="left" if title in ("cause", "note") else "right")
        for row in rows:
            r.add_row(
                row["cause"],
                str(row["count"]),
                percent(row["rate"], row["rate_ci95"]),
                str(row["halts"]),
                percent(row["halt_rate"], row["halt_rate_ci95"]),
                row.get("why_not", "") if not row["can_occur"] else "",
            )
        console.print(r)
    for key, label in (("budget_sweep", "guarded"), ("budget_sweep_pilot_guard", "pilot_guard")):
        if key not in doc:
            continue
        b = Table(title=f"Budget trade-off ({label})", title_justify="left")
        for title in (
            "budget ms",
            "items/h",
            "s/item p50",
            "halt rate",
            "model plans",
            "fallbacks",
            "safe moves",
            "timeouts",
        ):
            b.add_column(title, justify="right")
        for r in doc[key]:
            b.add_row(
                f"{r['budget_ms']:g}",
                f"{r['items_per_hour']:,.0f}",
                f"{r['cycle_s_per_item_p50']}",
                percent(r["halt_rate"]),
                percent(r["model_plan_rate"]),
                percent(r["fallback_rate"]) if label == "guarded" else "-",
                percent(r["safe_move_rate"]),
                str(r["timeouts"]),
            )
        console.print(b)


def _fmt(value: Any, key: str, row: dict[str, Any]) -> str:
    if key == "halt_rate":
        return percent(value, row["halt_rate_ci95"])
    if key == "downtime_fraction":
        return percent(value)
    if key == "items_per_hour":
        return f"{value:,.0f}"
    return str(value)
