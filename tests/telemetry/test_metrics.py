"""Prometheus metrics of a guard on the toy domain: counted in virtual time and read from the
registry, and served by a real-time guard on 127.0.0.1, scraped over HTTP and read back with
prometheus-client's own parser."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from plansentry.core.breaker import BreakerConfig
from plansentry.runtime.realtime import RealtimeRuntime
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.telemetry.metrics import GuardMetrics
from plansentry.testing.toy import ToyContext


def scrape(port: int) -> dict[str, list]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        out.setdefault(family.name, []).extend(family.samples)
    return out


def value(samples, name: str, **labels) -> float:
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def sample(metrics: GuardMetrics, source: str, failure_mode: str) -> float | None:
    labels = {"source": source, "failure_mode": failure_mode}
    return metrics.registry.get_sample_value("plansentry_decisions_total", labels)


def test_toy_decisions_are_counted_by_source_and_failure_mode(kit, ctx, good_bytes) -> None:
    """The model's plan, the toy fallback's and the safe action are each counted under their own
    labels, with the domain's fallback name as the source."""
    metrics = GuardMetrics()
    rt = VirtualRuntime(kit.guard(hooks=[metrics]))
    walled_in = ToyContext("T-2", target=2, max_step=1, blocked=frozenset({1}))  # no plan exists
    unsafe = good_bytes.replace(b'"speed":1.0', b'"speed":5.0')
    rt.decide(ctx, now_ns=0, output=good_bytes, latency_ms=10)
    rt.decide(ctx, now_ns=10**9, output=unsafe, latency_ms=10)
    rt.decide(walled_in, now_ns=2 * 10**9, output=b"{", latency_ms=10)
    assert sample(metrics, "llm", "none") == 1
    assert sample(metrics, "stepper", "unsafe") == 1
    assert sample(metrics, "safe_move", "malformed") == 1
    state = metrics.registry.get_sample_value("plansentry_state", {"plansentry_state": "SAFE_HOLD"})
    assert state == 1


@pytest.mark.realtime
def test_metrics_endpoint_counts_decisions_latency_state_and_breaker(kit, ctx, good_bytes):
    """Scraped over HTTP: decisions by label, latency and gate time, the state and the trip."""
    metrics = GuardMetrics()
    cfg = kit.config(budget_ms=150, breaker=BreakerConfig(consecutive_failures=2))
    guard = kit.guard(config=cfg, hooks=[metrics])
    rt = RealtimeRuntime(guard, workers=2)
    port = metrics.serve(0)
    try:
        for _ in range(3):
            assert rt.decide_now(ctx, lambda _c, _s: good_bytes).accepted
        for _ in range(2):
            rt.decide_now(ctx, lambda _c, _s: b"{not json")
        rt.decide_now(ctx, lambda _c, _s: good_bytes)  # breaker open: not asked
        families = scrape(port)
    finally:
        metrics.close()
        rt.close()
    d = families["plansentry_decisions"]
    assert value(d, "plansentry_decisions_total", source="llm", failure_mode="none") == 3
    assert value(d, "plansentry_decisions_total", source="stepper", failure_mode="malformed") == 2
    assert value(d, "plansentry_decisions_total", source="stepper", failure_mode="not_asked") == 1
    assert value(families["plansentry_late_decisions"], "plansentry_late_decisions_total") == 0
    lat = families["plansentry_model_latency_seconds"]
    assert value(lat, "plansentry_model_latency_seconds_count") == 5
    assert value(families["plansentry_gate_seconds"], "plansentry_gate_seconds_count") == 5
    state = families["plansentry_state"]
    assert value(state, "plansentry_state", plansentry_state="BYPASS") == 1
    assert value(state, "plansentry_state", plansentry_state="NOMINAL") == 0
    trans = families["plansentry_transitions"]
    assert value(trans, "plansentry_transitions_total", event="breaker_opened") == 1


def test_two_guards_do_not_collide() -> None:
    """Each GuardMetrics has its own registry: one guard's count is not another's."""
    a, b = GuardMetrics(), GuardMetrics()
    a.decisions.labels("llm", "none").inc()
    assert (
        b.registry.get_sample_value(
            "plansentry_decisions_total", {"source": "llm", "failure_mode": "none"}
        )
        is None
    )
