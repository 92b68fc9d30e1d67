"""What the ROS 2 tests share: a ROS domain of their own per test, ``plansentry ros2`` as a real
process, and robots as another (tests/ros2/robot.py), each stopped at the end of its test.

Every test gets a ``ROS_DOMAIN_ID`` no other test of this run has (a counter, offset by the
process id, so two runs on one machine rarely meet) and host-only discovery
(``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``): nothing crosses between tests, or off the host.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import IN_CI

ROBOT = Path(__file__).with_name("robot.py")
#: The toy kit's decision context the robots send.
CONTEXT = {"task_id": "T-1", "target": 7, "max_step": 3, "blocked": [4]}
#: ROS domain ids this run hands out: 1..100 (Fast DDS's ports stay below 65535 for all of them).
_DOMAINS = itertools.count()
#: How much longer than its budget a robot may wait for a decision on a busy 2-core machine: the
#: node decides by the budget after receipt (asserted exactly); the DDS hop each way, and the
#: robot process's own scheduling, are the robot's to allow for. Measured: 41 ms in a full-suite
#: run beside other sessions' builds, and three round trips of 377-379 ms at a 250 ms budget in
#: three runs of tests/ros2 on 2026-12-08 (the node's decision on time each time; cause not yet
#: known, docs/ROS2.md): the allowance is the machine's worst seen, with room.
HOP_SLACK_MS = 200.0


def require_ros() -> None:
    """Skip on a developer's clone without the ``ros2`` extra; fail in CI, which installs it."""
    try:
        import rclpy  # noqa: F401
    except ImportError as exc:
        (pytest.fail if IN_CI else pytest.skip)(f"needs the ros2 extra (rclpy): {exc}")


def domain_env() -> dict[str, str]:
    """The environment of one test's processes: its own domain, this host only."""
    domain = 1 + (os.getpid() * 7 + next(_DOMAINS)) % 100
    env = dict(os.environ)
    env["ROS_DOMAIN_ID"] = str(domain)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env.pop("ROS_STATIC_PEERS", None)
    return env


class GuardProcess:
    """``plansentry ros2`` in a child process, with the toy kit and the parameters given."""

    def __init__(self, env: dict[str, str], audit: Path, params: dict[str, Any]) -> None:
        self.env = env
        self.audit = audit
        self.params = {"kit": "toy", "audit_log": str(audit), **params}
        self.proc: subprocess.Popen[str] | None = None
        self.stderr = ""

    def start(self, timeout_s: float = 30.0) -> GuardProcess:
        args = []
        for key, value in self.params.items():
            args += ["-p", f"{key}:={value}"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "plansentry.cli", "ros2", "--ros-args", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        deadline = time.monotonic() + timeout_s
        lines = []
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "decisions on" in line:
                self.stderr = "".join(lines)
                return self
        self.kill()
        raise RuntimeError(f"plansentry ros2 did not start: {''.join(lines)}")

    def stop(self, timeout_s: float = 15.0) -> int:
        """SIGTERM, then the exit code (the drain finishes the decisions taken)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout_s)
        assert self.proc.stderr is not None
        self.stderr += self.proc.stderr.read()
        self.proc.stderr.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return code

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for pipe in (getattr(self.proc, "stdout", None), getattr(self.proc, "stderr", None)):
            if pipe is not None and not pipe.closed:
                pipe.close()


class Robots:
    """tests/ros2/robot.py in a child process, running ``script``."""

    def __init__(self, env: dict[str, str], script: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROBOT), json.dumps({"context": CONTEXT, **script})],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: list[str] = []

    def ready(self) -> bool:
        """Whether the robots said they are matched with the guard (reads their first line)."""
        if not self._lines:
            assert self.proc.stdout is not None
            line = self.proc.stdout.readline()
            if line:
                self._lines.append(line)
        return bool(self._lines) and '"ready"' in self._lines[0]

    def events(self, timeout_s: float = 60.0) -> list[dict[str, Any]]:
        """Every event the robots printed, once they are done (they are killed at the timeout)."""
        try:
            out, err = self.proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(f"the robots did not finish: {err[-2000:]}") from None
        lines = [*self._lines, *out.splitlines()]
        events = [json.loads(line) for line in lines if line.startswith("{")]
        assert self.proc.returncode == 0 and events[-1]["event"] == "done", (
            self.proc.returncode,
            err[-2000:],
        )
        return events

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def results(events: list[dict[str, Any]], op: str = "decide") -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == "result" and e["op"] == op]


def assert_by_budget(result: dict[str, Any], budget_ms: float) -> dict[str, Any]:
    """``result`` is a decision taken by its budget (the node's clock), which reached the robot
    within the budget and the hop's slack (the robot's); its decision body."""
    reply = result["reply"]
    assert reply is not None, f"{result['robot']}: no reply within its own timeout"
    assert reply["kind"] == "decision", reply
    d = reply["decision"]
    assert d["on_time"] and d["timing"]["decided_ms"] <= budget_ms, d["timing"]
    assert result["rtt_ms"] <= budget_ms + HOP_SLACK_MS, result["rtt_ms"]
    return d
