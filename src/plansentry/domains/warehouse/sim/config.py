"""One simulated scenario: :class:`SimConfig`, checked at construction."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Final, final

from plansentry.core.errors import ConfigError
from plansentry.domains.warehouse.sim.profiles import Profile

CONTROLLERS: Final = ("unguarded", "guarded", "oracle")


class SimConfigError(ConfigError):
    """A simulation setting that cannot be used; the message names the setting."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SimConfig:
    """One simulated scenario. Times are seconds unless the name says otherwise."""

    profile: Profile
    robots: int = 4
    cycles: int | None = None
    hours: float | None = None
    seed: int = 0
    budget_ms: float = 150.0
    sweep_budgets_ms: tuple[float, ...] = ()
    map_path: str | None = None
    handling_s: float = 0.3  # per item, at the bin
    target_s_per_item: float = 0.9  # the pilot's nominal cycle; travel is scaled to meet it
    restart_s: float = 12.0  # mean restart after a halt (log-normal, ``restart_sigma``)
    restart_sigma: float = 0.25
    client_timeout_s: float = 30.0
    max_retries: int = 3  # unguarded: halts on one order before an operator skips it
    hold_s: float = 1.0  # guarded: time a safe move holds before the next decision point
    max_holds: int = 3  # guarded: safe moves on one order before it is reported unserved
    startup_s: float = 30.0  # from the dock to the first decision point (the first plan is asked)
    closure_p: float = 0.05  # chance that an order comes with an aisle closed
    item_value: float = 2.0  # money per item picked
    downtime_cost_per_hour: float = 120.0  # money per robot-hour standing still
    cycles_per_replication: int = 10_000
    hours_per_replication: float = 4.0
    repair: bool = False
    judge_all_plans: bool = False  # judge even clean plans with the independent safety checker
    controllers: tuple[str, ...] = CONTROLLERS

    def __post_init__(self) -> None:
        if (self.cycles is None) == (self.hours is None):
            raise SimConfigError("give exactly one of cycles and hours")
        int_at_least("robots", self.robots, 1)
        if self.cycles is not None:
            int_at_least("cycles", self.cycles, 1)
        if self.hours is not None:
            _positive("hours", self.hours)
        int_at_least("seed", self.seed, 0)
        for name in (
            "budget_ms",
            "handling_s",
            "target_s_per_item",
            "restart_s",
            "client_timeout_s",
            "hold_s",
            "hours_per_replication",
        ):
            _positive(name, getattr(self, name))
        for name in ("restart_sigma", "startup_s", "item_value", "downtime_cost_per_hour"):
            value = getattr(self, name)
            if not _finite(value) or value < 0:
                raise SimConfigError(f"{name} must be a finite number >= 0, got {value!r}")
        if not _finite(self.closure_p) or not 0 <= self.closure_p <= 1:
            raise SimConfigError(f"closure_p must be in [0, 1], got {self.closure_p!r}")
        for b in self.sweep_budgets_ms:
            _positive("sweep budget", b)
        int_at_least("max_retries", self.max_retries, 1)
        int_at_least("max_holds", self.max_holds, 1)
        int_at_least("cycles_per_replication", self.cycles_per_replication, 1)
        bad = sorted(set(self.controllers) - set(CONTROLLERS))
        if bad or not self.controllers:
            raise SimConfigError(f"controllers must be among {', '.join(CONTROLLERS)}, got {bad}")
        if self.handling_s >= self.target_s_per_item:
            raise SimConfigError(
                f"handling_s ({self.handling_s}) must be below target_s_per_item "
                f"({self.target_s_per_item}): travel needs some of the cycle"
            )

    def replications(self) -> list[tuple[int, int | None, float | None]]:
        """``(index, cycles, hours)`` of each replication; independent of how many workers run them."""
        if self.cycles is not None:
            count = math.ceil(self.cycles / self.cycles_per_replication)
            base, extra = divmod(self.cycles, count)
            return [(i, base + (i < extra), None) for i in range(count)]
        assert self.hours is not None
        count = math.ceil(self.hours / self.hours_per_replication - 1e-9)
        return [(i, None, self.hours / count) for i in range(count)]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.to_json() if isinstance(value, Profile) else value
        out["sweep_budgets_ms"] = list(self.sweep_budgets_ms)
        out["controllers"] = list(self.controllers)
        return out


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive(name: str, value: Any) -> None:
    if not _finite(value) or value <= 0:
        raise SimConfigError(f"{name} must be a finite number > 0, got {value!r}")


def int_at_least(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SimConfigError(f"{name} must be an integer >= {low}, got {value!r}")
