"""The C++ client (clients/cpp: one header on POSIX sockets, and an example robot loop), built with
cmake and g++ by the test and run against the real service on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import msgspec
import pytest
from servekit import CONTEXT, Answer, Stall

from helpers import require_tools

pytestmark = pytest.mark.realtime
SOURCE = Path(__file__).resolve().parents[2] / "clients" / "cpp"
TOKEN = "cpp-client-token-0123456789abcdef"


@pytest.fixture(scope="module")
def robot(tmp_path_factory) -> Path:
    """clients/cpp built from scratch (cmake, g++ with -Wall -Wextra -Werror)."""
    require_tools("cmake", "g++")
    build = tmp_path_factory.mktemp("cpp-build")
    subprocess.run(["cmake", "-S", SOURCE, "-B", build], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", build], check=True, capture_output=True, timeout=300)
    return build / "robot"


def run(robot: Path, base: str, *args: str, token: str = "") -> subprocess.CompletedProcess:
    host, port = base.removeprefix("http://").split(":")
    env = {"PLANSENTRY_SERVE_TOKEN": token} if token else {}
    return subprocess.run(
        [robot, host, port, json.dumps(CONTEXT), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


def test_the_cpp_robot_plans_ahead_and_decides(robot, serve, good_text) -> None:
    """Ask ahead, decide by the budget, three times, and once through the chat endpoint: every
    decision the model's plan, on time; the hop is measured."""
    planner = Answer(good_text)
    base, service = serve(planner, token=TOKEN)
    out = run(robot, base, "3", "150", token=TOKEN)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 4 and lines[-1].startswith("chat source=llm")
    plan = msgspec.json.decode(good_text)
    for n, line in enumerate(lines[:3]):
        fields = dict(f.split("=", 1) for f in line.split()[2:])
        assert line.startswith(f"decision {n} ") and fields["source"] == "llm"
        assert fields["on_time"] == "1" and 0 < float(fields["hop_ms"]) < 50
        assert json.loads(fields["plan"]) == plan
    assert json.loads(lines[-1].split("plan=", 1)[1]) == plan
    assert service.guard.seq == 4 and planner.calls == 4


def test_the_cpp_robot_gets_the_fallback_when_the_model_stalls(robot, serve) -> None:
    """A model that never answers: the decisions come back by the budget with the fallback."""
    base, _ = serve(Stall())
    out = run(robot, base, "2", "80")
    assert out.returncode == 0, out.stdout + out.stderr
    assert all(
        "source=stepper failure_mode=timeout on_time=1" in ln for ln in out.stdout.splitlines()[:2]
    )


def test_the_cpp_robot_without_the_token_is_refused(robot, serve, good_text) -> None:
    """No token: 401 for every call, reported, exit 1 (the robot runs its own safe action)."""
    base, _ = serve(Answer(good_text), token=TOKEN)
    out = run(robot, base, "1", "150")
    assert out.returncode == 1
    assert "status=401" in out.stdout and "authorization" in out.stdout
