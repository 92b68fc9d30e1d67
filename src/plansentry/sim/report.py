"""The ``simulate --json`` and ``sweep --json`` documents, from a run's tallies.

The shape of ``simulate --json`` (the HTML report renders it):

- ``config``: the scenario, as the world lays it out, with its calibration (the warehouse's:
  seconds per cell at full speed);
- ``unguarded``, ``guarded``, ``pilot_guard``, ``oracle``: one summary per controller
  (:func:`~plansentry.report.fmli.controller_summary`, plus ``halt_rate_ci95``);
- ``risk_reduction``: unguarded ``halt_rate`` over guarded ``halt_rate`` (``"inf"`` where guarded
  has no halt, ``null`` where neither has), and ``risk_reduction_ci95``, its 95 % interval
  (:func:`~plansentry.report.stats.ratio_interval`; where guarded has no halt, ``[lower bound,
  "inf"]``: the lower bound is then the figure to quote); ``pilot_guard_risk_reduction`` and its
  interval, the same for the pilot's guard;
- ``fmli``: one row per failure mode seen (:func:`~plansentry.report.fmli.fmli_rows`);
- ``residual``: per guard, one row per residual cause (what still halts, delays or slows a robot
  although the guard works; :data:`~.controllers.CAUSES`), each with its count, rate and halt rate
  with 95 % intervals, and whether the run's configuration and world let it occur at all
  (``can_occur``, with the reason when it cannot);
- ``pilot_guard_fmli``: the pilot's guard's rows by failure mode (what it refused, what it
  executed);
- ``budget_sweep`` (and ``budget_sweep_pilot_guard``): one row per budget, when a sweep was asked;
- ``guarded_distributions``: what the HTML report draws.
"""

from __future__ import annotations

import math
from typing import Any

from plansentry.core.failures import DEFAULT_BUCKETS, FailureMode
from plansentry.report.fmli import (
    Economics,
    controller_summary,
    distributions,
    fmli_rows,
    guarded_extras,
    risk_reduction,
)
from plansentry.report.stats import ratio_interval, wilson
from plansentry.report.stats import rounded as _r
from plansentry.report.tally import Tally
from plansentry.sim.config import SimConfig
from plansentry.sim.controllers import CAUSE_PREFIX, CAUSES
from plansentry.sim.engine import SimRun, budgets_of

#: The controllers of a document, in the order they are shown.
SHOWN = ("unguarded", "guarded", "pilot_guard", "oracle")


def economics(cfg: SimConfig) -> Economics:
    return Economics(item_value=cfg.item_value, downtime_cost_per_hour=cfg.downtime_cost_per_hour)


def _summary(t: Tally, run: SimRun) -> dict[str, Any]:
    out = controller_summary(t, robots=run.config.robots, money=economics(run.config))
    lo, hi = wilson(t.halted_cycles, t.cycles)
    out["halt_rate_ci95"] = [_r(lo, 8), _r(hi, 8)]
    return out


def _ratio_ci(unguarded: Tally, guarded: Tally) -> list[float | str | None]:
    lo, hi = ratio_interval(
        unguarded.halted_cycles, unguarded.cycles, guarded.halted_cycles, guarded.cycles
    )
    return [_r(lo, 2), "inf" if math.isinf(hi) else _r(hi, 2)]


def simulation_report(run: SimRun) -> dict[str, Any]:
    """The whole ``simulate --json`` document."""
    cfg = run.config
    doc: dict[str, Any] = {"config": run.document_config}
    tallies = run.tallies
    for name in SHOWN:
        t = tallies.get(name)
        if t is None:
            continue
        doc[name] = _summary(t, run)
        if name == "guarded":
            doc[name].update(guarded_extras(t))
            doc["guarded_distributions"] = distributions(t)
        elif name == "pilot_guard":
            doc[name]["safe_moves"] = t.safe_moves
            doc[name]["restarts"] = _cause(t, "restart").count
    if "unguarded" in tallies:
        u = tallies["unguarded"]
        if "guarded" in tallies:
            doc["risk_reduction"] = risk_reduction(u, tallies["guarded"])
            doc["risk_reduction_ci95"] = _ratio_ci(u, tallies["guarded"])
        if "pilot_guard" in tallies:
            doc["pilot_guard_risk_reduction"] = risk_reduction(u, tallies["pilot_guard"])
            doc["pilot_guard_risk_reduction_ci95"] = _ratio_ci(u, tallies["pilot_guard"])
    if "oracle" in tallies:
        best = doc["oracle"]["items_per_hour"]
        for name in ("unguarded", "guarded", "pilot_guard"):
            if name in doc and best:
                doc[name]["throughput_vs_oracle"] = _r(doc[name]["items_per_hour"] / best, 4)
    doc["fmli"] = _fmli(run)
    doc["residual"] = {
        name: residual_rows(tallies[name], run, name)
        for name in ("guarded", "pilot_guard")
        if name in tallies
    }
    if "pilot_guard" in tallies:
        doc["pilot_guard_fmli"] = pilot_guard_rows(tallies["pilot_guard"])
    if cfg.sweep_budgets_ms:
        doc["budget_sweep"] = budget_sweep(run, "guarded")
        if "pilot_guard" in tallies:
            doc["budget_sweep_pilot_guard"] = budget_sweep(run, "pilot_guard")
    return doc


def _cause(t: Tally, name: str) -> Any:
    return t.modes.get(CAUSE_PREFIX + name) or _EMPTY


class _Empty:
    count = halts = requeued = items_lost = 0
    downtime_s = 0.0
    mitigation: dict[str, int] = {}  # noqa: RUF012 - read only


_EMPTY = _Empty()

#: Causes each guard can meet at all.
_CAUSES_OF = {
    "guarded": tuple(c for c in CAUSES if c != "restart"),
    "pilot_guard": ("blocked_order", "restart"),
}


def why_not(cause: str, run: SimRun, controller: str) -> str:
    """Why ``cause`` cannot occur in ``run`` (empty if it can): the world's own note first
    (``controller:cause``, then ``cause``: :meth:`~plansentry.runtime.world.World.notes`), then
    what the run's configuration rules out."""
    cfg = run.config
    note = run.notes.get(f"{controller}:{cause}", run.notes.get(cause))
    if note is not None:
        return note
    if cause == "blocked_order":
        if not cfg.blocked_order_p:
            return "blocked_order_p is 0: every order has a plan"
        if controller == "pilot_guard":
            return (
                "the pilot's guard checks no domain rule: a blocked order's plan passes its "
                "schema and is executed, not a halt"
            )
        return ""
    if cause in ("fallback_overrun", "late_decision"):
        measured = run.fallback_measured_max_ms
        if cfg.fallback_overrun_p or measured > run.fallback_wcet_ms:
            return ""
        return (
            f"fallback_overrun_p is 0 and the measured fallback time never exceeds "
            f"{measured:g} ms: no overrun, and a decision is late only through one"
        )
    if cause == "slow_plan_accepted" and not cfg.profile.rate("slow"):
        return "the profile has no slow answers"
    return ""


def residual_rows(t: Tally, run: SimRun, controller: str) -> list[dict[str, Any]]:
    """One row per residual cause the guard ``controller`` can meet: count and rate per cycle
    (decision point), halts and halt rate, each with its 95 % Wilson interval, and downtime.
    Rows are not additive: a late decision that ends in a safe move is counted under both."""
    n = t.cycles
    rows = []
    for name in _CAUSES_OF[controller]:
        row = _cause(t, name)
        lo, hi = wilson(row.count, n)
        hlo, hhi = wilson(row.halts, n)
        reason = why_not(name, run, controller)
        out: dict[str, Any] = {
            "cause": name,
            "count": row.count,
            "rate": _r(row.count / n if n else 0.0, 8),
            "rate_ci95": [_r(lo, 8), _r(hi, 8)],
            "halts": row.halts,
            "halt_rate": _r(row.halts / n if n else 0.0, 8),
            "halt_rate_ci95": [_r(hlo, 8), _r(hhi, 8)],
            "downtime_s": _r(row.downtime_s, 1),
            "items_lost": row.items_lost,
            "can_occur": not reason,
        }
        if reason:
            out["why_not"] = reason
        if name == "slow_plan_accepted":
            out["extra_s"] = _r(row.mitigation.get("extra_ms", 0) / 1000, 1)
        rows.append(out)
    return rows


def pilot_guard_rows(t: Tally) -> list[dict[str, Any]]:
    """The pilot's guard per failure mode (as plansentry's gate calls the output): how often, and
    what it did (a safe move, a restart, an execution) with its cost."""
    rows = []
    for mode in FailureMode:
        row = t.modes.get(mode.value)
        if row is None:
            continue
        lo, hi = wilson(row.count, t.calls)
        rows.append(
            {
                "failure_mode": mode.value,
                "bucket": DEFAULT_BUCKETS[mode].value,
                "count": row.count,
                "rate": _r(row.count / t.calls if t.calls else 0.0, 6),
                "rate_ci95": [_r(lo, 6), _r(hi, 6)],
                "response": dict(sorted(row.mitigation.items())),
                "halts": row.halts,
                "downtime_s": _r(row.downtime_s, 1),
                "unsafe": row.unsafe,
                "items_lost": row.items_lost,
            }
        )
    return rows


def budget_sweep(run: SimRun, controller: str = "guarded") -> list[dict[str, Any]]:
    """Per budget, for ``controller`` (``guarded`` or ``pilot_guard``): throughput, halt rate
    (with its interval), fallback rate, timeouts."""
    cfg = run.config
    rows = []
    for b in sorted(budgets_of(cfg)):
        key = controller if b == cfg.budget_ms else f"{controller}@{b:g}"
        t = run.tallies.get(key)
        if t is None:
            continue
        summary = _summary(t, run)
        timeouts = t.modes.get(FailureMode.TIMEOUT.value)
        rows.append(
            {
                "budget_ms": b,
                "items_per_hour": summary["items_per_hour"],
                "halt_rate": summary["halt_rate"],
                "halt_rate_ci95": summary["halt_rate_ci95"],
                **guarded_extras(t),
                "safe_move_rate": _r(t.safe_moves / t.cycles if t.cycles else 0.0, 6),
                "timeouts": timeouts.count if timeouts is not None else 0,
                "downtime_fraction": summary["downtime_fraction"],
                "cycle_s_per_item_p50": summary["cycle_s_per_item_p50"],
                "cycle_s_per_item_p99": summary["cycle_s_per_item_p99"],
            }
        )
    return rows


def sweep_document(
    runs: list[tuple[SimRun, tuple[str, float] | None]],
    *,
    engine: str,
    seed: int,
    ci_rel: float | None,
) -> dict[str, Any]:
    """The ``sweep --json`` document: one row per grid point (the report reads it)."""
    grid = []
    for run, rarest in runs:
        cfg = run.config
        u, g, o = (run.tallies.get(k, Tally()) for k in ("unguarded", "guarded", "oracle"))
        gs = {**_summary(g, run), **guarded_extras(g)}
        us = _summary(u, run)
        row: dict[str, Any] = {
            "profile": cfg.profile.name,
            "robots": cfg.robots,
            "budget_ms": cfg.budget_ms,
            "cycles": cfg.cycles,
            "unguarded": {
                **{k: us[k] for k in ("halt_rate", "items_per_hour", "unsafe_executed")},
                "halt_rate_ci95": us["halt_rate_ci95"],
                "lost_orders": us["lost_orders"],
            },
            "guarded": {
                **{
                    k: gs[k]
                    for k in (
                        "halt_rate",
                        "model_halts",
                        "items_per_hour",
                        "unsafe_executed",
                        "lost_orders",
                        "fallback_rate",
                        "model_plan_rate",
                    )
                },
                "halt_rate_ci95": gs["halt_rate_ci95"],
            },
            "oracle": {"items_per_hour": _summary(o, run)["items_per_hour"]},
            "risk_reduction": risk_reduction(u, g),
            "risk_reduction_ci95": _ratio_ci(u, g),
            "rarest": None,
            "fmli": _fmli(run),
        }
        if "pilot_guard" in run.tallies:
            p = _summary(run.tallies["pilot_guard"], run)
            row["pilot_guard"] = {
                k: p[k]
                for k in ("halt_rate", "halt_rate_ci95", "items_per_hour", "unsafe_executed")
            }
        if rarest is not None:
            name, rate = rarest
            n = _denominator(run.tallies, name)
            rlo, rhi = wilson(round(rate * n), n)
            row["rarest"] = {"rate_of": name, "rate": _r(rate, 8), "ci95": [_r(rlo, 8), _r(rhi, 8)]}
        grid.append(row)
    return {"kind": "sweep", "engine": engine, "seed": seed, "ci_rel": ci_rel, "grid": grid}


def _denominator(tallies: dict[str, Tally], name: str) -> int:
    """What the rarest rate ``name`` is a share of (see :func:`.sweep.rarest_rate`)."""
    if name == "unguarded_halt":
        return tallies["unguarded"].cycles
    g = tallies["guarded"]
    return g.cycles if name.startswith(CAUSE_PREFIX) else g.calls


def _fmli(run: SimRun) -> list[dict[str, Any]]:
    t = run.tallies
    return fmli_rows(t.get("guarded", Tally()), t.get("unguarded", Tally()), economics(run.config))
