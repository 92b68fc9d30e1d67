"""``simulate --audit-log``: the guarded controller's decisions in the audit-log format, one header
per replication, in replication order whatever the number of workers, replayed with 0
differences by the same tool that replays a robot's log."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli
from plansentry.sim import SimConfig, simulate
from plansentry.telemetry.replay import replay
from warehouse_fixtures import PROFILES

CONFIG = SimConfig(profile=PROFILES["chaos"], cycles=3_000, seed=4, cycles_per_replication=1_000)


def records(path) -> list[dict]:
    out = []
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if rec["type"] == "decision":
            rec["decision"].pop("gate_us")  # the gate's own run time: the machine's, not the run's
        out.append(rec)
    return out


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> dict[int, tuple]:
    """The log of the same run with one worker and with two."""
    out = {}
    for workers in (1, 2):
        path = tmp_path_factory.mktemp(f"w{workers}") / "sim.jsonl"
        run = simulate(CONFIG, workers=workers, audit_log=path)
        out[workers] = (path, run)
    return out


def test_one_header_per_replication_in_replication_order(logs) -> None:
    """Each replication is a fresh guard, which is what a header is to replay; its meta says
    which replication and run it was; every guarded decision is in the log."""
    path, run = logs[2]
    recs = records(path)
    headers = [r for r in recs if r["type"] == "header"]
    assert [h["meta"]["replication"] for h in headers] == [0, 1, 2]
    assert all(h["domain"]["name"] == "warehouse" and h["meta"]["simulated"] for h in headers)
    decisions = [r for r in recs if r["type"] == "decision"]
    assert len(decisions) == run.tallies["guarded"].cycles


def test_two_workers_write_the_log_of_one(logs) -> None:
    """The same records in the same order, whatever --workers is (gate timings aside)."""
    assert records(logs[1][0]) == records(logs[2][0])


def test_a_simulated_log_replays_with_no_difference(logs) -> None:
    """plansentry replay re-runs every decision through a fresh guard per header: 0 differences."""
    result = replay(logs[2][0])
    assert result.decisions == logs[2][1].tallies["guarded"].cycles
    assert result.ok and not result.differences


def test_no_part_file_is_left_behind(logs) -> None:
    """The parts are merged into the log and removed with their directory."""
    path = logs[2][0]
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_log_torn_by_a_crash_gets_its_records_on_a_new_line(tmp_path) -> None:
    """Appending to a log whose last line a crash tore: the fragment stays a line of its own."""
    path = tmp_path / "torn.jsonl"
    path.write_text('{"type": "decision", "cut')
    simulate(SimConfig(profile=PROFILES["pilot"], cycles=200, seed=1), audit_log=path)
    first, second = path.read_text().split("\n")[:2]
    assert first == '{"type": "decision", "cut'
    assert json.loads(second)["type"] == "header"


def test_simulate_then_replay_from_the_command_line(tmp_path) -> None:
    """As a user runs it: simulate writes the log, replay reads it."""
    log = tmp_path / "sim.jsonl"
    code, _, err = run_cli(["simulate", "--cycles", "500", "--seed", "2", "--audit-log", str(log)])
    assert code == 0, err
    code, out, err = run_cli(["replay", str(log)])
    assert code == 0, err
    assert out.strip().endswith("0 differences")


def test_an_audit_log_needs_the_guarded_controller(tmp_path) -> None:
    """One line, exit 2, when there is nothing to log."""
    code, _, err = run_cli(
        [
            "simulate",
            "--cycles",
            "10",
            "--controllers",
            "oracle",
            "--audit-log",
            str(tmp_path / "x"),
        ]
    )
    assert code == 2 and "guarded" in err and "Traceback" not in err
