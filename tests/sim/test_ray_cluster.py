"""Sweeps on a Ray cluster a user already runs (docs/RAY.md): a head node this module starts on this
machine with ``ray start --head`` (token authentication on), reached by ``plansentry sweep --engine
ray --ray-address``, and stopped by this module alone.

The head is asked for 127.0.0.1 (``--node-ip-address``); Ray 2.60 still reports the machine's own
address and listens on all interfaces, an accepted exception to "servers in tests bind 127.0.0.1":
no test here points Ray at another host. The head's temporary directory and its token file live in
a directory this module creates and removes; only this head is stopped (SIGTERM to its ``ray start
--block``, which stops the processes it started, then SIGKILL to whatever is left of its process
group), never with a machine-wide ``ray stop``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import IN_CI
from plansentry.cli import main
from plansentry.sim.config import SimConfigError

pytestmark = pytest.mark.ray

RAY_CLI = Path(sys.executable).with_name("ray")
HEAD_ARGS = ["start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--num-cpus", "2"]
HEAD_ARGS += ["--include-dashboard", "false", "--disable-usage-stats"]
SWEEP = ["sweep", "--budgets", "50,150", "--profiles", "pilot,outage", "--robots", "2"]
SWEEP += ["--cycles", "2000", "--seed", "3", "--json"]
START_TIMEOUT_S = 120.0
RUN_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 60.0
#: Every variable through which a client could be given a cluster or a token.
RAY_CLIENT_VARS = ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")


@dataclass(frozen=True)
class Head:
    address: str
    token_path: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_user_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Ray address or token, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in RAY_CLIENT_VARS}
    env.update(extra)
    return env


def with_token(head: Head) -> dict[str, str]:
    return new_user_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(head.token_path))


def sweep_on(head: Head, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "plansentry.cli",
            *SWEEP,
            "--engine",
            "ray",
            *("--ray-address", head.address),
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=env,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop this head only: its ``ray start --block`` first, then what is left of its group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # drains, then stops the processes it started
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(STOP_TIMEOUT_S)
    with contextlib.suppress(ProcessLookupError):  # nothing left
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: start_new_session=True
    proc.wait(STOP_TIMEOUT_S)


@pytest.fixture(scope="module")
def head() -> Iterator[Head]:
    pytest.importorskip("ray")
    if not RAY_CLI.exists():
        if IN_CI:
            pytest.fail(f"the ray command is missing beside {sys.executable}")
        pytest.skip(f"the ray command is missing beside {sys.executable}")
    # Not pytest's tmp_path: Ray's socket paths (temp dir + session + name) must fit in 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="plansentry-ray-"))
    token = root / "token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    port = free_port()
    log_path = root / "head.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(RAY_CLI), *HEAD_ARGS, "--port", str(port), "--temp-dir", str(root / "ray")],
            env=new_user_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while b"Ray runtime started" not in log_path.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the head did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)  # a real process starting: polled, bounded by START_TIMEOUT_S
        yield Head(f"127.0.0.1:{port}", token)
    finally:
        stop(proc)
        shutil.rmtree(root, ignore_errors=True)


def test_a_sweep_on_the_cluster_gives_the_local_engines_grid(head, capsys) -> None:
    """With RAY_AUTH_MODE=token and the cluster's token, the grid equals the local engine's."""
    proc = sweep_on(head, with_token(head))
    assert proc.returncode == 0, proc.stderr[-3000:]
    on_ray = json.loads(proc.stdout)
    assert main([*SWEEP, "--engine", "local"]) == 0
    local = json.loads(capsys.readouterr().out)
    assert on_ray["engine"] == "ray" and local["engine"] == "local"
    assert len(on_ray["grid"]) == 4
    assert on_ray["grid"] == local["grid"]


def test_without_the_clusters_token_the_sweep_stops_naming_the_fix(head) -> None:
    """As a new user runs it (no RAY_AUTH_MODE): one line, exit 2, the refusal and the fix."""
    proc = sweep_on(head, new_user_env())
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"plansentry: error: --ray-address {head.address}: ")
    assert "Authentication token is missing or incorrect" in last
    assert "RAY_AUTH_MODE=token" in last and "RAY_AUTH_TOKEN_PATH" in last


def test_token_mode_without_a_token_stops_naming_the_fix(head, tmp_path) -> None:
    """RAY_AUTH_MODE=token but no token anywhere (HOME elsewhere): one line, exit 2, the fix."""
    proc = sweep_on(head, new_user_env(RAY_AUTH_MODE="token", HOME=str(tmp_path)))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"plansentry: error: --ray-address {head.address}: ")
    assert "no authentication token was found" in last and "RAY_AUTH_TOKEN_PATH" in last


def test_no_cluster_at_the_address_stops_at_once() -> None:
    """A port where nothing listens: refused in seconds (Ray itself retries for many minutes)."""
    pytest.importorskip("ray")
    from plansentry.sim.ray import RayEngine

    address = f"127.0.0.1:{free_port()}"
    with pytest.raises(SimConfigError, match="no Ray cluster answers there"):
        RayEngine(address, connect_timeout_s=5.0)


@pytest.mark.parametrize("timeout_s", [0.0, -1.0, float("nan")])
def test_the_connect_timeout_must_be_positive(timeout_s: float) -> None:
    """``connect_timeout_s`` of 0, negative or NaN is refused at construction."""
    pytest.importorskip("ray")
    from plansentry.sim.ray import RayEngine

    with pytest.raises(SimConfigError, match="connect_timeout_s"):
        RayEngine("127.0.0.1:1", connect_timeout_s=timeout_s)


def test_a_ray_address_without_the_ray_engine_is_refused(capsys) -> None:
    """``--ray-address`` with the local engine would be silently ignored: exit 2 instead."""
    assert main([*SWEEP, "--ray-address", "127.0.0.1:6379"]) == 2
    assert "--ray-address needs --engine ray" in capsys.readouterr().err
