"""The OpenAI-compatible planner against a real llama.cpp server on 127.0.0.1, through the project's
fault proxy: every decision arrives on time with the right failure mode. No mocks on this path."""

from __future__ import annotations

import time

import httpx
import pytest

from faultproxy import FaultProxy
from plansentry.core.failures import FailureMode
from plansentry.domains.warehouse.kit import default_config, make_guard
from plansentry.domains.warehouse.prompts import PromptFor
from plansentry.planners.local_server import embedded_server, free_port
from plansentry.planners.openai_compat import OpenAICompatPlanner, response_format
from plansentry.runtime.realtime import RealtimeRuntime

pytestmark = [pytest.mark.model, pytest.mark.realtime]
MS = 1_000_000


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


@pytest.mark.parametrize(
    ("mode", "param", "budget_ms", "expected", "detail"),
    [
        ("status", 429, 2_000, FailureMode.TRANSPORT, "HTTP 429"),
        ("status", 503, 2_000, FailureMode.TRANSPORT, "HTTP 503"),
        ("garbage", 0, 2_000, FailureMode.TRANSPORT, "malformed server-sent event"),
        ("reset", 900, 30_000, FailureMode.TRANSPORT, ""),
        ("truncate", 900, 30_000, FailureMode.TRANSPORT, "truncated"),
        ("trickle", 0.5, 30_000, FailureMode.TRANSPORT, "trickles"),
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
