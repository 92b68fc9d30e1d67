"""Domain kits: found by name through entry points or in-process registration, rebuilt under the
rules a log names, and refused with a message that says what is installed."""

from __future__ import annotations

import dataclasses

import pytest

from plansentry.core.decision import Arrival, ArrivalKind, SafeMove
from plansentry.core.errors import ConfigError, KitError
from plansentry.runtime import kit as kits
from plansentry.runtime.kit import (
    DomainPlugin,
    SafeAction,
    installed_kits,
    load_kit,
    plugin,
    register_kit,
)
from plansentry.testing.toy import toy_kit


def test_installed_kits_come_from_entry_points() -> None:
    """The warehouse and the toy kit are declared in plansentry's own pyproject."""
    assert {"toy", "warehouse"} <= set(installed_kits())


def test_load_kit_builds_the_newest_rules_by_default() -> None:
    """No rules version asked: the plugin's newest."""
    kit = load_kit("toy")
    assert kit.identity() == {"name": "toy", "rules_version": "toy/1", "params": {}}


def test_unknown_kit_names_what_is_installed() -> None:
    """A kit that is not installed: KitError naming the installed ones."""
    with pytest.raises(KitError, match=r"no domain kit 'nope' is installed \(installed: .*toy"):
        load_kit("nope")


def test_rules_the_kit_does_not_have_are_refused_with_what_it_has() -> None:
    """A log written under rules this installation lacks cannot be judged as if it had them."""
    with pytest.raises(KitError, match=r"cannot apply rules 'toy/0'.*has toy/1"):
        load_kit("toy", rules_version="toy/0")


@pytest.fixture
def clean_registry(monkeypatch):
    """Plugins registered by a test do not outlive it."""
    monkeypatch.setattr(kits, "_registered", {})


def test_a_plugin_that_builds_another_identity_is_refused(clean_registry) -> None:
    """make_kit must build the kit it claims (name and rules version)."""
    register_kit(
        DomainPlugin(
            name="liar",
            summary="builds the toy kit under another name",
            make_kit=toy_kit,
            rules_versions=("toy/1",),
        )
    )
    with pytest.raises(KitError, match="built 'toy'"):
        load_kit("liar")


def test_registered_plugins_are_found_in_process(clean_registry) -> None:
    """register_kit: no installation needed (tests, notebooks)."""
    register_kit(
        DomainPlugin(
            name="toy-again",
            summary="the toy kit, renamed",
            make_kit=lambda **kw: dataclasses.replace(toy_kit(**kw), name="toy-again"),
            rules_versions=("toy/1",),
        )
    )
    assert "toy-again" in installed_kits() and plugin("toy-again").summary
    assert load_kit("toy-again").name == "toy-again"


def test_bad_kit_params_name_the_parameter() -> None:
    """A parameter the kit's factory rejects is a KitError naming the kit, the parameter and what
    the factory raised (it comes from --param or a log's header: a traceback is no answer); the
    kit's own ConfigError passes through."""
    with pytest.raises(KitError, match=r"'toy'.*'map': 'x'.*TypeError"):
        load_kit("toy", params={"map": "x"})
    with pytest.raises(ConfigError, match="map"):
        load_kit("warehouse", params={"map": "/nonexistent/map.yaml"})


def test_config_reserves_every_fallbacks_declared_time() -> None:
    """kit.config() puts each fallback's wcet_ms in the budget's reserve."""
    kit = toy_kit()
    assert dict(kit.config().fallback_wcet_ms) == {"stepper": 1.0}
    assert kit.config(budget_ms=90).budget_ms == 90


def test_the_safe_move_carries_the_kits_safe_action(ctx) -> None:
    """A kit whose safe action is to land: the guard's SafeMove says land, and so does its JSON."""
    kit = dataclasses.replace(toy_kit(), safe_action=SafeAction("land", "descend where it is"))
    blocked = dataclasses.replace(ctx, blocked=frozenset({1, 2, 3}))
    guard = kit.guard()
    d = guard.finish(
        blocked,
        request_id="r",
        asked_ns=None,
        deadline_ns=150_000_000,
        arrival=Arrival(ArrivalKind.NOT_ASKED),
        fallbacks=guard.run_fallbacks(blocked),
        clock_ns=lambda: 0,
    )
    assert isinstance(d.plan, SafeMove) and d.plan.action == "land"
    assert kit.plan_json(d.plan)["safe_move"]["action"] == "land"
