"""``plansentry fmli LOG...``: the Failure-Mode-Latency-Impact matrix of real decisions.

Reads audit logs (any kit), ``check`` output and ``demo --json`` documents
(:mod:`plansentry.report.decisions`), and prints the matrix as tables that fit 80 columns, or one
JSON document (``--json``, ``kind: fmli``) that ``plansentry report`` renders. The unguarded side is
the kit's counterfactual model, stated in the output; the money is the guard's uplift per quarter
for the fleet and shift pattern given (:func:`plansentry.report.fmli.quarterly_uplift`).

The tables are shared with the warehouse's ``demo``, which prints its own run's matrix with them.
"""

from __future__ import annotations

import argparse
import json
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from plansentry.cli.common import tell_unreadable
from plansentry.core.errors import ConfigError
from plansentry.report.decisions import fmli_document, read_sections, tally_sections
from plansentry.report.fmli import PILOT_CLAIM_PER_QUARTER, Economics, Fleet
from plansentry.report.stats import percent


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("logs", nargs="+", metavar="LOG", help="audit logs, check output, demo --json")
    p.add_argument("--json", action="store_true", help="print one JSON document (kind: fmli)")
    p.add_argument(
        "--hold-s",
        type=float,
        help="seconds a safe move holds the robot (default: the log's meta.safe_action_s)",
    )
    money = p.add_argument_group("money (the guard's uplift per quarter)")
    money.add_argument("--robots", type=int, default=10, help="robots in the fleet (default 10)")
    money.add_argument("--shifts-per-day", type=float, default=2.0, help="(default 2)")
    money.add_argument("--hours-per-shift", type=float, default=8.0, help="(default 8)")
    money.add_argument("--days-per-week", type=float, default=5.0, help="(default 5)")
    money.add_argument(
        "--cycle-s",
        type=float,
        default=Fleet().cycle_s,
        help="robot seconds per decision point (default %(default)s: the pilot, as simulated)",
    )
    money.add_argument(
        "--items-per-cycle",
        type=float,
        default=Fleet().items_per_cycle,
        help="items per decision point (default %(default)s: the pilot, as simulated)",
    )
    money.add_argument("--item-value", type=float, default=2.0, help="money per item (default 2)")
    money.add_argument(
        "--downtime-cost",
        type=float,
        default=120.0,
        help="money per robot-hour standing still (default 120)",
    )


def run(args: argparse.Namespace, out: IO[str]) -> int:
    fleet = Fleet(
        robots=args.robots,
        shifts_per_day=args.shifts_per_day,
        hours_per_shift=args.hours_per_shift,
        days_per_week=args.days_per_week,
        cycle_s=args.cycle_s,
        items_per_cycle=args.items_per_cycle,
    )
    if args.hold_s is not None and not args.hold_s >= 0:
        raise ConfigError(f"--hold-s must be >= 0, got {args.hold_s}")
    money = Economics(item_value=args.item_value, downtime_cost_per_hour=args.downtime_cost)
    sections = [s for path in args.logs for s in read_sections(path)]
    tallies = tally_sections(sections, hold_s=args.hold_s)
    doc = fmli_document(tallies, money=money, fleet=fleet)
    if args.json:
        out.write(json.dumps(doc, indent=2) + "\n")
    else:
        console = Console(file=out, highlight=False, width=80 if not _tty(out) else None)
        print_document(console, doc)
    return 1 if tell_unreadable("fmli", tallies.refused) else 0


def _tty(out: IO[str]) -> bool:
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def print_document(console: Console, doc: dict[str, Any]) -> None:
    """The whole ``fmli`` document as text: what was read, the matrix, both controllers, money."""
    files: dict[str, list[dict[str, Any]]] = {}
    for s in doc["sections"]:
        files.setdefault(s["path"], []).append(s)
    read = "; ".join(
        f"{path} ({parts[0]['origin']}"
        + (f", {len(parts)} guards" if len(parts) > 1 else "")
        + f", {sum(s['decisions'] for s in parts):,} decisions"
        + (
            f", budget {'/'.join(sorted({f'{b:g}' for b in budgets}))} ms"
            if (budgets := [s["budget_ms"] for s in parts if s.get("budget_ms") is not None])
            else ""
        )
        + ")"
        for path, parts in files.items()
    )
    console.print(f"[bold]plansentry fmli[/]: {read}")
    print_matrix(console, doc)
    print_money(console, doc.get("money"))
    for note in doc.get("notes", []):
        console.print(f"note: {note}")


def print_matrix(console: Console, doc: dict[str, Any]) -> None:
    """The failure modes, their impact and both controllers, each table within 80 columns."""
    for kit, summary in doc.get("counterfactual", {}).items():
        console.print(f"Unguarded ({kit}): {summary}.")
    console.print(modes_table(doc["fmli"]))
    if doc.get("unguarded") is not None:
        console.print(impact_table(doc["fmli"]))
        console.print(controllers_table(doc["guarded"], doc["unguarded"]))
    else:
        console.print(guarded_table(doc["guarded"]))
    for why, n in doc.get("not_costed", {}).items():
        console.print(f"not costed: {n} decision{'s' if n != 1 else ''}: {why}")


def modes_table(rows: list[dict[str, Any]]) -> Table:
    """Per failure mode: bucket, count, rate with its 95 % interval, detection, mitigation."""
    t = Table(title="Failure modes", title_justify="left")
    t.add_column("mode")
    t.add_column("bkt")
    t.add_column("n", justify="right")
    t.add_column("rate (95 % CI)", justify="right")
    t.add_column("detect ms p50/p99", justify="right")
    t.add_column("served by")
    for r in rows:
        lo, hi = r["rate_ci95"]
        detect = "-" if r["detect_ms_p50"] is None else _ms(r["detect_ms_p50"], r["detect_ms_p99"])
        t.add_row(
            r["failure_mode"],
            r["bucket"],
            str(r["count"]),
            percent(r["rate"], (lo, hi)) if r["count"] else "-",
            detect,
            ", ".join(f"{k} {v}" for k, v in r["mitigation"].items()) or "guard never saw",
        )
    if not rows:
        t.add_row("none", "", "0", "-", "-", "-")
    return t


def _ms(p50: float, p99: float) -> str:
    return f"{p50:.0f}/{p99:.0f}" if p50 >= 10 else f"{p50:.2g}/{p99:.2g}"


def impact_table(rows: list[dict[str, Any]]) -> Table:
    """Per failure mode, unguarded (the counterfactual) / guarded: halts, downtime, unsafe plans,
    items lost, money."""
    t = Table(title="Impact, unguarded / guarded", title_justify="left")
    t.add_column("mode")
    for title in ("n u", "halts", "downtime s", "unsafe", "items lost", "money"):
        t.add_column(title, justify="right")
    for r in rows:
        t.add_row(
            r["failure_mode"],
            str(r["count_unguarded"]),
            f"{r['halts_unguarded']} / {r['halts_guarded']}",
            f"{r['downtime_s_unguarded']:,.0f} / {r['downtime_s_guarded']:,.0f}",
            f"{r['unsafe_unguarded']} / {r['unsafe_guarded']}",
            f"{r['items_lost_unguarded']} / {r['items_lost_guarded']}",
            f"{r['money_unguarded']:,.0f} / {r['money_guarded']:,.0f}",
        )
    return t


def controllers_table(guarded: dict[str, Any], unguarded: dict[str, Any]) -> Table:
    """The same decisions with and without the guard, side by side."""
    t = Table(title="Same answers, unguarded and guarded", title_justify="left")
    t.add_column("")
    t.add_column("unguarded", justify="right")
    t.add_column("guarded", justify="right")
    for label, key, fmt in _CONTROLLER_ROWS:
        t.add_row(label, fmt(unguarded[key]), fmt(guarded[key]))
    return t


def guarded_table(guarded: dict[str, Any]) -> Table:
    t = Table(title="Guarded", title_justify="left")
    t.add_column("")
    t.add_column("guarded", justify="right")
    for label, key, fmt in _CONTROLLER_ROWS:
        t.add_row(label, fmt(guarded[key]))
    return t


_CONTROLLER_ROWS: Any = (
    ("decisions", "decisions", str),
    ("halts", "halts", str),
    ("downtime s", "downtime_s", lambda v: f"{v:,.1f}"),
    ("unsafe plans executed", "unsafe_executed", str),
    ("items lost", "items_lost", str),
    ("decisions past deadline", "late_decisions", str),
)


def print_money(console: Console, money: dict[str, Any] | None) -> None:
    """The guard's uplift per quarter, and the fleet the pilot's $3M implies under this model."""
    if money is None:
        return
    f = money["fleet"]
    console.print(
        f"Money: {f['robots']} robots, {f['shifts_per_day']:g} shifts of "
        f"{f['hours_per_shift']:g} h, {f['days_per_week']:g} days a week "
        f"({f['robot_hours_per_quarter']:,.0f} h a quarter), a decision every "
        f"{f['cycle_s']:g} s picking {f['items_per_cycle']:g} items at "
        f"{money['item_value']:g} each, standing still at {money['downtime_cost_per_hour']:g} an "
        f"hour: cost per decision {money['cost_per_decision_unguarded']:.4f} unguarded, "
        f"{money['cost_per_decision_guarded']:.4f} guarded; the guard's uplift "
        f"[bold]{money['uplift_per_quarter']:,.0f} a quarter[/]."
    )
    robots = money["robots_for_claim"]
    claim = money["claim_per_quarter"]
    label = "the pilot's claim" if claim == PILOT_CLAIM_PER_QUARTER else "the claim"
    if robots is None:
        console.print(
            f"No fleet reaches {label} of {claim:,.0f} a quarter: the guard saved nothing"
        )
    else:
        console.print(
            f"{label.capitalize()} of {claim:,.0f} a quarter implies a fleet of {robots:,} "
            f"robot{'s' if robots != 1 else ''} under this model."
        )
