"""Prometheus metrics: a real-time guard serves them on 127.0.0.1, scraped over HTTP and read back
with prometheus-client's own parser."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from plansentry.core.breaker import BreakerConfig
from plansentry.runtime.realtime import RealtimeRuntime
from plansentry.telemetry.metrics import GuardMetrics
from plansentry.warehouse.assembly import default_config, make_guard

pytestmark = pytest.mark.realtime


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


def test_metrics_endpoint_counts_decisions_latency_state_and_breaker(domain, ctx, good_bytes):
    metrics = GuardMetrics()
    cfg = default_config(budget_ms=150, breaker=BreakerConfig(consecutive_failures=2))
    guard = make_guard(domain=domain, config=cfg, hooks=[metrics])
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
    assert value(d, "plansentry_decisions_total", source="classical", failure_mode="malformed") == 2
    assert value(d, "plansentry_decisions_total", source="classical", failure_mode="not_asked") == 1
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
    a, b = GuardMetrics(), GuardMetrics()
    a.decisions.labels("llm", "none").inc()
    assert (
        b.registry.get_sample_value(
            "plansentry_decisions_total", {"source": "llm", "failure_mode": "none"}
        )
        is None
    )
