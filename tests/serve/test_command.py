"""``plansentry serve`` as a user runs it: a real process on 127.0.0.1. A non-loopback bind
without a token is refused in one line; SIGTERM drains the decisions in flight by their deadlines,
closes the audit log and exits 0; responses on kept-alive connections are not held by Nagle."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from servekit import CONTEXT

from faultproxy import FaultProxy
from helpers import run_cli
from plansentry.planners.local_server import free_port
from plansentry.serve.command import bind
from plansentry.telemetry.audit import read_log

pytestmark = pytest.mark.realtime


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "robot-host.example"])
def test_a_non_loopback_bind_without_a_token_is_refused_in_one_line(host, monkeypatch) -> None:
    """Exit 2 and one line naming the remedy; nothing is bound or loaded."""
    monkeypatch.delenv("PLANSENTRY_SERVE_TOKEN", raising=False)
    code, out, err = run_cli(["serve", "--host", host, "--kit", "toy", "--no-audit-log"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("plansentry: error: binding to")
    assert "--token-file" in err and "--insecure-no-token" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token-file", "/nonexistent/token"], "--token-file: cannot read"),
        (["--budget-ms", "0"], "budget_ms must be > 0"),
        (["--kit", "nosuchkit"], "no domain kit 'nosuchkit'"),
        (["--upstream", "ftp://x"], "upstream must be"),
        (["--param", "novalue"], "--param takes KEY=VALUE"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(args, message) -> None:
    """Every setting a user can get wrong: one line, exit 2, no traceback."""
    code, _, err = run_cli(["serve", "--port", "0", "--no-audit-log", "--kit", "toy", *args])
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_a_kept_alive_connection_is_not_delayed_by_nagle() -> None:
    """Regression (40 ms per decision on a kept-alive connection): the listening socket is a
    TCP socket asyncio turns Nagle off on."""
    import socket

    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        sock.close()


@pytest.fixture
def half_open_proxy():
    """An upstream that reads every request and never answers: decisions wait to the cut-off."""
    p = FaultProxy(free_port()).start()
    p.mode = "half_open"
    yield p
    p.stop()


def _start(tmp_path, upstream: str, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "plansentry.cli",
            "serve",
            "--kit",
            "toy",
            "--port",
            str(port),
            "--upstream",
            upstream,
            "--audit-log",
            str(tmp_path / "audit.jsonl"),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"serve did not start: {proc.communicate()[1]}")
        time.sleep(0.05)


def test_sigterm_drains_decisions_in_flight_and_flushes_the_audit_log(tmp_path, half_open_proxy):
    """Five decisions waiting on a silent upstream when SIGTERM comes: each is answered 200 by
    its deadline, the audit log holds all five (whole lines), new connections are refused, and
    the process exits 0 well within the drain bound."""
    proc, base = _start(tmp_path, f"http://127.0.0.1:{half_open_proxy.port}/v1")
    budget_ms = 1500
    try:
        with httpx.Client(base_url=base, timeout=5) as warm:
            warm.get("/healthz")

        def one(_: int) -> tuple[int, float, dict]:
            with httpx.Client(base_url=base, timeout=5) as c:
                t0 = time.monotonic()
                r = c.post("/v1/decide", json={"context": CONTEXT, "budget_ms": budget_ms})
                return r.status_code, (time.monotonic() - t0) * 1000, r.json()

        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            futures = [pool.submit(one, i) for i in range(5)]
            deadline = time.monotonic() + 5
            while half_open_proxy.requests < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert half_open_proxy.requests == 5  # all five are waiting on the model
            t_term = time.monotonic()
            os.kill(proc.pid, signal.SIGTERM)
            results = [f.result() for f in futures]
        code = proc.wait(10)
        stopped_s = time.monotonic() - t_term
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert [status for status, _, _ in results] == [200] * 5
    assert all(took <= budget_ms + 50 for _, took, _ in results), [t for _, t, _ in results]
    assert {d["failure_mode"] for _, _, d in results} == {"timeout"}
    assert code == 0 and stopped_s < budget_ms / 1000 + 3
    with pytest.raises(httpx.ConnectError):
        httpx.get(base + "/healthz", timeout=1)
    log = read_log(tmp_path / "audit.jsonl")
    assert not log.torn_tail and not log.bad_lines
    logged = sorted(r["decision"]["seq"] for r in log.records if r["type"] == "decision")
    assert logged == sorted(d["seq"] for _, _, d in results)
    assert "stopped after 5 decisions" in proc.stderr.read()
