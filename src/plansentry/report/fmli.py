"""The Failure-Mode-Latency-Impact matrix and the summary of a simulation, as one JSON document.

This is the document ``plansentry simulate --json`` prints (and the HTML report renders). Its shape:

- ``config``: the scenario, with the calibration (seconds per cell at full speed);
- ``unguarded``, ``guarded``, ``oracle``: one summary per controller (:func:`controller_summary`);
- ``risk_reduction``: unguarded ``halt_rate`` over guarded ``halt_rate`` (``"inf"`` where guarded
  has no halt, ``null`` where neither has);
- ``fmli``: one row per failure mode seen (:func:`fmli_rows`);
- ``budget_sweep``: one row per guard budget, when a sweep was asked for;
- ``guarded_distributions``: what the HTML report draws (latency and arrival histograms, time in
  each state, state changes, the first replication's state timeline).

Rates carry a 95 % Wilson score interval; percentiles are nearest-rank. Every figure is computed
from the run's tallies, so the same seed gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from plansentry.core.failures import DEFAULT_BUCKETS, FailureMode
from plansentry.sim.fleet import (
    LATENCY_BIN_MS,
    SLACK_BIN_MS,
    ModeTally,
    SimConfig,
    SimRun,
    Tally,
    budgets_of,
)

_Z95 = 1.959963984540054


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    denom = 1 + _Z95**2 / trials
    centre = (p + _Z95**2 / (2 * trials)) / denom
    half = _Z95 * math.sqrt(p * (1 - p) / trials + _Z95**2 / (4 * trials**2)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == trials else min(1.0, centre + half)
    return (lo, hi)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in [0, 1]) of unsorted values; ``None`` if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def controller_summary(t: Tally, run: SimRun) -> dict[str, Any]:
    """Throughput, downtime, halts, safety and money of one controller."""
    cfg = run.config
    robot_h = t.robot_s / 3600
    per_robot = t.items / robot_h if robot_h else 0.0
    downtime_cost = t.downtime_s / 3600 * cfg.downtime_cost_per_hour
    out: dict[str, Any] = {
        "cycles": t.cycles,
        "orders_completed": t.orders_done,
        "items": t.items,
        "items_per_hour": _r(per_robot * cfg.robots, 1),
        "items_per_robot_hour": _r(per_robot, 2),
        "cycle_s_per_item_p50": _r(percentile(t.cycle_s_per_item, 0.5)),
        "cycle_s_per_item_p99": _r(percentile(t.cycle_s_per_item, 0.99)),
        "robot_hours": _r(robot_h, 3),
        "downtime_s": _r(t.downtime_s, 1),
        "downtime_fraction": _r(t.downtime_s / t.robot_s if t.robot_s else 0.0, 6),
        "halts": t.halts,
        "halted_cycles": t.halted_cycles,
        "halt_rate": _r(t.halted_cycles / t.cycles if t.cycles else 0.0, 6),
        "model_halts": t.model_halts,
        "unsafe_executed": t.unsafe_executed,
        "lost_orders": t.lost_orders,
        "items_lost": t.items_lost,
        "requeued": t.requeued,
        "model_calls": t.calls,
        "sources": dict(sorted(t.sources.items())),
        "money": {
            "items_value": _r(t.items * cfg.item_value, 2),
            "downtime_cost": _r(downtime_cost, 2),
            "net": _r(t.items * cfg.item_value - downtime_cost, 2),
        },
    }
    return out


def guarded_extras(t: Tally) -> dict[str, Any]:
    model = t.sources.get("llm", 0) + t.sources.get("repaired", 0)
    fallback = t.cycles - model - t.safe_moves
    return {
        "model_plan_rate": _r(model / t.cycles if t.cycles else 0.0, 6),
        "fallback_rate": _r(fallback / t.cycles if t.cycles else 0.0, 6),
        "safe_moves": t.safe_moves,
        "late_decisions": t.late,
    }


def histogram_json(bin_ms: int, counts: Mapping[int, int]) -> dict[str, Any]:
    """A fixed-bin histogram as JSON: the bin width, and ``[low_ms, count]`` per non-empty bin."""
    return {"bin_ms": bin_ms, "bins": [[k * bin_ms, n] for k, n in sorted(counts.items())]}


def distributions(t: Tally) -> dict[str, Any]:
    """What the report draws for the guarded controller: histograms (``[low_ms, count]`` per bin,
    the last bin open-ended), seconds per state, state changes and the first state timeline."""
    return {
        "latency_histogram": histogram_json(LATENCY_BIN_MS, t.latency_bins),
        "arrival_vs_decision_point_histogram": histogram_json(SLACK_BIN_MS, t.slack_bins),
        "state_seconds": {k: round(v, 1) for k, v in sorted(t.state_s.items())},
        "transitions": dict(sorted(t.transitions.items())),
        "timeline": [[ts, state] for ts, state in t.timeline],
    }


def fmli_rows(run: SimRun) -> list[dict[str, Any]]:
    """One row per failure mode: how often (guarded's requests), how fast the guard acted, how it
    mitigated, the risk bucket, and the impact unguarded against guarded."""
    g = run.tallies.get("guarded", Tally())
    u = run.tallies.get("unguarded", Tally())
    cfg = run.config
    rows = []
    for mode in FailureMode:
        gr, ur = g.modes.get(mode.value), u.modes.get(mode.value)
        if gr is None and ur is None:
            continue
        # Rates are of the guarded controller's requests; a mode only the unguarded controller met
        # (it asks again after each restart) is rated on its own requests.
        source, calls = (gr, g.calls) if gr is not None else (ur, u.calls)
        count = source.count if source is not None else 0
        lo, hi = wilson(count, calls)
        detect = gr.detect_ms if gr is not None else []

        rows.append(
            {
                "failure_mode": mode.value,
                "bucket": DEFAULT_BUCKETS[mode].value,
                "count": count,
                "count_unguarded": ur.count if ur is not None else 0,
                "rate": _r(count / calls if calls else 0.0, 6),
                "rate_ci95": [_r(lo, 6), _r(hi, 6)],
                "detect_ms_p50": _r(percentile(detect, 0.5), 3),
                "detect_ms_p99": _r(percentile(detect, 0.99), 3),
                "mitigation": dict(sorted(gr.mitigation.items())) if gr is not None else {},
                "unguarded_response": dict(sorted(ur.mitigation.items())) if ur else {},
                "halts_unguarded": ur.halts if ur is not None else 0,
                "halts_guarded": gr.halts if gr is not None else 0,
                "downtime_s_unguarded": _r(ur.downtime_s if ur is not None else 0.0, 1),
                "downtime_s_guarded": _r(gr.downtime_s if gr is not None else 0.0, 1),
                "unsafe_unguarded": ur.unsafe if ur is not None else 0,
                "unsafe_guarded": gr.unsafe if gr is not None else 0,
                "items_lost_unguarded": ur.items_lost if ur is not None else 0,
                "items_lost_guarded": gr.items_lost if gr is not None else 0,
                "requeued_guarded": gr.requeued if gr is not None else 0,
                "money_unguarded": _money(ur, cfg),
                "money_guarded": _money(gr, cfg),
            }
        )
    return rows


def _money(row: ModeTally | None, cfg: SimConfig) -> float | None:
    """What a mode cost: its downtime at the hourly rate plus the value of the items it lost."""
    if row is None:
        return 0.0
    cost = row.downtime_s / 3600 * cfg.downtime_cost_per_hour
    return _r(cost + row.items_lost * cfg.item_value, 2)


def risk_reduction(unguarded: Tally, guarded: Tally) -> float | str | None:
    """Unguarded halt rate over guarded halt rate: a number, ``"inf"``, or ``None`` (no halts)."""
    if not unguarded.cycles or not guarded.cycles:
        return None
    u = unguarded.halted_cycles / unguarded.cycles
    g = guarded.halted_cycles / guarded.cycles
    if g == 0:
        return "inf" if u > 0 else None
    return round(u / g, 2)


def simulation_report(run: SimRun) -> dict[str, Any]:
    """The whole ``simulate --json`` document."""
    cfg = run.config
    doc: dict[str, Any] = {
        "config": {**cfg.to_json(), "travel_s_per_cell": round(run.travel_s_per_cell, 6)},
    }
    for name in ("unguarded", "guarded", "oracle"):
        t = run.tallies.get(name)
        if t is not None:
            doc[name] = controller_summary(t, run)
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
    doc["fmli"] = fmli_rows(run)
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
        summary = controller_summary(t, run)
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
        gs = {**controller_summary(g, run), **guarded_extras(g)}
        us = controller_summary(u, run)
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
            "oracle": {"items_per_hour": controller_summary(o, run)["items_per_hour"]},
            "risk_reduction": risk_reduction(u, g),
            "rarest": None,
            "fmli": fmli_rows(run),
        }
        if rarest is not None:
            name, rate = rarest
            n = g.calls if name != "unguarded_halt" else u.cycles
            rlo, rhi = wilson(round(rate * n), n)
            row["rarest"] = {"rate_of": name, "rate": _r(rate, 8), "ci95": [_r(rlo, 8), _r(rhi, 8)]}
        grid.append(row)
    return {"kind": "sweep", "engine": engine, "seed": seed, "ci_rel": ci_rel, "grid": grid}
