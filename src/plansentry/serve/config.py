"""The service's configuration: keyword-only, units in the names, checked at construction.

A bind address other than loopback needs an access token (or the explicit, loud
``insecure_no_token``): the service hands out plans a robot executes, so on a shared network an
anonymous caller must not be able to ask for one, or to read the metrics.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, final

from plansentry.core.errors import ConfigError

#: Names that always resolve to the loopback interface.
_LOOPBACK_NAMES: Final = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})
#: The smallest access token accepted: 128 bits, as ``secrets.token_urlsafe(16)`` gives.
MIN_TOKEN_CHARS: Final = 16


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is reachable only from this machine."""
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def _positive(name: str, value: Any, *, integer: bool = False) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"{name} must be a {'whole ' if integer else ''}number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    if value <= 0:
        raise ConfigError(f"{name} must be > 0, got {value!r}")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ServeConfig:
    """How ``plansentry serve`` listens, guards and limits.

    ``host``/``port``: the bind address (port 0: any free port). ``kit``/``kit_params``: the
    domain kit served, by name (:func:`~plansentry.runtime.kit.load_kit`). ``upstream``:
    ``"embedded"`` (the local model) or the base URL of an OpenAI-compatible server
    (``upstream_model``, ``dialect``). ``budget_ms``: a decision's budget when a request names
    none; ``max_budget_ms``: the largest a request may name (it also bounds how long a SIGTERM
    drain takes). ``ticket_ttl_s``: how long an asked-ahead ticket lives; ``max_tickets``: how many
    may be outstanding. ``max_inflight``: decisions waiting at once (each holds a thread); beyond
    it a decision is taken at once without the model. ``max_body_bytes``: the largest request
    body. ``workers``: threads for a synchronous (local) model. ``switch_interval_s``: the GIL
    switch interval the real-time runtime sets (DESIGN.md, Time). ``send_margin_ms``: the service
    decides this much before a request's deadline, for handing the decision back to the event loop
    and writing the response. ``audit_log``: the path of the
    audit log (``None``: none). ``token``: the access token callers send as
    ``Authorization: Bearer``; ``insecure_no_token`` allows a non-loopback bind without one.
    """

    host: str = "127.0.0.1"
    port: int = 8089
    kit: str = "warehouse"
    kit_params: Mapping[str, Any] = field(default_factory=dict)
    upstream: str = "embedded"
    upstream_model: str | None = None
    dialect: str = "llama.cpp"
    budget_ms: float = 150.0
    max_budget_ms: float = 60_000.0
    ticket_ttl_s: float = 60.0
    max_tickets: int = 1024
    max_inflight: int = 256
    max_body_bytes: int = 64 * 1024
    workers: int = 4
    switch_interval_s: float = 0.0005
    send_margin_ms: float = 1.0
    audit_log: str | None = "plansentry-serve-audit.jsonl"
    token: str | None = None
    insecure_no_token: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ConfigError(f"port must be a whole number, got {self.port!r}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535, got {self.port}")
        for name in ("budget_ms", "max_budget_ms", "ticket_ttl_s", "switch_interval_s"):
            _positive(name, getattr(self, name))
        if isinstance(self.send_margin_ms, bool) or not isinstance(
            self.send_margin_ms, (int, float)
        ):
            raise ConfigError(f"send_margin_ms must be a number, got {self.send_margin_ms!r}")
        if not 0 <= self.send_margin_ms < self.budget_ms:
            raise ConfigError(
                f"send_margin_ms must be in [0, budget_ms), got {self.send_margin_ms}"
            )
        for name in ("max_tickets", "max_inflight", "max_body_bytes", "workers"):
            _positive(name, getattr(self, name), integer=True)
        if self.budget_ms > self.max_budget_ms:
            raise ConfigError(
                f"budget_ms ({self.budget_ms:g}) is over max_budget_ms ({self.max_budget_ms:g})"
            )
        if self.switch_interval_s > 0.1:
            raise ConfigError(f"switch_interval_s must be <= 0.1, got {self.switch_interval_s}")
        if self.max_body_bytes < 1024:
            raise ConfigError(f"max_body_bytes must be >= 1024, got {self.max_body_bytes}")
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise ConfigError(
                f"the access token must be at least {MIN_TOKEN_CHARS} characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        if not is_loopback(self.host) and self.token is None and not self.insecure_no_token:
            raise ConfigError(
                f"binding to {self.host} (not loopback) needs an access token: give --token-file "
                "or PLANSENTRY_SERVE_TOKEN (or, knowingly, --insecure-no-token)"
            )

    @property
    def budget_ns(self) -> int:
        return int(self.budget_ms * 1_000_000)
