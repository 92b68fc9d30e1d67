"""One simulated scenario: :class:`SimConfig`, checked at construction."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final, final

from plansentry.core.errors import ConfigError
from plansentry.runtime.world import WorldSettings
from plansentry.sim.profiles import Profile

CONTROLLERS: Final = ("unguarded", "guarded", "pilot_guard", "oracle")
#: The kit a scenario runs when it names none.
DEFAULT_DOMAIN: Final = "warehouse"


class SimConfigError(ConfigError):
    """A simulation setting that cannot be used; the message names the setting."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SimConfig:
    """One simulated scenario. Times are seconds unless the name says otherwise.

    ``domain`` names the kit whose world runs (``kit_params`` build the kit, as ``plansentry
    check --param`` does; ``world_params`` are the world's own settings, which it documents and
    checks). Every assumption about the guard's own failures is a field here, with its default's
    reason in docs/SIMULATION.md ("The guard's own failure modes"): ``blocked_order_p`` (the share
    of tasks no plan can serve), ``fallback_overrun_p`` (``None``: the upper end of the 95 %
    interval of the share the world measured) and ``fallback_overrun_mean_ms`` (the fallback's
    compute time is drawn from the world's measured distribution), and the safe move's cost
    (``safe_stop_s``, ``hold_s``, ``max_holds``). ``plan_ahead=False`` asks the model at each
    decision point instead of while the previous task executes.
    """

    profile: Profile
    robots: int = 4
    cycles: int | None = None
    hours: float | None = None
    seed: int = 0
    budget_ms: float = 150.0
    sweep_budgets_ms: tuple[float, ...] = ()
    restart_s: float = 12.0  # mean restart after a halt (log-normal, ``restart_sigma``)
    restart_sigma: float = 0.25
    client_timeout_s: float = 30.0
    max_retries: int = 3  # unguarded: halts on one task before an operator skips it
    safe_stop_s: float = 0.0  # a safe move: time to come to a stop (at a decision point: stopped)
    hold_s: float = 1.0  # a safe move: time it holds before the next decision point (asks again)
    max_holds: int = 3  # safe moves on one task before it is reported unserved
    startup_s: float = 30.0  # from the dock to the first decision point (the first plan is asked)
    blocked_order_p: float = 0.0003  # share of tasks no plan can serve
    # share of fallback runs past their declared worst case (None: the world's measured bound)
    fallback_overrun_p: float | None = None
    fallback_overrun_mean_ms: float = 50.0  # an overrun: worst case + exponential, this mean
    plan_ahead: bool = True  # ask for the next task's plan while executing the current one
    item_value: float = 2.0  # money per item of work
    downtime_cost_per_hour: float = 120.0  # money per robot-hour standing still
    cycles_per_replication: int = 10_000
    hours_per_replication: float = 4.0
    repair: bool = False
    judge_all_plans: bool = False  # judge even clean plans with the world's independent checker
    controllers: tuple[str, ...] = CONTROLLERS
    # 0: every task drawn afresh (the default). N: tasks drawn uniformly from one pool of N per
    # kind, the same in every replication (a world that has pools: docs/SIMULATION.md).
    order_pool: int = 0
    domain: str = DEFAULT_DOMAIN
    kit_params: Mapping[str, Any] = field(default_factory=dict)
    world_params: Mapping[str, Any] = field(default_factory=dict)

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
            "restart_s",
            "client_timeout_s",
            "hold_s",
            "hours_per_replication",
        ):
            _positive(name, getattr(self, name))
        for name in (
            "restart_sigma",
            "startup_s",
            "item_value",
            "downtime_cost_per_hour",
            "safe_stop_s",
            "fallback_overrun_mean_ms",
        ):
            value = getattr(self, name)
            if not _finite(value) or value < 0:
                raise SimConfigError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in ("blocked_order_p", "fallback_overrun_p"):
            value = getattr(self, name)
            if value is None and name == "fallback_overrun_p":
                continue
            if not _finite(value) or not 0 <= value <= 1:
                raise SimConfigError(f"{name} must be in [0, 1], got {value!r}")
        for name in ("plan_ahead", "repair", "judge_all_plans"):
            if not isinstance(getattr(self, name), bool):
                raise SimConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        for b in self.sweep_budgets_ms:
            _positive("sweep budget", b)
        int_at_least("max_retries", self.max_retries, 1)
        int_at_least("max_holds", self.max_holds, 1)
        int_at_least("cycles_per_replication", self.cycles_per_replication, 1)
        int_at_least("order_pool", self.order_pool, 0)
        bad = sorted(set(self.controllers) - set(CONTROLLERS))
        if bad or not self.controllers:
            raise SimConfigError(f"controllers must be among {', '.join(CONTROLLERS)}, got {bad}")
        if not isinstance(self.domain, str) or not self.domain:
            raise SimConfigError(f"domain must name a kit, got {self.domain!r}")
        for name in ("kit_params", "world_params"):
            value = getattr(self, name)
            if not isinstance(value, Mapping):
                raise SimConfigError(f"{name} must be a mapping, got {type(value).__name__}")
            object.__setattr__(self, name, dict(value))  # a copy: the caller's may change

    def world_settings(self) -> WorldSettings:
        """What the world of this scenario is built from."""
        return WorldSettings(
            seed=self.seed,
            robots=self.robots,
            order_pool=self.order_pool,
            blocked_p=self.blocked_order_p,
            params=dict(self.world_params),
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
        """The scenario as JSON, field by field (a world lays out its document's ``config`` from
        it: :meth:`~plansentry.runtime.world.World.describe`)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.to_json() if isinstance(value, Profile) else value
        out["sweep_budgets_ms"] = list(self.sweep_budgets_ms)
        out["controllers"] = list(self.controllers)
        out["kit_params"] = dict(self.kit_params)
        out["world_params"] = dict(self.world_params)
        if not self.order_pool:  # off: the document of a run without a pool, as it always was
            del out["order_pool"]
        return out


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive(name: str, value: Any) -> None:
    if not _finite(value) or value <= 0:
        raise SimConfigError(f"{name} must be a finite number > 0, got {value!r}")


def int_at_least(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SimConfigError(f"{name} must be an integer >= {low}, got {value!r}")
