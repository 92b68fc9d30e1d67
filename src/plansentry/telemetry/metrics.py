"""Prometheus metrics of a guard, through prometheus-client: what a fleet's operators scrape.

:class:`GuardMetrics` is a :class:`~plansentry.runtime.guard.DecisionHook`. Add it to a guard's
hooks and, if wanted, serve it (``serve(port)``, on 127.0.0.1 by default):

- ``plansentry_decisions_total{source, failure_mode}``: decisions by the plan used (``llm``,
  ``repaired``, ``classical``, ``safe_move``) and the model's failure mode (``none`` if it passed,
  ``not_asked`` if the model was not consulted);
- ``plansentry_late_decisions_total``: decisions taken after their deadline (the promise is 0);
- ``plansentry_model_latency_seconds``: ask to answer, for answers that arrived;
- ``plansentry_gate_seconds``: the gate's CPU time per checked output;
- ``plansentry_state{state}``: the state machine's current state (1 for the current one);
- ``plansentry_transitions_total{from, to, event}``: state changes, breaker trips and probes among
  them;
- ``plansentry_resets_total``: guard resets.

Each guard gets its own registry by default, so two guards in one process do not collide; pass
``registry=prometheus_client.REGISTRY`` to join the process-wide one.
"""

from __future__ import annotations

from typing import Any, final

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client import Enum as StateEnum
from prometheus_client.exposition import start_http_server

from plansentry.core.fsm import State
from plansentry.runtime.guard import DecisionEvent

_LATENCY_BUCKETS = (0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
_GATE_BUCKETS = (5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 2e-2)


@final
class GuardMetrics:
    """Counters, histograms and the state of one guard, in a prometheus-client registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.decisions = Counter(
            "plansentry_decisions",
            "Decisions by the plan used and the model's failure mode",
            ["source", "failure_mode"],
            registry=r,
        )
        self.late = Counter(
            "plansentry_late_decisions", "Decisions taken after their deadline", registry=r
        )
        self.model_latency = Histogram(
            "plansentry_model_latency_seconds",
            "Model latency, ask to answer",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.gate_time = Histogram(
            "plansentry_gate_seconds",
            "Gate CPU time per checked output",
            buckets=_GATE_BUCKETS,
            registry=r,
        )
        self.state = StateEnum(
            "plansentry_state",
            "State of the guard's state machine",
            states=[s.value for s in State],
            registry=r,
        )
        self.state.state(State.NOMINAL.value)
        self.transitions = Counter(
            "plansentry_transitions",
            "State changes of the guard (breaker trips and probes among them)",
            ["from", "to", "event"],
            registry=r,
        )
        self.resets = Counter("plansentry_resets", "Guard resets", registry=r)
        self._server: Any = None

    def on_decision(self, event: DecisionEvent[Any, Any]) -> None:
        d = event.decision
        mode = (
            "not_asked" if not d.consulted else (d.failure_mode.value if d.failure_mode else "none")
        )
        self.decisions.labels(d.source, mode).inc()
        if not d.on_time:
            self.late.inc()
        if d.latency_ns is not None:
            self.model_latency.observe(d.latency_ns / 1e9)
        if d.gate_ns:
            self.gate_time.observe(d.gate_ns / 1e9)
        for t in d.transitions:
            self.transitions.labels(t.source.value, t.target.value, t.event.value).inc()
        self.state.state(d.state_after.value)

    def on_reset(self, seq: int, reason: str) -> None:
        self.resets.inc()
        self.state.state(State.NOMINAL.value)

    def serve(self, port: int, addr: str = "127.0.0.1") -> int:
        """Serve ``/metrics`` over HTTP on ``addr:port`` (port 0: any free port); returns the port."""
        server, _thread = start_http_server(port, addr=addr, registry=self.registry)
        self._server = server
        return int(server.server_port)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
