"""The ``simulate --json`` and ``sweep --json`` documents, from a run's tallies.

The shape of ``simulate --json`` (the HTML report renders it):

- ``config``: the scenario, with the calibration (seconds per cell at full speed);
- ``unguarded``, ``guarded``, ``oracle``: one summary per controller
  (:func:`~plansentry.report.fmli.controller_summary`);
- ``risk_reduction``: unguarded ``halt_rate`` over guarded ``halt_rate`` (``"inf"`` where guarded
  has no halt, ``null`` where neither has);
- ``fmli``: one row per failure mode seen (:func:`~plansentry.report.fmli.fmli_rows`);
- ``budget_sweep``: one row per guard budget, when a sweep was asked for;
- ``guarded_distributions``: what the HTML report draws.
"""

from __future__ import annotations

from typing import Any

from plansentry.core.failures import FailureMode
from plansentry.domains.warehouse.sim.config import SimConfig
from plansentry.domains.warehouse.sim.engine import SimRun, budgets_of
from plansentry.report.fmli import (
    Economics,
    controller_summary,
    distributions,
    fmli_rows,
    guarded_extras,
    risk_reduction,
)
from plansentry.report.stats import rounded as _r
from plansentry.report.stats import wilson
from plansentry.report.tally import Tally


def economics(cfg: SimConfig) -> Economics:
    return Economics(item_value=cfg.item_value, downtime_cost_per_hour=cfg.downtime_cost_per_hour)


def _summary(t: Tally, run: SimRun) -> dict[str, Any]:
    return controller_summary(t, robots=run.config.robots, money=economics(run.config))


def simulation_report(run: SimRun) -> dict[str, Any]:
    """The whole ``simulate --json`` document."""
    cfg = run.config
    doc: dict[str, Any] = {
        "config": {**cfg.to_json(), "travel_s_per_cell": round(run.travel_s_per_cell, 6)},
    }
    for name in ("unguarded", "guarded", "oracle"):
        t = run.tallies.get(name)
        if t is not None:
            doc[name] = _summary(t, run)
            if name == "guarded":
                doc[name].update(guarded_extras(t))
                doc["guarded_distributions"] = distributions(t)
    if "unguarded" in run.tallies and "guarded" in run.tallies:
        doc["risk_reduction"] = risk_reduction(run.tallies["unguarded"], run.tallies["guarded"])
    if "oracle" in run.tallies:
        best = run.tallies["oracle"]
        for name in ("unguarded", "guarded"):
            if name in doc and best.items:
                doc[name]["throughput_vs_oracle"] = _r(
                    doc[name]["items_per_hour"] / doc["oracle"]["items_per_hour"], 4
                )
    doc["fmli"] = _fmli(run)
    if cfg.sweep_budgets_ms:
        doc["budget_sweep"] = budget_sweep(run)
    return doc


def budget_sweep(run: SimRun) -> list[dict[str, Any]]:
    """Per guard budget: throughput, halt rate, fallback rate, timeouts."""
    cfg = run.config
    rows = []
    for b in sorted(budgets_of(cfg)):
        key = "guarded" if b == cfg.budget_ms else f"guarded@{b:g}"
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
                **guarded_extras(t),
                "timeouts": timeouts.count if timeouts is not None else 0,
                "downtime_fraction": summary["downtime_fraction"],
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
        lo, hi = wilson(g.halted_cycles, g.cycles)
        ulo, uhi = wilson(u.halted_cycles, u.cycles)
        row: dict[str, Any] = {
            "profile": cfg.profile.name,
            "robots": cfg.robots,
            "budget_ms": cfg.budget_ms,
            "cycles": cfg.cycles,
            "unguarded": {
                **{k: us[k] for k in ("halt_rate", "items_per_hour", "unsafe_executed")},
                "halt_rate_ci95": [_r(ulo, 8), _r(uhi, 8)],
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
                "halt_rate_ci95": [_r(lo, 8), _r(hi, 8)],
            },
            "oracle": {"items_per_hour": _summary(o, run)["items_per_hour"]},
            "risk_reduction": risk_reduction(u, g),
            "rarest": None,
            "fmli": _fmli(run),
        }
        if rarest is not None:
            name, rate = rarest
            n = g.calls if name != "unguarded_halt" else u.cycles
            rlo, rhi = wilson(round(rate * n), n)
            row["rarest"] = {"rate_of": name, "rate": _r(rate, 8), "ci95": [_r(rlo, 8), _r(rhi, 8)]}
        grid.append(row)
    return {"kind": "sweep", "engine": engine, "seed": seed, "ci_rel": ci_rel, "grid": grid}


def _fmli(run: SimRun) -> list[dict[str, Any]]:
    t = run.tallies
    return fmli_rows(t.get("guarded", Tally()), t.get("unguarded", Tally()), economics(run.config))
