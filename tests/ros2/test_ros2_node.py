"""``plansentry ros2`` against real rclpy and Fast DDS: the node is one process, the robots another
(tests/ros2/robot.py), in a ROS domain of the test's own, on this host only. Every decision
arrives by its budget, whatever the planner does; bad requests get an error on the decision
topic and the node lives on; a stopped node answers nothing and a restarted one answers again."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from roskit import assert_by_budget, results

from plansentry.planners.local_server import free_port

pytestmark = pytest.mark.realtime

BUDGET_MS = 250.0


def test_one_robot_gets_the_models_plan_by_its_budget(guard, robots, upstream) -> None:
    """Five decisions for one robot (after one that opens the upstream's connection): each the
    model's plan (it passed the gate), by its budget."""
    g = guard(upstream=upstream.url)
    events = robots(robots=1, rounds=5, budget_ms=BUDGET_MS, warmup=True).events()
    (warm,) = results(events, "warmup")
    assert_by_budget(warm, 150.0)  # the default budget: the request named none
    done = results(events)
    assert len(done) == 5
    for r in done:
        d = assert_by_budget(r, BUDGET_MS)
        assert d["source"] == "llm" and d["accepted"], d
        assert r["reply"]["robot_id"] == "robot-0"
    assert g.stop() == 0


def test_sixteen_robots_at_once_each_get_their_own_decisions(guard, robots, upstream) -> None:
    """Sixteen robots asking at once, three rounds each: 48 decisions, each by its budget, each
    to the robot and request that asked, none twice."""
    guard(upstream=upstream.url)
    events = robots(robots=16, rounds=3, budget_ms=BUDGET_MS, warmup=True).events()
    done = results(events)
    assert len(done) == 48
    seen = set()
    for r in done:
        d = assert_by_budget(r, BUDGET_MS)
        reply = r["reply"]
        assert reply["robot_id"] == r["robot"]
        assert d["request_id"] == f"{reply['robot_id']}/{reply['request_id']}"
        seen.add(d["request_id"])
    assert len(seen) == 48


def test_an_asked_ahead_ticket_is_decided_by_its_budget(guard, robots, upstream) -> None:
    """Ask ahead (a ticket at once), execute, decide the ticket: the model's plan, by its budget."""
    guard(upstream=upstream.url)
    events = robots(
        robots=2, rounds=2, budget_ms=BUDGET_MS, ask_ahead=True, execute_s=0.05, warmup=True
    )
    events = events.events()
    tickets = results(events, "ask")
    assert len(tickets) == 4 and all(t["reply"]["kind"] == "ticket" for t in tickets)
    assert all(t["reply"]["ticket"]["asked"] for t in tickets)
    for r in results(events):
        d = assert_by_budget(r, BUDGET_MS)
        assert d["ticket"] == "used" and d["source"] == "llm", d


@pytest.mark.parametrize(
    ("fault", "mode", "param", "failure"),
    [
        ("hangs", "half_open", 0, "timeout"),
        ("answers garbage", "garbage", 0, "transport"),
        ("dies mid-answer", "reset", 40, "transport"),
    ],
)
def test_a_failing_planner_still_gets_every_robot_a_decision_by_its_budget(
    guard, robots, upstream, fault, mode, param, failure
) -> None:
    """The planner hangs, answers garbage, or dies mid-answer: four robots' decisions all come by
    their budgets, from the fallbacks, each naming how the model failed."""
    upstream.mode, upstream.param = mode, param
    guard(upstream=upstream.url)
    events = robots(robots=4, rounds=2, budget_ms=BUDGET_MS).events()
    done = results(events)
    assert len(done) == 8
    for r in done:
        d = assert_by_budget(r, BUDGET_MS)
        assert d["source"] != "llm" and not d["accepted"], d
        if d["consulted"]:
            assert d["failure_mode"] == failure, (fault, d["failure_mode"])


def test_a_planner_that_is_gone_altogether_costs_no_decision(guard, robots) -> None:
    """No upstream at all (connections refused): every decision by its budget."""
    guard(upstream=f"http://127.0.0.1:{free_port()}/v1")
    for r in results(robots(robots=2, rounds=3, budget_ms=BUDGET_MS).events()):
        d = assert_by_budget(r, BUDGET_MS)
        assert d["source"] != "llm" and d["failure_mode"] in ("transport", None), d


def test_bad_requests_get_a_clear_error_and_the_node_lives_on(guard, robots, upstream) -> None:
    """Not JSON, no request id, a robot the node does not serve, 64 MiB: each gets an error on
    the decision topic naming what was wrong, and a good request after them is decided."""
    g = guard(upstream=upstream.url, robots="[robot-0]")
    stranger = (
        '{"robot_id": "stranger", "request_id": "s1", "context": {"task_id": "T-1", '
        '"target": 7, "max_step": 3, "blocked": []}}'
    )
    events = robots(
        robots=1,
        rounds=1,
        budget_ms=BUDGET_MS,
        timeout_s=10.0,
        raw=["this is not json", '{"robot_id": "robot-0", "context": {}}', stranger],
        raw_big_mib=64,
        warmup=True,  # the good request is then not the node's first, cold, upstream call
    ).events(timeout_s=90)
    raw = results(events, "raw")
    assert len(raw) == 4 and all(r["reply"] is not None for r in raw), raw
    errors = [r["reply"]["error"] for r in raw]
    assert all(r["reply"]["kind"] == "error" for r in raw)
    assert [e["code"] for e in errors] == [
        "malformed",
        "invalid_value",
        "unknown_robot",
        "body_too_large",
    ]
    assert errors[1]["param"] == "request_id" and raw[1]["reply"]["robot_id"] == "robot-0"
    assert raw[2]["reply"]["request_id"] == "s1" and "stranger" in errors[2]["message"]
    (after,) = results(events)
    assert_by_budget(after, BUDGET_MS)
    assert g.proc is not None and g.proc.poll() is None
    assert g.stop() == 0


def test_a_stopped_node_answers_nothing_and_a_restarted_one_answers_again(
    guard, robots, upstream
) -> None:
    """Robots ask every 50 ms with their own 0.5 s timeout while the node is stopped (SIGTERM:
    exit 0) and started again: before, decisions; while it is gone, the robots' own timeouts; once
    rediscovered, decisions again; every decision that came was by its budget, none twice."""
    g = guard(upstream=upstream.url)
    # 14 s: ready, 1.5 s, the stop, 1.5 s, the restart (1-2 s), 4 s to rediscover, and asks after
    bots = robots(robots=2, duration_s=14.0, budget_ms=BUDGET_MS, timeout_s=0.5, interval_s=0.05)
    started = time.monotonic()
    while not bots.ready() and time.monotonic() < started + 20:
        time.sleep(0.02)
    time.sleep(1.5)
    term_at = time.monotonic()
    assert g.stop() == 0
    stopped_at = time.monotonic()
    time.sleep(1.5)
    restarting_at = time.monotonic()
    guard(upstream=upstream.url)
    restarted_at = time.monotonic()
    done = results(bots.events())
    before = [r for r in done if r["sent_s"] < term_at - 0.6]
    gone = [r for r in done if stopped_at + 0.1 < r["sent_s"] < restarting_at - 0.2]
    # DDS rediscovers the node within a few seconds of its start (measured here: 2.6 s), and the
    # new node's first upstream calls are cold: from 1 s after its first decision, every ask is
    # decided again
    back = min(
        (r["sent_s"] for r in done if r["sent_s"] > restarted_at and r["reply"] is not None),
        default=None,
    )
    assert back is not None and back < restarted_at + 6.0, (restarted_at, back)
    after = [r for r in done if r["sent_s"] > back + 1.0]
    assert before and gone and after, (stopped_at, restarted_at, [r["sent_s"] for r in done])
    assert [r for r in before + after if r["reply"] is None] == []
    assert [r for r in gone if r["reply"] is not None] == []
    ids = [(r["robot"], r["reply"]["request_id"]) for r in done if r["reply"] is not None]
    assert len(ids) == len(set(ids))
    for r in done:
        if r["reply"] is not None:
            assert_by_budget(r, BUDGET_MS)


def test_diagnostics_report_the_guard_once_a_second(guard, robots, upstream) -> None:
    """``/diagnostics`` carries the node's status: OK while the model's plans pass, with the
    guard's state, breaker and counts."""
    guard(upstream=upstream.url)
    events = robots(
        robots=1, rounds=3, budget_ms=BUDGET_MS, diagnostics=True, linger_s=2.5, warmup=True
    )
    events = events.events()
    reports = [s for e in events if e["event"] == "diagnostics" for s in e["status"]]
    ours = [s for s in reports if s["name"] == "plansentry: /plansentry"]
    assert len(ours) >= 2
    last = ours[-1]
    assert last["level"] == 0, last
    assert last["values"]["state"] == "NOMINAL" and last["values"]["breaker"] == "closed"
    assert last["values"]["decisions"] == "4" and last["values"]["late"] == "0"
    assert int(last["values"]["model"]) >= 3


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("budget_ms:=-5.0", "parameter budget_ms must be >= 1"),
        ("budget_ms:=fast", "parameter budget_ms must be a number"),
        ("workers:=0", "parameter workers"),
        ("kit:=nosuchkit", "parameter kit: no domain kit 'nosuchkit'"),
    ],
)
def test_a_bad_parameter_is_refused_at_start_in_one_line(ros_env, tmp_path, param, message) -> None:
    """A bad value: exit 2 and one line naming the parameter, before the node takes a request."""
    proc = subprocess.run(
        [sys.executable, "-m", "plansentry.cli", "ros2", "--ros-args", "-p", param],
        env=ros_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    code, err = proc.returncode, proc.stderr
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_only_the_robots_served_change_at_run_time(guard, robots, upstream, ros_env) -> None:
    """``robots`` may be set while the node runs (a robot joins the fleet and is served); a
    read-only parameter is refused by ROS, and its descriptor says so."""
    guard(upstream=upstream.url, robots="[robot-0]")
    script = {
        "set": [["robots", ["robot-0", "robot-1"]], ["budget_ms", 10.0], ["robots", ["a b"]]],
        "describe": ["budget_ms", "robots"],
    }
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("param_client.py")), json.dumps(script)],
        env=ros_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    sets = [x for x in lines if "set" in x]
    assert [(x["set"], x["ok"]) for x in sets] == [
        ("robots", True),
        ("budget_ms", False),
        ("robots", False),
    ]
    assert "read-only" in sets[1]["reason"] and "not a robot id" in sets[2]["reason"]
    described = {x["describe"]: x for x in lines if "describe" in x}
    assert described["budget_ms"]["read_only"] and not described["robots"]["read_only"]
    for r in results(robots(robots=2, rounds=1, budget_ms=BUDGET_MS).events()):
        assert_by_budget(r, BUDGET_MS)


def test_sigterm_drains_the_decisions_in_flight_and_closes_the_audit_log(
    guard, robots, upstream
) -> None:
    """Three decisions waiting on a silent upstream when SIGTERM comes: each still arrives by its
    budget, the audit log holds all three (whole lines), and the node exits 0."""
    from plansentry.telemetry.audit import read_log

    upstream.mode = "half_open"
    g = guard(upstream=upstream.url, max_budget_ms=5000.0)
    bots = robots(robots=3, rounds=1, budget_ms=1500.0, timeout_s=5.0)
    deadline = time.monotonic() + 20
    while upstream.requests < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert upstream.requests == 3  # all three wait on the model
    assert g.stop() == 0
    for r in results(bots.events()):
        d = assert_by_budget(r, 1500.0)
        assert d["failure_mode"] == "timeout"
    log = read_log(g.audit)
    assert [r["type"] for r in log.records] == ["header", "decision", "decision", "decision"]
    assert not log.torn_tail and "stopped after 3 decisions" in g.stderr
