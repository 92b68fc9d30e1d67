"""Fault profiles of the synthetic model: how often it fails, how, and how long it takes.

A profile is data (YAML), so a team can describe its own model from its own logs. Each call of the
model draws one outcome: a fault with the probability given in ``faults`` (the faults are mutually
exclusive, their rates sum to at most 1), otherwise a good plan. Latency is drawn separately:
log-normal around ``median_s``, with probability ``tail_p`` a Pareto tail above ``tail_min_s``
(heavy-tailed, as measured model latencies are). A ``stall`` never answers in time: it answers
after ``stall_s``, or never if ``stall_s`` is omitted. A ``transport`` fault fails the call after
``transport_s`` (a refused connection, a 503). ``route_noise`` is the chance that a good plan is a
little worse than the best (the world says how: the warehouse swaps two picks).

Which faults a profile may name is the world's (``World.faults``: the warehouse has
``hallucinated_bin``, the drone its own); :func:`check_faults` holds a profile to them. Every world
has the built-ins :data:`GENERIC_PROFILES`:

- ``outage``: the model is down; every call is refused within 50 ms;
- ``clean``: no faults at all (a check that the guard costs nothing when the model is perfect);

and adds its own (``World.profiles``: the warehouse's ``pilot`` and ``chaos``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, final

import yaml

from plansentry.core.errors import ConfigError


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
    route_noise: float = 0.05  # chance that a good plan is a little worse than the best

    def __post_init__(self) -> None:
        where = f"profile {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise ProfileError("profile: name must be a non-empty string")
        if not isinstance(self.faults, Mapping):
            raise ProfileError(f"{where}: faults must be a mapping of fault -> rate")
        for name, rate in self.faults.items():
            if not isinstance(name, str) or not name:
                raise ProfileError(f"{where}: a fault's name must be a string, got {name!r}")
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

    def to_json(self, order: Iterable[str] | None = None) -> dict[str, Any]:
        """The profile as JSON; its faults in ``order`` (a world's draw order), else as given."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        keys = list(order) if order is not None else list(self.faults)
        out["faults"] = {k: self.faults[k] for k in keys if k in self.faults}
        return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive(where: str, name: str, value: Any) -> None:
    if not _number(value) or value <= 0:
        raise ProfileError(f"{where}: {name} must be a finite number > 0, got {value!r}")


def check_faults(profile: Profile, faults: tuple[str, ...], *, world: str = "this world") -> None:
    """Raise :class:`ProfileError` if ``profile`` names a fault not among ``faults``."""
    unknown = [k for k in profile.faults if k not in faults]
    if unknown:
        raise ProfileError(
            f"profile {profile.name!r}: faults.{unknown[0]} is not a fault of {world}; "
            f"known: {', '.join(faults)}"
        )


def parse_profile(data: Any, *, source: str = "profile") -> Profile:
    """A profile from YAML data; unknown keys and bad values raise :class:`ProfileError`."""
    if not isinstance(data, Mapping):
        raise ProfileError(f"{source}: expected a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(Profile)}
    unknown = sorted(set(data) - known, key=str)
    if unknown:
        raise ProfileError(
            f"{source}: unknown field {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )
    faults = data.get("faults", {})
    if faults is None:
        faults = {}
    if not isinstance(faults, Mapping):
        raise ProfileError(f"{source}: faults must be a mapping of fault -> rate")
    kw = dict(data)
    kw.setdefault("name", Path(source).stem)
    kw["faults"] = dict(faults)
    try:
        return Profile(**kw)
    except TypeError as exc:  # pragma: no cover - guarded by the unknown-field check
        raise ProfileError(f"{source}: {exc}") from exc


#: Every world's built-in profiles (a world's own come first, :func:`builtin_profiles`).
GENERIC_PROFILES: Final[Mapping[str, Profile]] = MappingProxyType(
    {
        "outage": Profile(
            name="outage",
            description="the model is down: every call is refused within 50 ms",
            faults={"transport": 1.0},
        ),
        "clean": Profile(name="clean", description="a perfect model", tail_p=0.0, route_noise=0.0),
    }
)


def builtin_profiles(world_profiles: Mapping[str, Mapping[str, Any]]) -> dict[str, Profile]:
    """A world's built-in profiles (``World.profiles``, as data), then :data:`GENERIC_PROFILES`
    (a world's own of the same name wins)."""
    out = {
        name: parse_profile({"name": name, **data}, source=f"built-in profile {name!r}")
        for name, data in world_profiles.items()
    }
    for name, profile in GENERIC_PROFILES.items():
        out.setdefault(name, profile)
    return out


def load_profile(name_or_path: str, builtins: Mapping[str, Profile] = GENERIC_PROFILES) -> Profile:
    """A built-in profile by name, or a YAML file by path."""
    if name_or_path in builtins:
        return builtins[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        raise ProfileError(
            f"no profile {name_or_path!r}: not a built-in ({', '.join(builtins)}) and not a file"
        )
    try:
        data = yaml.safe_load(path.read_bytes())
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
        raise ProfileError(f"{path}: cannot read: {exc}") from exc
    return parse_profile(data, source=str(path))
