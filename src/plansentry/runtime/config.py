"""The guard's configuration: keyword-only, units in the names, checked at construction."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar, final

import msgspec

from plansentry.core.breaker import BreakerConfig
from plansentry.core.decider import DeciderConfig
from plansentry.core.errors import ConfigError
from plansentry.core.failures import BucketMap
from plansentry.core.gate import GateConfig

T = TypeVar("T")


def _ms(name: str, value: Any, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number of milliseconds, got {value!r}")
    if math.isnan(value) or math.isinf(value):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class GuardConfig:
    """How long a decision may take and what is kept back from that time.

    ``budget_ms``: from the decision point to its deadline (default 150 ms).
    ``reserve_ms``: kept before the deadline for the gate, the audit write and the hand-over; the
    model's output must arrive by ``deadline - reserve``.
    ``wake_margin_ms``: the real-time runtime wakes this much earlier than it must, to win back the
    GIL from busy threads (DESIGN.md, Time).
    ``fallback_wcet_ms``: declared worst-case time of each fallback by name; they run before the
    wait, so together with the reserve they must fit in the budget.
    """

    budget_ms: float = 150.0
    reserve_ms: float = 5.0
    wake_margin_ms: float = 2.0
    fallback_wcet_ms: Mapping[str, float] = field(default_factory=dict)
    recover_after: int = 5
    max_stuck_workers: int = 4
    gate: GateConfig = field(default_factory=GateConfig)
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    buckets: BucketMap = field(default_factory=BucketMap)

    def __post_init__(self) -> None:
        _ms("budget_ms", self.budget_ms)
        _ms("reserve_ms", self.reserve_ms, allow_zero=True)
        _ms("wake_margin_ms", self.wake_margin_ms, allow_zero=True)
        for name, wcet in self.fallback_wcet_ms.items():
            _ms(f"fallback_wcet_ms.{name}", wcet)
        needed = self.reserve_ms + self.wake_margin_ms + sum(self.fallback_wcet_ms.values())
        if needed >= self.budget_ms:
            parts = ", ".join(f"{k} {v:g} ms" for k, v in self.fallback_wcet_ms.items())
            raise ConfigError(
                f"budget_ms ({self.budget_ms:g}) leaves no time for the model: reserve_ms "
                f"{self.reserve_ms:g} + wake_margin_ms {self.wake_margin_ms:g}"
                + (f" + fallbacks ({parts})" if parts else "")
                + f" = {needed:g} ms"
            )
        self.decider  # noqa: B018 - validates recover_after and max_stuck_workers now

    @property
    def decider(self) -> DeciderConfig:
        return DeciderConfig(
            recover_after=self.recover_after,
            reserve_ns=int(self.reserve_ms * 1_000_000),
            max_stuck_workers=self.max_stuck_workers,
            breaker=self.breaker,
        )

    @property
    def budget_ns(self) -> int:
        return int(self.budget_ms * 1_000_000)

    def early_wake_ms(self, switch_interval_s: float) -> float:
        """How long before the deadline a runtime stops waiting for the model: the reserve, the
        wake margin and two GIL switch intervals (DESIGN.md, Time). The real-time runtime wakes
        then; the virtual one treats any later answer as the real one would, a timeout."""
        return self.reserve_ms + self.wake_margin_ms + 2000 * switch_interval_s

    def to_json(self) -> dict[str, Any]:
        return {
            "budget_ms": self.budget_ms,
            "reserve_ms": self.reserve_ms,
            "wake_margin_ms": self.wake_margin_ms,
            "fallback_wcet_ms": dict(self.fallback_wcet_ms),
            "recover_after": self.recover_after,
            "max_stuck_workers": self.max_stuck_workers,
            "gate": {f.name: getattr(self.gate, f.name) for f in fields(self.gate)},
            "breaker": {f.name: getattr(self.breaker, f.name) for f in fields(self.breaker)},
            "buckets": {m.value: b.value for m, b in self.buckets.buckets.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GuardConfig:
        """Build from a mapping (a config file or an audit-log header); errors name the field."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        kw: dict[str, Any] = dict(data)
        for name, build in (
            ("gate", lambda v: _exactly(v, GateConfig)),
            ("breaker", lambda v: _exactly(v, BreakerConfig)),
            ("buckets", BucketMap.from_names),
        ):
            if name in kw:
                kw[name] = _setting(name, build, kw[name])
        config: GuardConfig = _setting("config", lambda v: cls(**v), kw)
        return config


def _setting(name: str, build: Callable[[Any], Any], value: Any) -> Any:
    """``build(value)``; any error a value of the wrong type or shape raises, as a
    :class:`ConfigError` naming the setting (a config file's or a log header's)."""
    try:
        return build(value)
    except ConfigError as exc:
        if name == "config" or str(exc).startswith(f"{name}."):
            raise
        raise ConfigError(f"{name}: {exc}") from None
    except msgspec.ValidationError as exc:
        where = str(exc).rpartition(" - at `$")
        field = f"{name}{where[2].rstrip('`')}" if where[1] else name
        reason = where[0] if where[1] else str(exc)
        raise ConfigError(
            reason if reason.startswith(f"{name}.") else f"{field}: {reason}"
        ) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{name}: not a valid setting ({type(exc).__name__}: {exc})") from None


def _exactly(value: Any, cls: type[T]) -> T:
    """``value`` (a mapping) as the dataclass ``cls``, each field of its type; a key that is no
    field of it is an error, as it is for the config's own keys."""
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {f.name for f in fields(cls)})  # type: ignore[arg-type]
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(map(str, unknown))}")
    return msgspec.convert(value, cls)
