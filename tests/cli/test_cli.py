"""The plansentry command's generic commands, for any installed kit, as a user runs them."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli as run
from plansentry.cli import build_parser, main


@pytest.fixture
def records(good_bytes) -> str:
    good = good_bytes.decode()
    lines = [
        {"id": "ok", "output": good, "latency_ms": 30},
        {"id": "fence", "output": f"Here:\n```json\n{good}\n```"},
        {"id": "late", "output": good, "latency_ms": 500},
        {"id": "cut", "output": good[:-3]},
        {"id": "far", "output": good, "context": {"target": 9}},
        {"id": "b64", "output_b64": "/w=="},
    ]
    return "\n".join(json.dumps(x) for x in lines) + "\n"


def test_check_judges_any_installed_kit_and_its_log_replays(records, tmp_path) -> None:
    """check --domain toy: one line per record; a record's own context overrides the example;
    the audit log replays with 0 differences through the kit its header names."""
    log = tmp_path / "audit.jsonl"
    code, out, err = run(["check", "--domain", "toy", "--audit-log", str(log)], records)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["ok", "fence", "late", "cut", "far", "b64"]
    assert [r["failure_mode"] for r in rows] == [
        None,
        None,
        "timeout",
        "malformed",
        "invalid",
        "malformed",
    ]
    assert rows[4]["violations"][0]["rule"] == "reach"
    assert rows[2]["source"] == "stepper" and rows[2]["plan"]["task_id"] == "T-1"
    code, out, _ = run(["replay", str(log)])
    assert code == 0 and out.strip().endswith("6 decisions replayed, 0 differences")


def test_check_reports_bad_contexts_and_goes_on(good_bytes) -> None:
    """A context the kit's codec refuses is an error line naming the field; the run goes on."""
    stdin = "\n".join(
        [
            json.dumps({"id": 1, "output": "x", "context": {"target": "far"}}),
            json.dumps({"id": 2, "output": "x", "context": []}),
            json.dumps({"id": 3, "output": good_bytes.decode()}),
        ]
    )
    code, out, err = run(["check", "--domain", "toy"], stdin + "\n")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and "Traceback" not in err
    assert "target" in rows[0]["error"] and "context" in rows[1]["error"]
    assert rows[2]["accepted"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--domain", "nope"], "no domain kit 'nope' is installed (installed: "),
        (["check", "--domain", "toy", "--param", "x"], "--param takes KEY=VALUE"),
        (["check", "--domain", "toy", "--budget-ms", "5"], "budget_ms"),
        (["replay", "/nonexistent/none.jsonl"], "none.jsonl"),
        (["report", "/nonexistent/run.json"], "run.json"),
    ],
)
def test_a_user_error_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    """Errors a user can cause print one line naming what is wrong, exit 2, never a traceback."""
    code, _, err = run(args, "")
    assert code == 2, err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_kits_lists_every_installed_kit(capsys) -> None:
    """kits names the toy and the warehouse kits with their rules versions."""
    assert main(["kits"]) == 0
    out = capsys.readouterr().out
    assert "toy: " in out and "toy/1" in out and "warehouse: " in out


def test_the_parser_has_generic_and_kit_commands() -> None:
    """check, replay, fsm, report, kits, fmli, simulate, sweep, fit are generic; demo and
    example-order come from the warehouse."""
    generic_names = {"check", "replay", "fsm", "report", "kits", "fmli", "simulate", "sweep", "fit"}
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert generic_names | {"demo", "example-order"} <= set(sub.choices)
    generic = next(a for a in build_parser(plugins=False)._actions if a.dest == "command")
    assert set(generic.choices) >= generic_names
    assert not set(generic.choices) & {"demo", "example-order"}


def test_fsm_mermaid(capsys) -> None:
    """fsm --mermaid prints the state diagram."""
    assert main(["fsm", "--mermaid"]) == 0
    assert capsys.readouterr().out.startswith("stateDiagram-v2")


@pytest.mark.parametrize("command", ["simulate", "sweep"])
def test_a_kit_without_a_world_is_one_line_and_exit_2(command, capsys) -> None:
    """simulate and sweep need the kit's world; a kit without one says so, exit 2."""
    import dataclasses

    from plansentry.runtime.kit import DomainPlugin, register_kit
    from plansentry.testing.toy import toy_kit

    def bare(**params):  # type: ignore[no-untyped-def]
        return dataclasses.replace(toy_kit(**params), name="bare", world=None)

    register_kit(
        DomainPlugin(name="bare", summary="no world", make_kit=bare, rules_versions=("toy/1",))
    )
    assert main([command, "--domain", "bare"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "the bare kit has no world" in err, err
