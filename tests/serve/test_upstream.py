"""The service against an OpenAI-compatible upstream through the fault proxy (answering by itself:
no model needed): each fault ends in a decision on time with the right failure mode; a stream
finished by finish_reason alone is accepted; a 429 with Retry-After: 2 is not asked again for
2 s; the upstream's key never reaches a response, a log or the audit log."""

from __future__ import annotations

import logging
import time

import httpx
import msgspec
import pytest
from servekit import CONTEXT, running

from faultproxy import FaultProxy
from plansentry.planners.local_server import free_port
from plansentry.serve.config import ServeConfig
from plansentry.serve.service import Service
from plansentry.serve.upstream import describe

pytestmark = pytest.mark.realtime
KEY = "sk-upstream-secret-0123456789abcdef"


@pytest.fixture
def proxy():
    p = FaultProxy(free_port()).start()
    yield p
    p.stop()


@pytest.fixture
def upstream_service(tmp_path, kit, proxy):
    """A service whose upstream is the fault proxy, with an API key; yields (base URL, service)."""
    cfg = ServeConfig(
        kit="toy",
        upstream=f"http://127.0.0.1:{proxy.port}/v1",
        audit_log=str(tmp_path / "audit.jsonl"),
    )
    service = Service(cfg, kit=kit, api_key=KEY)
    with running(service) as base, httpx.Client(base_url=base, timeout=10) as client:
        client.get("/healthz")  # a warm keep-alive connection, as a robot holds
        yield client, service


def decide(client: httpx.Client, budget_ms: float) -> dict:
    """One decision: the service composed it by its deadline plus 5 ms (the issue's bound, on the
    service's own clock), and it came back by the deadline plus 250 ms on this client's clock: the
    client and the loopback hop share a loaded 2-core machine with the service (160 ms seen at a
    load average of 5), while a service that waited for the upstream would take its stall (seconds)."""
    t0 = time.monotonic()
    r = client.post("/v1/decide", json={"context": CONTEXT, "budget_ms": budget_ms})
    took_ms = (time.monotonic() - t0) * 1000
    assert r.status_code == 200, r.text
    assert r.json()["timing"]["slack_ms"] >= -5
    assert took_ms <= budget_ms + 250, f"answered after {took_ms:.1f} ms"
    return r.json()


@pytest.mark.parametrize(
    ("mode", "param", "budget_ms", "expected", "detail"),
    [
        ("status", 503, 1_000, "transport", "HTTP 503"),
        ("status", 500, 1_000, "transport", "HTTP 500"),
        ("garbage", 0, 1_000, "transport", "malformed server-sent event"),
        ("trickle", 0.2, 1_000, "timeout", "cut-off"),  # no whole event by the cut-off
        ("half_open", 0, 400, "timeout", "cut-off"),
        ("retry_after", 1, 1_000, "transport", "Retry-After: 1"),
    ],
)
def test_an_upstream_fault_is_decided_on_time_with_its_failure_mode(
    upstream_service, proxy, mode, param, budget_ms, expected, detail
) -> None:
    """Each fault: 200 by the deadline, the fallback's plan, the failure mode and its detail."""
    base, _ = upstream_service
    proxy.mode, proxy.param = mode, param
    d = decide(base, budget_ms)
    assert d["failure_mode"] == expected and d["source"] == "stepper"
    assert detail in d["violations"][0]["detail"]


def test_a_stream_finished_without_done_is_accepted_through_the_service(
    upstream_service, proxy, good_text
) -> None:
    """The upstream ends with finish_reason and no [DONE]: the model's plan is used."""
    base, _ = upstream_service
    proxy.mode, proxy.content = "finish_no_done", good_text.decode()
    d = decide(base, 1_000)
    assert d["source"] == "llm" and d["plan"] == msgspec.json.decode(good_text)


def test_a_429_with_retry_after_2_is_not_asked_again_for_2_s(upstream_service, proxy) -> None:
    """Retry-After: 2 -> 2 s of decisions without a call upstream, each saying why; then asked."""
    base, _ = upstream_service
    proxy.mode, proxy.param = "retry_after", 2
    first = decide(base, 500)
    t_first = time.monotonic()
    assert first["failure_mode"] == "transport" and proxy.requests == 1
    skipped = []
    while time.monotonic() - t_first < 1.8:
        d = decide(base, 100)
        skipped.append(d["skipped"])
    assert skipped and all(s.startswith("retry-after") for s in skipped), skipped
    assert proxy.requests == 1
    time.sleep(max(0.0, t_first + 2.1 - time.monotonic()))
    proxy.mode, proxy.param = "status", 503
    again = decide(base, 500)
    assert again["consulted"] and proxy.requests == 2


def test_the_upstream_key_never_leaves_the_authorization_header(
    upstream_service, proxy, tmp_path, caplog, capfd
) -> None:
    """An upstream that echoes the request (key included) in its error page: the key is in no
    response (body, headers), no log line, and not in the audit log."""
    base, service = upstream_service
    proxy.mode = "echo"
    caplog.set_level(logging.DEBUG)
    seen = []
    for path in ("/v1/decide", "/v1/chat/completions"):
        body = {"context": CONTEXT, "budget_ms": 500}
        if path.endswith("completions"):
            body = {"model": "m", "messages": [], "plansentry": body}
        r = base.post(path, json=body)
        assert r.status_code == 200 and "HTTP 401" in r.text
        seen.append(r.text + str(r.headers))
    for path in ("/readyz", "/metrics", "/v1/schema"):
        seen.append(base.get(path).text)
    seen.append(describe(service.config))
    out, err = capfd.readouterr()
    seen += [out, err, caplog.text, (tmp_path / "audit.jsonl").read_text()]
    assert proxy.requests == 2
    for text in seen:
        assert KEY not in text and KEY[:12] not in text
