"""The node's ROS parameters: what ``plansentry serve`` takes as flags, declared with
descriptors, and checked at start into a :class:`~plansentry.serve.config.ServeConfig`.

Pure Python, no ROS: :data:`PARAMETERS` is the table the node declares (names after REP 144's
lower-case style, units in the names), and :func:`settings` turns the values the node was given
into checked settings, or a :class:`~plansentry.core.errors.ConfigError` of one line that names
the parameter. Every parameter is read-only (a change at run time would mean another kit, planner
or guard under robots already relying on this one) but ``robots``, the set of robots served,
which may grow or shrink while the node runs.

A ``double`` parameter also takes an integer (``-p budget_ms:=150``): ROS would refuse it as the
wrong type, a trap for every first user; the node declares those dynamically typed and checks the
type here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, final

import msgspec

from plansentry.core.errors import ConfigError
from plansentry.serve.config import ServeConfig
from plansentry.serve.schemas import RequestId

#: ``upstream_key_file`` unset: the upstream's key comes from this variable, as for serve.
KEY_ENV: Final = "PLANSENTRY_API_KEY"


@final
@dataclass(frozen=True, slots=True)
class Spec:
    """One parameter: its name, ``kind`` (``str``, ``int``, ``float``, ``str[]``), default,
    description, whether it is read-only, and its bounds (for the descriptor's range)."""

    name: str
    kind: str
    default: Any
    description: str
    read_only: bool = True
    low: float | None = None
    high: float | None = None


_D: Final = ServeConfig()

#: Every parameter the node declares, in the order ``ros2 param list`` shows them.
PARAMETERS: Final[tuple[Spec, ...]] = (
    Spec("kit", "str", _D.kit, "the domain kit served, by name (plansentry kits)"),
    Spec("kit_params", "str[]", [], "the kit's parameters, each KEY=VALUE"),
    Spec(
        "upstream", "str", _D.upstream, "'embedded' (the local model) or an OpenAI-compatible URL"
    ),
    Spec("upstream_model", "str", "", "the upstream's model name ('' for its default)"),
    Spec("dialect", "str", _D.dialect, "how the upstream takes a JSON Schema"),
    Spec("upstream_key_file", "str", "", f"the upstream's API key, from a file (or ${KEY_ENV})"),
    Spec(
        "budget_ms",
        "float",
        _D.budget_ms,
        "a decision's budget when a request names none",
        low=1.0,
        high=600_000.0,
    ),
    Spec(
        "max_budget_ms",
        "float",
        _D.max_budget_ms,
        "the largest budget a request may name",
        low=1.0,
        high=600_000.0,
    ),
    Spec(
        "ticket_ttl_s",
        "float",
        _D.ticket_ttl_s,
        "the longest an asked-ahead ticket lives",
        low=0.001,
        high=86_400.0,
    ),
    Spec(
        "max_tickets",
        "int",
        _D.max_tickets,
        "asked-ahead tickets outstanding at most",
        low=1,
        high=1_000_000,
    ),
    Spec(
        "max_inflight",
        "int",
        _D.max_inflight,
        "decisions waiting on the model at once; beyond, the fallbacks decide at once",
        low=1,
        high=100_000,
    ),
    Spec(
        "max_request_bytes",
        "int",
        _D.max_body_bytes,
        "the largest request (UTF-8 bytes)",
        low=1024,
        high=64 * 1024 * 1024,
    ),
    Spec("workers", "int", _D.workers, "threads for a synchronous (local) model", low=1, high=1024),
    Spec(
        "switch_interval_s",
        "float",
        _D.switch_interval_s,
        "the GIL switch interval the real-time runtime sets",
        low=1e-6,
        high=0.1,
    ),
    Spec(
        "send_margin_ms",
        "float",
        _D.send_margin_ms,
        "the node decides this much before a deadline, to publish the decision by it",
        low=0.0,
        high=600_000.0,
    ),
    Spec("audit_log", "str", "plansentry-ros2-audit.jsonl", "the audit log's path ('' for none)"),
    Spec("qos_depth", "int", 64, "history depth of ~/request and ~/decision", low=1, high=65_536),
    Spec(
        "robots",
        "str[]",
        [],
        "the robot ids served ([] for any); may change at run time",
        read_only=False,
    ),
)

BY_NAME: Final = {s.name: s for s in PARAMETERS}


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """The checked parameters: the service's configuration and what only the node uses."""

    serve: ServeConfig
    upstream_key_file: str | None
    qos_depth: int
    robots: frozenset[str]


def check(spec: Spec, value: Any) -> Any:
    """``value`` for ``spec``, of its kind; a :class:`ConfigError` naming the parameter."""
    if spec.kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"parameter {spec.name} must be a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"parameter {spec.name} must be finite, got {value!r}")
    elif spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"parameter {spec.name} must be an integer, got {value!r}")
    elif spec.kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"parameter {spec.name} must be a string, got {value!r}")
        return value
    else:
        if value is None:
            return []
        if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"parameter {spec.name} must be a list of strings, got {value!r}")
        return list(value)
    if spec.low is not None and value < spec.low:
        raise ConfigError(f"parameter {spec.name} must be >= {spec.low:g}, got {value!r}")
    if spec.high is not None and value > spec.high:
        raise ConfigError(f"parameter {spec.name} must be <= {spec.high:g}, got {value!r}")
    return value


def check_robots(ids: Sequence[str]) -> frozenset[str]:
    """The robot ids of parameter ``robots``: each short and printable, as in a request."""
    for rid in ids:
        try:
            msgspec.convert(rid, RequestId)
        except msgspec.ValidationError:
            raise ConfigError(
                f"parameter robots: {rid!r} is not a robot id (1 to 128 printable characters, "
                "no spaces)"
            ) from None
    return frozenset(ids)


def _key_values(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"parameter kit_params takes KEY=VALUE items, got {pair!r}")
        out[key] = value
    return out


def settings(values: Mapping[str, Any]) -> Settings:
    """The checked settings of ``values`` (each parameter's value as the node read it)."""
    v = {name: check(BY_NAME[name], values.get(name, BY_NAME[name].default)) for name in BY_NAME}
    kit_params = _key_values(v["kit_params"])
    try:
        serve = ServeConfig(
            kit=v["kit"],
            kit_params=kit_params,
            upstream=v["upstream"],
            upstream_model=v["upstream_model"] or None,
            dialect=v["dialect"],
            budget_ms=v["budget_ms"],
            max_budget_ms=v["max_budget_ms"],
            ticket_ttl_s=v["ticket_ttl_s"],
            max_tickets=v["max_tickets"],
            max_inflight=v["max_inflight"],
            max_body_bytes=v["max_request_bytes"],
            workers=v["workers"],
            switch_interval_s=v["switch_interval_s"],
            send_margin_ms=v["send_margin_ms"],
            audit_log=v["audit_log"] or None,
        )
    except ConfigError as exc:
        text = str(exc).replace("max_body_bytes", "max_request_bytes")
        raise ConfigError(f"parameter {text}") from None
    key_file = v["upstream_key_file"] or None
    return Settings(
        serve=serve,
        upstream_key_file=key_file,
        qos_depth=v["qos_depth"],
        robots=check_robots(v["robots"]),
    )


def api_key(s: Settings) -> str | None:
    """The upstream's key: from ``upstream_key_file``, else ``$PLANSENTRY_API_KEY``, else none."""
    from plansentry.serve.upstream import read_secret

    if s.upstream_key_file:
        return read_secret(s.upstream_key_file, "parameter upstream_key_file")
    return os.environ.get(KEY_ENV) or None
