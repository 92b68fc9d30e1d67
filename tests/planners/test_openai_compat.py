"""The OpenAI-compatible planner against a real llama.cpp server on 127.0.0.1, through the project's
fault proxy: every decision arrives on time with the right failure mode. No mocks on this path.

The tests marked ``model`` talk to the real server; the others to the fault proxy answering by
itself, or to a loopback upstream that streams a given answer (the protocol, not the model, is
what they check): a stream completed by ``finish_reason`` alone, ``Retry-After``, the connection
pool, the key kept out of every message."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import pytest

from faultproxy import FaultProxy, StreamingUpstream
from plansentry.core.failures import FailureMode
from plansentry.domains.warehouse.classical import ClassicalPlanner
from plansentry.domains.warehouse.examples import default_order
from plansentry.domains.warehouse.kit import default_config, make_guard
from plansentry.domains.warehouse.map import default_map
from plansentry.domains.warehouse.prompts import PromptFor
from plansentry.domains.warehouse.rules import WarehouseDomain
from plansentry.domains.warehouse.schema import encode_plan
from plansentry.planners.local_server import embedded_server, free_port
from plansentry.planners.openai_compat import (
    OpenAICompatPlanner,
    RetryAfter,
    TransportError,
    response_format,
    retry_after_s,
)
from plansentry.runtime.planner import RetryLater, StopToken
from plansentry.runtime.realtime import RealtimeRuntime

pytestmark = pytest.mark.realtime
model = pytest.mark.model
MS = 1_000_000


@pytest.fixture(scope="module")
def wh():
    return default_map()


@pytest.fixture(scope="module")
def domain(wh):
    return WarehouseDomain(wh)


@pytest.fixture(scope="module")
def ctx(domain, wh):
    return domain.context(default_order(wh), "R1", wh.pack_stations["PACK-1"])


@pytest.fixture(scope="module")
def good_text(domain, ctx) -> str:
    """The classical planner's plan for ``ctx`` as JSON text: an answer the gate passes."""
    return encode_plan(ClassicalPlanner(domain.router).plan(ctx).plan).decode()


@pytest.fixture
def lone_proxy():
    """The fault proxy with nothing upstream: for the modes where it answers by itself."""
    p = FaultProxy(free_port()).start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def server():
    """llama_cpp.server with the embedded model on 127.0.0.1, stopped at the end of the module."""
    with embedded_server() as base:
        yield httpx.URL(base).port


@pytest.fixture
def proxy(server):
    p = FaultProxy(server).start()
    yield p
    p.stop()


def runtime_for(domain, budget_ms: float) -> RealtimeRuntime:
    return RealtimeRuntime(
        make_guard(domain=domain, config=default_config(budget_ms=budget_ms)), workers=2
    )


def planner_via(wh, port: int, **kw) -> OpenAICompatPlanner:
    return OpenAICompatPlanner(
        PromptFor(wh), base_url=f"http://127.0.0.1:{port}/v1", stall_s=1.0, **kw
    )


def decide(runtime, ctx, planner, budget_ms: float):
    deadline = time.monotonic_ns() + int(budget_ms * MS)
    d = runtime.decide_now(ctx, planner, deadline_ns=deadline)
    returned = time.monotonic_ns()
    assert d.on_time and returned <= deadline + 2 * MS, "decision late"
    return d


@model
def test_real_server_answers_a_plan_through_the_guard(domain, wh, ctx, proxy) -> None:
    """Through the proxy in pass mode, the server's constrained answer parses and fits the schema."""
    proxy.mode = "pass"
    rt = runtime_for(domain, 60_000)
    try:
        d = decide(rt, ctx, planner_via(wh, proxy.port), 60_000)
    finally:
        rt.close()
    assert d.failure_mode not in (
        FailureMode.TRANSPORT,
        FailureMode.TIMEOUT,
        FailureMode.MALFORMED,
        FailureMode.SCHEMA,
    ), d.violations
    assert d.latency_ns is not None


@model
@pytest.mark.parametrize(
    ("mode", "param", "budget_ms", "expected", "detail"),
    [
        ("status", 429, 2_000, FailureMode.TRANSPORT, "HTTP 429"),
        ("status", 503, 2_000, FailureMode.TRANSPORT, "HTTP 503"),
        ("garbage", 0, 2_000, FailureMode.TRANSPORT, "malformed server-sent event"),
        ("reset", 900, 30_000, FailureMode.TRANSPORT, ""),
        ("truncate", 900, 30_000, FailureMode.TRANSPORT, "truncated"),
        ("trickle", 0.1, 30_000, FailureMode.TRANSPORT, "trickles"),
        ("delay", 5.0, 1_500, FailureMode.TIMEOUT, "cut-off"),
        ("half_open", 0, 1_500, FailureMode.TIMEOUT, "cut-off"),
    ],
)
def test_injected_fault(domain, wh, ctx, proxy, mode, param, budget_ms, expected, detail) -> None:
    """Each fault ends in a decision on time, a fallback plan, and the right failure mode."""
    proxy.mode, proxy.param = mode, param
    rt = runtime_for(domain, budget_ms)
    try:
        d = decide(rt, ctx, planner_via(wh, proxy.port), budget_ms)
    finally:
        rt.close()
    assert d.failure_mode is expected, d.violations
    assert detail in d.violations[0].detail
    assert d.source == "classical"


def test_connection_refused_is_transport(domain, wh, ctx) -> None:
    """Nobody listening: a transport failure at once."""
    rt = runtime_for(domain, 2_000)
    try:
        d = decide(rt, ctx, planner_via(wh, free_port()), 2_000)
    finally:
        rt.close()
    assert d.failure_mode is FailureMode.TRANSPORT and "ConnectError" in d.violations[0].detail


def test_dialects_spell_structured_output_their_own_way() -> None:
    """llama.cpp's server takes json_object with a schema; OpenAI, vLLM, Ollama take json_schema."""
    schema = {"type": "object"}
    assert response_format("llama.cpp", schema) == {"type": "json_object", "schema": schema}
    assert response_format("vllm", schema)["type"] == "json_schema"
    assert response_format("none", schema) is None
    with pytest.raises(ValueError, match="dialect"):
        response_format("tgi", schema)


def test_missing_base_url_is_a_clear_error(wh, monkeypatch) -> None:
    """No URL anywhere: say where to give one."""
    monkeypatch.delenv("PLANSENTRY_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="PLANSENTRY_BASE_URL"):
        OpenAICompatPlanner(PromptFor(wh))


@model
def test_a_503_storm_opens_the_breaker_which_probes_after_its_cooldown(domain, wh, ctx, proxy):
    """Three 503s in a row open the breaker (BYPASS: the model is not asked, the classical planner
    drives); after the cool-down a probe asks the model again, fails on the storm, and reopens the
    breaker with the cool-down doubled."""
    from plansentry.core.breaker import BreakerConfig
    from plansentry.core.fsm import State

    proxy.mode, proxy.param = "status", 503
    breaker = BreakerConfig(consecutive_failures=3, cooldown_s=0.3, backoff=2.0, probes=2)
    rt = RealtimeRuntime(
        make_guard(domain=domain, config=default_config(budget_ms=2_000, breaker=breaker)),
        workers=2,
    )
    planner = planner_via(wh, proxy.port)
    try:
        for _ in range(3):
            d = decide(rt, ctx, planner, 2_000)
            assert d.failure_mode is FailureMode.TRANSPORT and "HTTP 503" in d.violations[0].detail
        assert rt.guard.state.state is State.BYPASS
        d = decide(rt, ctx, planner, 2_000)
        assert not d.consulted and d.source == "classical"
        open_until = rt.guard.state.breaker.open_until_ns
        while time.monotonic_ns() < open_until:  # the cool-down, on the real clock
            time.sleep(0.01)
        probe = decide(rt, ctx, planner, 2_000)
        assert probe.consulted and probe.failure_mode is FailureMode.TRANSPORT
        assert [t.event.value for t in probe.transitions][:1] == ["cooldown_elapsed"]
        assert rt.guard.state.state is State.BYPASS
        assert rt.guard.state.breaker.cooldown_ns == 600 * MS  # 0.3 s x backoff 2
    finally:
        rt.close()


@model
def test_a_stream_without_done_from_the_real_server_is_accepted(domain, wh, ctx, proxy) -> None:
    """The real server's answer with its [DONE] stripped: complete by finish_reason, gated."""
    proxy.mode = "strip_done"
    rt = runtime_for(domain, 60_000)
    try:
        d = decide(rt, ctx, planner_via(wh, proxy.port), 60_000)
    finally:
        rt.close()
    assert d.failure_mode is not FailureMode.TRANSPORT, d.violations


def test_a_stream_finished_by_finish_reason_without_done_is_accepted(
    domain, wh, ctx, lone_proxy, good_text
) -> None:
    """Regression (a complete answer refused as truncated): finish_reason ends the stream."""
    lone_proxy.mode, lone_proxy.content = "finish_no_done", good_text
    rt = runtime_for(domain, 2_000)
    try:
        d = decide(rt, ctx, planner_via(wh, lone_proxy.port), 2_000)
    finally:
        rt.close()
    assert d.accepted and d.source == "llm", d.violations


def test_a_stream_that_ends_without_finish_reason_or_done_is_truncated(wh, ctx, lone_proxy):
    """A body cut after some content, with neither sentinel, is still a truncation."""
    lone_proxy.mode = "trickle"  # never finishes; the planner's stall bound ends it
    planner = OpenAICompatPlanner(
        PromptFor(wh), base_url=f"http://127.0.0.1:{lone_proxy.port}/v1", stall_s=0.05
    )
    lone_proxy.param = 0.1
    with pytest.raises(TransportError, match="trickles"):
        asyncio.run(planner(ctx, StopToken()))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", 2.0),
        (" 120 ", 120.0),
        ("Wed, 21 Oct 2026 07:28:05 GMT", 5.0),
        ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),  # in the past: ask again now
        ("soon", None),
        ("-1", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value, expected) -> None:
    """Retry-After is a number of seconds or an HTTP date (RFC 9110), read against now."""
    now = datetime(2026, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert retry_after_s(value, now=now) == expected


@pytest.mark.parametrize("status", [429, 503])
def test_a_status_with_retry_after_raises_retry_later(wh, ctx, lone_proxy, status) -> None:
    """A 429 or 503 carrying Retry-After tells the guard when to ask again."""
    lone_proxy.mode, lone_proxy.param = "retry_after", 7
    planner = OpenAICompatPlanner(PromptFor(wh), base_url=f"http://127.0.0.1:{lone_proxy.port}/v1")
    with pytest.raises(RetryAfter) as caught:
        asyncio.run(planner(ctx, StopToken()))
    assert isinstance(caught.value, RetryLater) and caught.value.retry_after_s == 7.0
    assert "HTTP 429" in str(caught.value)


def test_a_429_with_retry_after_is_not_asked_again_before_it_expires(
    domain, wh, ctx, lone_proxy
) -> None:
    """Retry-After: 2 -> the decisions of the next 2 s do not call the server, and say why."""
    lone_proxy.mode, lone_proxy.param = "retry_after", 2
    rt = runtime_for(domain, 1_000)
    planner = planner_via(wh, lone_proxy.port)
    try:
        first = decide(rt, ctx, planner, 1_000)
        assert first.failure_mode is FailureMode.TRANSPORT and "HTTP 429" in (
            first.violations[0].detail
        )
        until = time.monotonic() + 1.8
        skipped = 0
        while time.monotonic() < until:
            d = decide(rt, ctx, planner, 200)
            assert not d.consulted and d.skipped.startswith("retry-after"), d.skipped
            skipped += 1
        assert lone_proxy.requests == 1 and skipped >= 5
        time.sleep(max(0.0, first.decided_ns / 1e9 + 2.05 - time.monotonic()))
        again = decide(rt, ctx, planner, 1_000)
        assert again.consulted and lone_proxy.requests == 2
    finally:
        rt.close()


@pytest.mark.parametrize(("keep_alive", "connections"), [(True, 1), (False, 5)])
def test_connections_are_pooled(wh, ctx, good_text, keep_alive, connections) -> None:
    """Five calls in a row: one connection with the pool, five without."""
    upstream = StreamingUpstream(good_text).start()
    planner = OpenAICompatPlanner(
        PromptFor(wh), base_url=f"http://127.0.0.1:{upstream.port}/v1", keep_alive=keep_alive
    )

    async def five() -> list[bytes]:
        try:
            return [await planner(ctx, StopToken()) for _ in range(5)]
        finally:
            await planner.aclose()

    try:
        answers = asyncio.run(five())
    finally:
        upstream.stop()
    assert answers == [good_text.encode()] * 5
    assert (upstream.requests, upstream.connections) == (5, connections)


def test_the_api_key_never_appears_in_an_error(wh, ctx, lone_proxy) -> None:
    """An upstream that echoes the request (Authorization included) in its error page: the
    planner's error names the status and never the key."""
    key = "sk-test-do-not-leak-0123456789"
    lone_proxy.mode = "echo"
    planner = OpenAICompatPlanner(
        PromptFor(wh), base_url=f"http://127.0.0.1:{lone_proxy.port}/v1", api_key=key
    )
    with pytest.raises(TransportError) as caught:
        asyncio.run(planner(ctx, StopToken()))
    message = str(caught.value)
    assert "HTTP 401" in message and "Bearer [redact" in message
    assert key[:12] not in message and key not in repr(planner)


def test_an_event_without_choices_is_skipped() -> None:
    """A usage report (choices: []) is not a malformed event."""
    from plansentry.planners.openai_compat import _event

    assert _event('{"choices": [], "usage": {"total_tokens": 3}}') == ("", False)
    assert _event('{"choices": [{"delta": {}, "finish_reason": "stop"}]}') == ("", True)
