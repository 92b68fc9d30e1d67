"""Configuration fails at construction, naming the field."""

from __future__ import annotations

import math

import pytest

from plansentry.runtime.config import ConfigError, GuardConfig


@pytest.mark.parametrize("budget", [0, -5, math.nan, math.inf, "150", True])
def test_bad_budget_is_refused(budget) -> None:
    """Zero, negative, NaN, infinite or non-numeric budgets fail with budget_ms named."""
    with pytest.raises(ConfigError, match="budget_ms"):
        GuardConfig(budget_ms=budget)


def test_fallback_slower_than_the_budget_is_refused() -> None:
    """A fallback whose WCET leaves no time for the model fails, naming it."""
    with pytest.raises(ConfigError, match=r"stepper 200 ms"):
        GuardConfig(budget_ms=150, fallback_wcet_ms={"stepper": 200})


def test_negative_wcet_is_refused() -> None:
    """A fallback's WCET must be positive."""
    with pytest.raises(ConfigError, match=r"fallback_wcet_ms\.stepper"):
        GuardConfig(fallback_wcet_ms={"stepper": -1})


def test_round_trip_through_json() -> None:
    """What the audit log stores rebuilds the same configuration."""
    cfg = GuardConfig(budget_ms=300, fallback_wcet_ms={"stepper": 25})
    assert GuardConfig.from_json(cfg.to_json()) == cfg


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"budget": 150}, "unknown setting"),
        ({"breaker": {"cooldown_s": 0}}, "breaker.cooldown_s"),
        ({"breaker": {"cooldown": 1}}, "cooldown"),
        ({"gate": {"max_depth": 0}}, "gate.max_depth"),
        ({"buckets": {"timeout": "Z"}}, "buckets.timeout"),
        ({"recover_after": 0}, "recover_after"),
    ],
)
def test_from_json_names_the_bad_field(data, needle: str) -> None:
    """Unknown or invalid settings in a file are reported by name."""
    with pytest.raises(ConfigError, match=needle):
        GuardConfig.from_json(data)
