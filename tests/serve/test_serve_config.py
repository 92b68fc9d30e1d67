"""ServeConfig: keyword-only, units in the names, refused at construction when it cannot work."""

from __future__ import annotations

import pytest

from plansentry.core.errors import ConfigError
from plansentry.serve.config import ServeConfig, is_loopback

TOKEN = "a-token-of-enough-length"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("robot.local", False),
    ],
)
def test_loopback_is_recognised(host, loopback) -> None:
    """Only addresses that cannot be reached from another machine count as loopback."""
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"host": "0.0.0.0"}, "needs an access token"),
        ({"port": 70000}, "port"),
        ({"budget_ms": 0}, "budget_ms must be > 0"),
        ({"budget_ms": float("nan")}, "budget_ms must be finite"),
        ({"budget_ms": 100, "max_budget_ms": 50}, "over max_budget_ms"),
        ({"max_tickets": 0}, "max_tickets"),
        ({"max_inflight": 1.5}, "max_inflight must be a whole number"),
        ({"max_body_bytes": 100}, "max_body_bytes must be >= 1024"),
        ({"switch_interval_s": 1.0}, "switch_interval_s must be <= 0.1"),
        ({"send_margin_ms": -1}, "send_margin_ms"),
        ({"token": "short"}, "at least 16 characters"),
        ({"workers": True}, "workers must be a whole number"),
    ],
)
def test_a_setting_that_cannot_work_is_refused_naming_it(kw, message) -> None:
    """Each bad setting: a ConfigError naming it."""
    with pytest.raises(ConfigError, match=message):
        ServeConfig(**kw)


@pytest.mark.parametrize(
    "kw",
    [
        {"host": "0.0.0.0", "token": TOKEN},
        {"host": "0.0.0.0", "insecure_no_token": True},
        {"host": "127.0.0.1"},
    ],
)
def test_a_non_loopback_bind_takes_a_token_or_the_explicit_opt_out(kw) -> None:
    """With a token, or the loud opt-out, a non-loopback bind is allowed."""
    assert ServeConfig(**kw).host == kw["host"]


def test_the_config_is_keyword_only() -> None:
    """No positional settings."""
    with pytest.raises(TypeError):
        ServeConfig("127.0.0.1")  # type: ignore[misc]
