"""The Failure-Mode-Latency-Impact matrix and a controller's summary, computed from tallies.

Generic over domains: whoever fills :class:`~plansentry.report.tally.Tally` objects (a domain's
simulator, a replay of an audit log) gets the same rows. A document built from them (``simulate
--json``, ``fmli --json``) carries:

- one summary per controller (:func:`controller_summary`): throughput, downtime, halts, safety,
  money;
- ``risk_reduction``: unguarded ``halt_rate`` over guarded ``halt_rate`` (:func:`risk_reduction`);
- ``fmli``: one row per failure mode seen (:func:`fmli_rows`);
- ``guarded_distributions``: what the HTML report draws (:func:`distributions`);
- ``money`` (``fmli``): the guard's uplift per quarter for a fleet and shift pattern
  (:func:`quarterly_uplift`, :class:`Fleet`).

Rates carry a 95 % Wilson score interval and percentiles are nearest-rank, both from
:mod:`plansentry.report.stats`. Every figure is computed from the tallies, so the same tallies give
the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, final

from plansentry.core.errors import ConfigError
from plansentry.core.failures import DEFAULT_BUCKETS, BucketMap, FailureMode
from plansentry.report.stats import (
    LATENCY_BIN_MS,
    SLACK_BIN_MS,
    histogram_json,
    percentile,
    wilson,
)
from plansentry.report.stats import rounded as _r
from plansentry.report.tally import ModeTally, Tally


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Economics:
    """What an item is worth and what a robot-hour standing still costs (one currency)."""

    item_value: float = 2.0
    downtime_cost_per_hour: float = 120.0


#: What the pilot said the guard was worth: about $3M a quarter (DESIGN.md, "The problem").
PILOT_CLAIM_PER_QUARTER: Final = 3_000_000.0


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Fleet:
    """A fleet and its shift pattern: what turns a cost per decision into money per quarter.

    ``cycle_s`` is the robot time one decision point serves (the plan's execution and the wait for
    the next decision) and ``items_per_cycle`` the items it picks: a robot standing still loses
    ``items_per_cycle * 3600 / cycle_s`` items an hour. The defaults are the pilot's as the
    warehouse simulator calibrates it (``simulate --profile pilot``: 6.3 s and 7.0 items per
    decision); a fleet with other work passes its own.
    """

    robots: int = 10
    shifts_per_day: float = 2.0
    hours_per_shift: float = 8.0
    days_per_week: float = 5.0
    weeks_per_quarter: float = 13.0
    cycle_s: float = 6.3
    items_per_cycle: float = 7.0

    def __post_init__(self) -> None:
        if isinstance(self.robots, bool) or not isinstance(self.robots, int) or self.robots < 1:
            raise ConfigError(f"robots must be an integer >= 1, got {self.robots!r}")
        for name in ("shifts_per_day", "hours_per_shift", "days_per_week", "weeks_per_quarter"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
        if self.shifts_per_day * self.hours_per_shift > 24 or self.days_per_week > 7:
            raise ConfigError(
                f"a day has 24 hours and a week 7 days: {self.shifts_per_day:g} shifts of "
                f"{self.hours_per_shift:g} h, {self.days_per_week:g} days a week"
            )
        if not math.isfinite(self.cycle_s) or self.cycle_s <= 0:
            raise ConfigError(f"cycle_s must be a finite number > 0, got {self.cycle_s!r}")
        if not math.isfinite(self.items_per_cycle) or self.items_per_cycle < 0:
            raise ConfigError(f"items_per_cycle must be >= 0, got {self.items_per_cycle!r}")

    @property
    def robot_hours_per_quarter(self) -> float:
        """Working hours of one robot in a quarter."""
        return (
            self.shifts_per_day * self.hours_per_shift * self.days_per_week * self.weeks_per_quarter
        )


def cost_per_decision(t: Tally, *, money: Economics, fleet: Fleet) -> float:
    """What one decision of ``t`` cost on average: its downtime, priced at the hourly downtime cost
    plus the items a standing robot does not pick, and the items its plans lost."""
    if not t.cycles:
        return 0.0
    standing = money.downtime_cost_per_hour + fleet.items_per_cycle * 3600 / fleet.cycle_s * (
        money.item_value
    )
    return (t.downtime_s / 3600 * standing + t.items_lost * money.item_value) / t.cycles


def quarterly_uplift(
    unguarded: Tally,
    guarded: Tally,
    *,
    money: Economics,
    fleet: Fleet,
    claim_per_quarter: float = PILOT_CLAIM_PER_QUARTER,
) -> dict[str, Any]:
    """The guard's uplift per quarter, as the pilot put it: unguarded minus guarded cost per
    decision (:func:`cost_per_decision`), times the decisions a robot takes in a working hour
    (``3600 / fleet.cycle_s``), times the fleet's robot-hours a quarter. Also: the fleet size at
    which the uplift reaches ``claim_per_quarter`` (the pilot's $3M) under this model (``None``
    when the guard saves nothing here).

    Works for any two tallies: the simulator's (pass ``cycle_s`` and ``items_per_cycle`` from its
    oracle: robot-seconds and items per cycle) or a log's (:mod:`plansentry.report.decisions`).
    """
    cu = cost_per_decision(unguarded, money=money, fleet=fleet)
    cg = cost_per_decision(guarded, money=money, fleet=fleet)
    per_robot_hour = (cu - cg) * 3600 / fleet.cycle_s
    per_robot_quarter = per_robot_hour * fleet.robot_hours_per_quarter
    robots = math.ceil(claim_per_quarter / per_robot_quarter) if per_robot_quarter > 0 else None
    return {
        "fleet": {
            "robots": fleet.robots,
            "shifts_per_day": fleet.shifts_per_day,
            "hours_per_shift": fleet.hours_per_shift,
            "days_per_week": fleet.days_per_week,
            "weeks_per_quarter": fleet.weeks_per_quarter,
            "robot_hours_per_quarter": _r(fleet.robot_hours_per_quarter, 1),
            "cycle_s": fleet.cycle_s,
            "items_per_cycle": fleet.items_per_cycle,
        },
        "item_value": money.item_value,
        "downtime_cost_per_hour": money.downtime_cost_per_hour,
        "cost_per_decision_unguarded": _r(cu, 6),
        "cost_per_decision_guarded": _r(cg, 6),
        "uplift_per_robot_hour": _r(per_robot_hour, 2),
        "uplift_per_quarter": _r(per_robot_quarter * fleet.robots, 0),
        "claim_per_quarter": claim_per_quarter,
        "robots_for_claim": robots,
    }


def controller_summary(t: Tally, *, robots: int, money: Economics) -> dict[str, Any]:
    """Throughput, downtime, halts, safety and money of one controller (``robots`` in the fleet)."""
    robot_h = t.robot_s / 3600
    per_robot = t.items / robot_h if robot_h else 0.0
    downtime_cost = t.downtime_s / 3600 * money.downtime_cost_per_hour
    out: dict[str, Any] = {
        "cycles": t.cycles,
        "orders_completed": t.orders_done,
        "items": t.items,
        "items_per_hour": _r(per_robot * robots, 1),
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
            "items_value": _r(t.items * money.item_value, 2),
            "downtime_cost": _r(downtime_cost, 2),
            "net": _r(t.items * money.item_value - downtime_cost, 2),
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


def fmli_rows(
    guarded: Tally,
    unguarded: Tally,
    money: Economics,
    buckets: BucketMap | None = None,
) -> list[dict[str, Any]]:
    """One row per failure mode: how often (guarded's requests), how fast the guard acted, how it
    mitigated, the risk bucket, and the impact unguarded against guarded."""
    g, u = guarded, unguarded
    bucket_of = buckets if buckets is not None else BucketMap(DEFAULT_BUCKETS)
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
                "bucket": bucket_of[mode].value,
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
                "money_unguarded": _money(ur, money),
                "money_guarded": _money(gr, money),
            }
        )
    return rows


def _money(row: ModeTally | None, money: Economics) -> float | None:
    """What a mode cost: its downtime at the hourly rate plus the value of the items it lost."""
    if row is None:
        return 0.0
    cost = row.downtime_s / 3600 * money.downtime_cost_per_hour
    return _r(cost + row.items_lost * money.item_value, 2)


def risk_reduction(unguarded: Tally, guarded: Tally) -> float | str | None:
    """Unguarded halt rate over guarded halt rate: a number, ``"inf"``, or ``None`` (no halts)."""
    if not unguarded.cycles or not guarded.cycles:
        return None
    u = unguarded.halted_cycles / unguarded.cycles
    g = guarded.halted_cycles / guarded.cycles
    if g == 0:
        return "inf" if u > 0 else None
    return round(u / g, 2)
