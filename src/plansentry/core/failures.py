"""Failure modes, risk buckets and typed violations: the vocabulary of every verdict.

A failure mode says *where* in the gate a model output was stopped; a risk bucket says *what kind of
harm* that failure would have done unguarded:

- ``A``: latency and availability (the robot waits or halts, or works far slower than it must),
- ``B``: safety (the robot would do something dangerous),
- ``C``: efficiency (the robot works, but worse: wrong or missing items, longer routes).

The set of failure modes is closed. The bucket of each mode is a default that a deployment may remap
with :class:`BucketMap` (a site where a stall is a safety matter maps ``timeout`` to ``B``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, final

from mypy_extensions import mypyc_attr

from plansentry.core.errors import ConfigError


@final
class FailureMode(enum.Enum):
    """Why a model output was not used, in the order the gate finds them."""

    TIMEOUT = "timeout"
    TRANSPORT = "transport"
    OVERSIZE = "oversize"
    EMPTY = "empty"
    MALFORMED = "malformed"
    SCHEMA = "schema"
    INVALID = "invalid"
    UNSAFE = "unsafe"
    SLOW = "slow"  # valid and safe, but would take far longer than the work needs
    STALE = "stale"


@final
class RiskBucket(enum.Enum):
    """The kind of harm a failure would do if nothing caught it."""

    A = "A"  # latency / availability
    B = "B"  # safety
    C = "C"  # efficiency


DEFAULT_BUCKETS: Mapping[FailureMode, RiskBucket] = MappingProxyType(
    {
        FailureMode.TIMEOUT: RiskBucket.A,
        FailureMode.TRANSPORT: RiskBucket.A,
        FailureMode.OVERSIZE: RiskBucket.A,
        FailureMode.EMPTY: RiskBucket.A,
        FailureMode.MALFORMED: RiskBucket.A,
        FailureMode.SCHEMA: RiskBucket.A,
        FailureMode.INVALID: RiskBucket.C,
        FailureMode.UNSAFE: RiskBucket.B,
        FailureMode.SLOW: RiskBucket.A,
        FailureMode.STALE: RiskBucket.C,
    }
)


@final
@mypyc_attr(native_class=False)  # a setting
@dataclass(frozen=True, slots=True)
class BucketMap:
    """Risk bucket of every failure mode; defaults from :data:`DEFAULT_BUCKETS`.

    ``BucketMap.from_names({"timeout": "B"})`` remaps one mode and keeps the others. Unknown mode
    or bucket names raise :class:`~plansentry.core.errors.ConfigError` naming the bad key, at construction.
    """

    buckets: Mapping[FailureMode, RiskBucket] = field(default_factory=lambda: DEFAULT_BUCKETS)

    @classmethod
    def from_names(cls, overrides: Mapping[str, str]) -> BucketMap:
        merged = dict(DEFAULT_BUCKETS)
        modes = {m.value: m for m in FailureMode}
        for name, bucket in overrides.items():
            if name not in modes:
                raise ConfigError(
                    f"buckets: unknown failure mode {name!r}; known: {', '.join(sorted(modes))}"
                )
            try:
                merged[modes[name]] = RiskBucket(bucket)
            except ValueError:
                raise ConfigError(
                    f"buckets.{name}: unknown risk bucket {bucket!r}; use 'A', 'B' or 'C'"
                ) from None
        return cls(MappingProxyType(merged))

    def __getitem__(self, mode: FailureMode) -> RiskBucket:
        return self.buckets[mode]


@final
@dataclass(frozen=True, init=False)
class Violation:
    """One rule a model output broke.

    ``rule`` is a stable machine name (``"bin_exists"``, ``"speed_limit"``); ``mode`` the failure
    mode the rule belongs to; ``detail`` a sentence for humans; ``path`` where in the plan
    (``"picks[3].bin"``), when it applies.
    """

    rule: str
    mode: FailureMode
    detail: str
    path: str

    def __init__(self, rule: str, mode: FailureMode, detail: str, path: str = "") -> None:
        # Written out (the records' pattern, docs/ARCHITECTURE.md "The compiled core"): compiled,
        # these stores are the object's own; interpreted, they pass the frozen __setattr__.
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "detail", detail)
        object.__setattr__(self, "path", path)

    def __reduce__(self) -> tuple[Any, ...]:
        # What pickle and copy rebuild it from: a compiled record has no __dict__ to restore.
        return (Violation, (self.rule, self.mode, self.detail, self.path))

    def to_json(self) -> dict[str, str]:
        out = {"rule": self.rule, "mode": self.mode.value, "detail": self.detail}
        if self.path:
            out["path"] = self.path
        return out
