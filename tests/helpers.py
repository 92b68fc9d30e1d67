"""Shared test helpers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

#: CI runs the suite with CI=true: what may skip on a developer's clone must fail there.
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

#: The fields every FMLI row has, in ``simulate --json`` and ``demo --json`` alike (the issue's list).
FMLI_ROW_KEYS = frozenset(
    {
        "failure_mode",
        "count",
        "rate",
        "detect_ms_p50",
        "detect_ms_p99",
        "mitigation",
        "bucket",
        "downtime_s_unguarded",
        "downtime_s_guarded",
    }
)


def require_tools(*tools: str) -> None:
    """Skip the calling test when a command-line tool it runs is missing on a developer's clone;
    fail it in CI (scripts/test.sh installs what the suite needs)."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        (pytest.fail if IN_CI else pytest.skip)(f"needs {', '.join(missing)} on PATH")


def run_cli(args: list[str], stdin: str = "", timeout_s: float = 120) -> tuple[int, str, str]:
    """``plansentry ARGS`` in a child process, as a user runs it: (exit code, stdout, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-m", "plansentry.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    return proc.returncode, proc.stdout, proc.stderr


def eventually(condition: Callable[[], object], timeout_s: float = 2.0) -> bool:
    """Poll ``condition`` every millisecond until it holds or ``timeout_s`` passes; whether it
    held. For what another real thread does just after the call under test returns (not a
    unit-test wait: the caller asserts what it needs afterwards)."""
    until = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() >= until:
            return False
        time.sleep(0.001)
    return True


__all__ = ["FMLI_ROW_KEYS", "IN_CI", "eventually", "require_tools", "run_cli"]
