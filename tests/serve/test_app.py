"""The HTTP API against the real server on 127.0.0.1 (uvicorn, Starlette), with httpx: the native
endpoints, every documented error, the token gate, tickets, overload, and a caller that leaves."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import httpx
import msgspec
import pytest
from servekit import CONTEXT, Answer, Stall

from plansentry.serve import schemas
from plansentry.telemetry.audit import read_log

pytestmark = pytest.mark.realtime
TOKEN = "t0k3n-for-the-tests-only-0123456789"


def post(base: str, path: str, body: object, **kw) -> httpx.Response:
    kw.setdefault("timeout", 10)
    return httpx.post(base + path, json=body, **kw)


def test_decide_returns_the_models_plan_when_it_passes(serve, good_text) -> None:
    """Ask and decide in one call: the model's plan, the decision in the body and headers."""
    planner = Answer(good_text)
    base, _ = serve(planner)
    r = post(base, "/v1/decide", {"context": CONTEXT, "budget_ms": 150})
    assert r.status_code == 200, r.text
    d = r.json()
    assert (d["source"], d["accepted"], d["on_time"]) == ("llm", True, True)
    assert d["plan"] == msgspec.json.decode(good_text)
    assert r.headers["x-plansentry-source"] == "llm"
    assert r.headers["x-plansentry-failure-mode"] == "none"
    assert r.headers["x-should-retry"] == "false"
    assert d["timing"]["budget_ms"] == 150 and d["timing"]["slack_ms"] > 0


def test_a_failing_model_gets_the_fallbacks_plan(serve) -> None:
    """Garbage from the model: the fallback's plan, the failure mode named."""
    base, _ = serve(Answer(b"no plan here"))
    r = post(base, "/v1/decide", {"context": CONTEXT})
    d = r.json()
    assert r.status_code == 200 and d["source"] == "stepper"
    assert d["failure_mode"] == "malformed"
    assert r.headers["x-plansentry-failure-mode"] == "malformed"


def test_responses_match_the_published_schema(serve, good_text) -> None:
    """A decision and a ticket decode strictly into the documented bodies (no field unlisted)."""
    base, _ = serve(Answer(good_text))
    decision = post(base, "/v1/decide", {"context": CONTEXT}).content
    ticket = post(base, "/v1/tickets", {"context": CONTEXT}).content
    msgspec.json.decode(decision, type=schemas.Decision, strict=True)
    msgspec.json.decode(ticket, type=schemas.Ticket, strict=True)
    published = httpx.get(base + "/v1/schema").json()
    assert set(published["bodies"]) == set(schemas.BODIES) and "plan" in published


@pytest.mark.parametrize(
    ("path", "content", "headers", "status", "param"),
    [
        ("/v1/decide", b"{not json", {}, 400, "body"),
        ("/v1/decide", b"[]", {}, 422, "body"),
        ("/v1/decide", b'[{"context": {}}]', {}, 422, "body"),
        ("/v1/decide", b'"a string"', {}, 422, "body"),
        ("/v1/tickets", b"[1, 2]", {}, 422, "body"),
        ("/v1/decide", b'{"context": {}}', {"content-type": "text/plain"}, 415, "content-type"),
        ("/v1/decide", b"{}", {}, 422, "context"),
        ("/v1/decide", b'{"context": {"task_id": "T", "target": "x"}}', {}, 422, "context.target"),
        ("/v1/decide", b'{"context": {"task_id": "T"}}', {}, 422, "context"),
        ("/v1/decide", b'{"context": {}, "budgt_ms": 1}', {}, 422, "budgt_ms"),
        (
            "/v1/decide",
            b'{"context": {"task_id": "T", "target": 1}, "budget_ms": 2}',
            {},
            422,
            "budget_ms",
        ),
        (
            "/v1/decide",
            b'{"context": {"task_id": "T", "target": 1}, "budget_ms": 1e9}',
            {},
            422,
            "budget_ms",
        ),
        (
            "/v1/decide",
            b'{"context": {"task_id": "T", "target": 1}, "budget_ms": -1}',
            {},
            422,
            "budget_ms",
        ),
        ("/v1/decide", b'{"ticket": "nosuchticket"}', {}, 404, "ticket"),
        ("/v1/decide", b'{"ticket": "../etc"}', {}, 422, "ticket"),
        ("/v1/decide", b'{"context": {"x": "' + b"a" * 70_000 + b'"}}', {}, 413, "body"),
        (
            "/v1/tickets",
            b'{"context": {"task_id": "T", "target": 1}, "ttl_s": 1e6}',
            {},
            422,
            "ttl_s",
        ),
        ("/v1/tickets", b'{"ttl_s": 1}', {}, 422, "context"),
        ("/v1/nowhere", b"{}", {}, 404, "path"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field_and_never_reaches_the_model(
    serve, good_text, path, content, headers, status, param
) -> None:
    """Each documented refusal: its status, the field it names, and no model call."""
    planner = Answer(good_text)
    base, _ = serve(planner)
    hdrs = {"content-type": "application/json", **headers}
    r = httpx.post(base + path, content=content, headers=hdrs, timeout=10)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["param"] == param and error["message"].startswith(param), error
    assert r.headers["x-should-retry"] == "false"
    assert planner.calls == 0


def test_a_body_over_the_cap_without_a_length_is_refused(serve, good_text) -> None:
    """A chunked body (no Content-Length) is cut at the cap: 413, nothing reaches the model."""
    planner = Answer(good_text)
    base, _ = serve(planner)

    def chunks():
        yield b'{"context": {"x": "'
        for _ in range(100):
            yield b"a" * 1024
        yield b'"}}'

    r = httpx.post(
        base + "/v1/decide", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"]["param"] == "body"
    assert planner.calls == 0


def test_a_wrong_method_is_405(serve, good_text) -> None:
    """GET on a POST route: 405 in the error shape."""
    base, _ = serve(Answer(good_text))
    r = httpx.get(base + "/v1/decide")
    assert r.status_code == 405 and r.json()["error"]["code"] == "http_405"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"authorization": "Bearer wrong-token-wrong-token"}, 401),
        ({"authorization": TOKEN}, 401),  # no "Bearer "
        ({"authorization": f"Bearer {TOKEN}"}, 200),
    ],
)
def test_with_a_token_every_request_needs_it(serve, good_text, headers, status) -> None:
    """A service with an access token answers 401 (WWW-Authenticate: Bearer) without it."""
    planner = Answer(good_text)
    base, _ = serve(planner, token=TOKEN)
    r = post(base, "/v1/decide", {"context": CONTEXT}, headers=headers)
    assert r.status_code == status, r.text
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer" and planner.calls == 0
        assert r.json()["error"]["param"] == "authorization"
        assert httpx.get(base + "/metrics", headers=headers).status_code == 401


def test_healthz_is_open_and_readyz_tells_the_guards_state(serve, good_text) -> None:
    """Liveness needs no token; readiness (token) tells the state, the breaker, the tickets."""
    base, _ = serve(Answer(good_text), token=TOKEN)
    assert httpx.get(base + "/healthz").json() == {"ok": True}
    auth = {"authorization": f"Bearer {TOKEN}"}
    ready = httpx.get(base + "/readyz", headers=auth).json()
    assert ready["ready"] is True and ready["state"] == "NOMINAL" and ready["breaker"] == "closed"


def test_metrics_count_the_decisions(serve, good_text) -> None:
    """/metrics is the guard's Prometheus metrics."""
    base, _ = serve(Answer(good_text))
    post(base, "/v1/decide", {"context": CONTEXT})
    text = httpx.get(base + "/metrics").text
    assert 'plansentry_decisions_total{failure_mode="none",source="llm"} 1.0' in text


def test_a_ticket_asked_ahead_is_decided_once(serve, good_text) -> None:
    """Ask -> 201 with an unguessable id; decide uses it; a second decide finds it gone."""
    planner = Answer(good_text)
    base, _ = serve(planner)
    t = post(base, "/v1/tickets", {"context": CONTEXT})
    assert t.status_code == 201 and t.json()["asked"] is True
    ticket = t.json()["ticket"]
    assert len(ticket) >= 22  # 16 random bytes, url-safe base64
    d = post(base, "/v1/decide", {"ticket": ticket, "budget_ms": 100})
    assert d.json()["ticket"] == "used" and d.json()["source"] == "llm"
    again = post(base, "/v1/decide", {"ticket": ticket})
    assert again.status_code == 404 and planner.calls == 1


def test_an_unknown_ticket_with_a_context_still_decides(serve, good_text) -> None:
    """A ticket gone (expired, never held) with the context given: decided from the context."""
    base, _ = serve(Answer(good_text))
    r = post(base, "/v1/decide", {"ticket": "A" * 22, "context": CONTEXT})
    assert r.status_code == 200 and r.json()["ticket"] == "expired"


def test_a_full_ticket_store_asks_nothing_and_holds_nothing(serve, good_text) -> None:
    """At max_tickets a further ask gets an empty ticket (200), and decide with a context works."""
    planner = Answer(good_text)
    base, _ = serve(planner, max_tickets=2)
    codes = [post(base, "/v1/tickets", {"context": CONTEXT}).status_code for _ in range(2)]
    full = post(base, "/v1/tickets", {"context": CONTEXT})
    assert codes == [201, 201] and full.status_code == 200
    assert full.json()["ticket"] == "" and full.json()["asked"] is False
    assert "full" in full.json()["skipped"] and planner.calls == 2
    assert post(base, "/v1/decide", {"context": CONTEXT}).json()["source"] == "llm"


def test_cancelling_a_ticket_stops_its_model_call(serve) -> None:
    """DELETE a ticket: 204, its model call is cancelled; a second DELETE is 404."""
    planner = Stall()
    base, _ = serve(planner)
    ticket = post(base, "/v1/tickets", {"context": CONTEXT}).json()["ticket"]
    assert planner.started.wait(5)
    assert httpx.delete(f"{base}/v1/tickets/{ticket}").status_code == 204
    assert planner.cancelled.wait(5)
    assert httpx.delete(f"{base}/v1/tickets/{ticket}").status_code == 404


def test_a_caller_that_disconnects_stops_its_model_call(serve, tmp_path) -> None:
    """A client gone 0.3 s into a 5 s decision: the model call is cancelled at once, and the
    decision is recorded as not consulted (a caller's departure is not the model's failure)."""
    planner = Stall()
    base, service = serve(planner)
    t0 = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        post(base, "/v1/decide", {"context": CONTEXT, "budget_ms": 5000}, timeout=0.3)
    assert planner.cancelled.wait(2.0)
    assert time.monotonic() - t0 < 2.5  # long before the 5 s deadline
    deadline = time.monotonic() + 2
    records: list = []
    while not records and time.monotonic() < deadline:  # the decision is written by its thread
        records = [r for r in read_log(tmp_path / "audit.jsonl").records if r["type"] == "decision"]
        time.sleep(0.01)
    assert records and records[0]["decision"]["skipped"] == "cancelled: the caller went away"
    assert service.guard.state.breaker.phase.value == "closed"


def test_more_callers_than_workers_all_get_a_plan_by_their_deadline(serve) -> None:
    """Eight robots at once against two model workers that stall: each answered by its deadline
    with the fallback's plan; none refused."""

    def stall(ctx, stop):
        stop.wait(5)
        return b""

    base, _ = serve(stall, workers=2)
    results = _concurrently(base, 8, budget_ms=300)
    assert [r.status_code for r, _ in results] == [200] * 8
    assert all(took_ms <= 300 + 50 for _, took_ms in results), [t for _, t in results]
    decisions = [r.json() for r, _ in results]
    assert all(d["source"] == "stepper" and d["on_time"] for d in decisions)
    waited = [d for d in decisions if d["failure_mode"] == "timeout"]
    assert len(waited) <= 2  # only two workers could take a call


def test_beyond_max_inflight_decisions_are_taken_at_once_without_the_model(serve) -> None:
    """Six waiting decisions against max_inflight 2: four are decided at once by the fallback
    ("service overloaded"), all 200, all by their deadline."""
    base, service = serve(Stall(), max_inflight=2)
    results = _concurrently(base, 6, budget_ms=400)
    assert [r.status_code for r, _ in results] == [200] * 6
    assert all(took_ms <= 400 + 50 for _, took_ms in results)
    skipped = [r.json()["skipped"] for r, _ in results]
    assert skipped.count("service overloaded") == 4 and service.overloaded == 4


def _concurrently(base: str, n: int, *, budget_ms: float) -> list[tuple[httpx.Response, float]]:
    """``n`` robots decide at once, each on its own warm keep-alive connection; each response
    with the time it took, measured around the request alone."""
    clients = [httpx.Client(base_url=base, timeout=10) for _ in range(n)]
    for c in clients:
        c.get("/healthz")
    start = threading.Barrier(n)

    def one(client: httpx.Client) -> tuple[httpx.Response, float]:
        start.wait()
        t0 = time.monotonic()
        r = client.post("/v1/decide", json={"context": CONTEXT, "budget_ms": budget_ms})
        return r, (time.monotonic() - t0) * 1000

    try:
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            return list(pool.map(one, clients))
    finally:
        for c in clients:
            c.close()
