"""Sweeps: a grid of budgets x fault profiles x fleet sizes, sized for the rarest rate, on an engine.

Each grid point is a :class:`~plansentry.sim.config.SimConfig` of one kit's world; its replications
are the units of work. An engine runs units anywhere (``local``: processes on this machine;
``ray``: a Ray cluster, an existing one by address or a local one) and hands their tallies back in
unit order, so the figures are the same on every engine, for any number of workers.

Sample size: the first stage runs ``cycles`` per grid point. If ``ci_rel`` is given, a second
stage grows each point to the cycles at which the 95 % interval of its rarest observed rate (any
FMLI row, or the unguarded halt rate) has a half-width of at most ``ci_rel`` times the rate, using
``n = z^2 (1 - p) / (ci_rel^2 p)``, capped at ``max_cycles``. The second stage only adds
replications (with new indices), so the first stage's are never re-run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, final

from plansentry.report.stats import required_trials
from plansentry.report.tally import Tally
from plansentry.sim.config import DEFAULT_DOMAIN, SimConfig, SimConfigError
from plansentry.sim.controllers import CAUSE_PREFIX
from plansentry.sim.engine import Engine, Result, SimRun, Unit, finished, merge_results
from plansentry.sim.profiles import Profile
from plansentry.sim.scene import scene_for


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SweepConfig:
    profiles: tuple[Profile, ...]
    budgets_ms: tuple[float, ...]
    robots: tuple[int, ...]
    cycles: int = 20_000
    seed: int = 0
    ci_rel: float | None = None
    max_cycles: int = 2_000_000
    cycles_per_replication: int = 10_000
    domain: str = DEFAULT_DOMAIN
    kit_params: Mapping[str, Any] = field(default_factory=dict)
    world_params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.profiles or not self.budgets_ms or not self.robots:
            raise SimConfigError("a sweep needs at least one profile, budget and fleet size")
        if self.ci_rel is not None and not (0 < self.ci_rel < 1):
            raise SimConfigError(f"ci_rel must be in (0, 1), got {self.ci_rel!r}")
        if self.max_cycles < self.cycles:
            raise SimConfigError(
                f"max_cycles ({self.max_cycles}) must be >= cycles ({self.cycles})"
            )
        self.points()  # every grid point must be a valid simulation: SimConfigError if not

    def points(self) -> list[SimConfig]:
        return [
            SimConfig(
                profile=profile,
                robots=robots,
                cycles=self.cycles,
                seed=self.seed,
                budget_ms=budget,
                cycles_per_replication=self.cycles_per_replication,
                domain=self.domain,
                kit_params=self.kit_params,
                world_params=self.world_params,
            )
            for profile in self.profiles
            for robots in self.robots
            for budget in self.budgets_ms
        ]


def _units(config: SimConfig, first: int = 0) -> list[Unit]:
    return [(config, i, c, h) for i, c, h in config.replications()[first:]]


def rarest_rate(tallies: dict[str, Tally]) -> tuple[str, float] | None:
    """The rarest non-zero rate a sweep must estimate: an FMLI row's (a failure mode's share of
    the guarded controller's model calls), or the unguarded halt rate. Residual causes
    (``cause:`` rows) are not sized for."""
    rates = []
    g, u = tallies.get("guarded"), tallies.get("unguarded")
    if g is not None and g.calls:
        rates += [
            (m, row.count / g.calls)
            for m, row in g.modes.items()
            if row.count and not m.startswith(CAUSE_PREFIX)
        ]
    if u is not None and u.cycles and u.halted_cycles:
        rates.append(("unguarded_halt", u.halted_cycles / u.cycles))
    return min(rates, key=lambda r: (r[1], r[0])) if rates else None


def sweep(
    config: SweepConfig,
    engine: Engine,
    *,
    on_progress: Callable[[int, int], None] = lambda _done, _total: None,
) -> list[tuple[SimRun, tuple[str, float] | None]]:
    """Run the grid; returns each point's merged run and its rarest rate."""
    points = config.points()
    units = [u for p in points for u in _units(p)]
    done = 0
    total = len(units)

    def tick(n: int) -> None:
        nonlocal done
        done += n
        on_progress(done, total)

    for p in points:  # each point's world here first: a bad kit or profile fails before any unit
        scene_for(p)
    results = engine.map(units, tick)
    by_point: list[list[Result]] = []
    i = 0
    for p in points:
        n = len(p.replications())
        by_point.append(results[i : i + n])
        i += n
    final_points = list(points)
    if config.ci_rel is not None:
        extra_units: list[Unit] = []
        grown: list[tuple[int, SimConfig, int]] = []
        for k, p in enumerate(points):
            rarest = rarest_rate(merge_results(by_point[k]))
            if rarest is None:
                continue
            need = min(config.max_cycles, required_trials(rarest[1], config.ci_rel))
            if need <= (p.cycles or 0):
                continue
            first = len(p.replications())
            more = math.ceil((need - (p.cycles or 0)) / p.cycles_per_replication)
            bigger = replace(p, cycles=(p.cycles or 0) + more * p.cycles_per_replication)
            grown.append((k, bigger, more))
            extra_units += [
                (p, i, p.cycles_per_replication, None) for i in range(first, first + more)
            ]
        total += len(extra_units)
        extra = engine.map(extra_units, tick)
        j = 0
        for k, bigger, n in grown:
            by_point[k] = by_point[k] + extra[j : j + n]
            final_points[k] = bigger
            j += n
    out = []
    for p, results_k in zip(final_points, by_point, strict=True):
        tallies = merge_results(results_k)
        out.append((finished(scene_for(p), tallies), rarest_rate(tallies)))
    return out
