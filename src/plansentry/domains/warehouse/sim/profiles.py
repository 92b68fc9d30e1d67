"""Fault profiles of the synthetic model: how often it fails, how, and how long it takes.

A profile is data (YAML), so a team can describe its own model from its own logs. Each call of the
model draws one outcome: a fault with the probability given in ``faults`` (the faults are mutually
exclusive, their rates sum to at most 1), otherwise a good plan. Latency is drawn separately:
log-normal around ``median_s``, with probability ``tail_p`` a Pareto tail above ``tail_min_s``
(heavy-tailed, as measured model latencies are). A ``stall`` never answers in time: it answers
after ``stall_s``, or never if ``stall_s`` is omitted. A ``transport`` fault fails the call after
``transport_s`` (a refused connection, a 503).

Built-in profiles:

- ``pilot``: the pilot that motivates plansentry. 0.7 % of outputs are malformed JSON, stalls are
  rare (1 in 10,000), latency has a median of 0.9 s.
- ``outage``: the model is down; every call is refused within 50 ms.
- ``chaos``: every fault at 1 % or more, to exercise every row of the FMLI matrix.

``slow`` is drawn last, so adding it to a profile leaves the draws of every other fault unchanged.
- ``clean``: no faults at all (a check that the guard costs nothing when the model is perfect).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, final

import yaml

from plansentry.core.errors import ConfigError

#: The faults a synthetic model can inject, in the order they are drawn.
FAULTS: Final = (
    "malformed",  # truncated, trailing comma, unbalanced brackets, prose around it, code fence
    "schema",  # valid JSON of the wrong shape: a field missing, mistyped, out of range
    "hallucinated_bin",  # a bin that does not exist on the map
    "incomplete",  # an order line left out
    "unsafe",  # over the speed limit, or a via-point in a staff-only or closed zone
    "stale",  # the plan of another order
    "stall",  # no answer in time
    "transport",  # the call fails (connection refused, 5xx)
    "slow",  # valid and safe but slow: a crawling speed, or a detour through far via-points
)


class ProfileError(ConfigError):
    """A profile that cannot be used; the message names the field."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """What the synthetic model does; see the module docstring for each field's meaning."""

    name: str
    description: str = ""
    faults: Mapping[str, float] = field(default_factory=dict)
    median_s: float = 0.9
    sigma: float = 0.45
    tail_p: float = 0.005
    tail_min_s: float = 2.5
    tail_alpha: float = 1.6
    stall_s: float | None = None
    transport_s: float = 0.05
    route_noise: float = 0.05  # chance that a good plan swaps two picks (a longer route)

    def __post_init__(self) -> None:
        where = f"profile {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise ProfileError("profile: name must be a non-empty string")
        unknown = sorted(set(self.faults) - set(FAULTS))
        if unknown:
            raise ProfileError(
                f"{where}: faults.{unknown[0]} is not a fault; known: {', '.join(FAULTS)}"
            )
        for name, rate in self.faults.items():
            if not _number(rate) or not 0 <= rate <= 1:
                raise ProfileError(f"{where}: faults.{name} must be in [0, 1], got {rate!r}")
        total = sum(self.faults.values())
        if total > 1 + 1e-12:
            raise ProfileError(f"{where}: fault rates sum to {total:g} > 1")
        for name in ("median_s", "tail_min_s", "tail_alpha", "transport_s"):
            _positive(where, name, getattr(self, name))
        for name in ("sigma", "tail_p", "route_noise"):
            value = getattr(self, name)
            if not _number(value) or value < 0 or (name != "sigma" and value > 1):
                raise ProfileError(f"{where}: {name} must be in [0, 1], got {value!r}")
        if self.stall_s is not None:
            _positive(where, "stall_s", self.stall_s)
        object.__setattr__(
            self, "faults", dict(self.faults)
        )  # a copy: the caller's dict may change

    def rate(self, fault: str) -> float:
        return float(self.faults.get(fault, 0.0))

    def to_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["faults"] = {k: self.faults[k] for k in FAULTS if k in self.faults}
        return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive(where: str, name: str, value: Any) -> None:
    if not _number(value) or value <= 0:
        raise ProfileError(f"{where}: {name} must be a finite number > 0, got {value!r}")


def parse_profile(data: Any, *, source: str = "profile") -> Profile:
    """A profile from YAML data; unknown keys and bad values raise :class:`ProfileError`."""
    if not isinstance(data, Mapping):
        raise ProfileError(f"{source}: expected a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(Profile)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ProfileError(
            f"{source}: unknown field {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )
    faults = data.get("faults", {})
    if not isinstance(faults, Mapping):
        raise ProfileError(f"{source}: faults must be a mapping of fault -> rate")
    kw = dict(data)
    kw.setdefault("name", Path(source).stem)
    kw["faults"] = dict(faults)
    try:
        return Profile(**kw)
    except TypeError as exc:  # pragma: no cover - guarded by the unknown-field check
        raise ProfileError(f"{source}: {exc}") from exc


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by name, or a YAML file by path."""
    if name_or_path in PROFILES:
        return PROFILES[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        raise ProfileError(
            f"no profile {name_or_path!r}: not a built-in ({', '.join(PROFILES)}) and not a file"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: cannot read: {exc}") from exc
    return parse_profile(data, source=str(path))


PROFILES: Final[Mapping[str, Profile]] = MappingProxyType(
    {
        "pilot": Profile(
            name="pilot",
            description="the pilot: 0.7 % malformed JSON, rare stalls, median latency 0.9 s",
            faults={"malformed": 0.007, "stall": 0.0001},
            stall_s=None,
        ),
        "outage": Profile(
            name="outage",
            description="the model is down: every call is refused within 50 ms",
            faults={"transport": 1.0},
        ),
        "chaos": Profile(
            name="chaos",
            description="every fault at 1 % or more: exercises every row of the FMLI matrix",
            faults={
                "malformed": 0.02,
                "schema": 0.01,
                "hallucinated_bin": 0.01,
                "incomplete": 0.01,
                "unsafe": 0.02,
                "stale": 0.01,
                "stall": 0.01,
                "transport": 0.01,
                "slow": 0.01,
            },
            tail_p=0.02,
            stall_s=45.0,
        ),
        "clean": Profile(name="clean", description="a perfect model", tail_p=0.0, route_noise=0.0),
    }
)
