"""The README's ROS 2 robot, run as written against ``plansentry ros2`` (the warehouse kit; an
upstream that refuses connections stands in for the model, so the classical planner decides)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from plansentry.planners.local_server import free_port

pytestmark = pytest.mark.realtime
ROOT = Path(__file__).resolve().parents[2]


def _robot_code() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## plansentry ros2") :]
    return re.search(r"```python\n(.*?)```", section, re.S)[1]


def test_the_readmes_robot_gets_a_decision(guard, ros_env, tmp_path) -> None:
    """The robot prints the decision's source and plan, not its own safe stop."""
    guard(kit="warehouse", upstream=f"http://127.0.0.1:{free_port()}/v1")
    script = tmp_path / "robot.py"
    script.write_text(_robot_code())
    proc = subprocess.run(
        [sys.executable, str(script)], env=ros_env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("('classical', {"), proc.stdout
