"""The virtual-time runtime: model latency is data, so a decision costs microseconds of real time.

The same :class:`~plansentry.runtime.guard.Guard` (and so the same gate and decider) that runs on the
robot runs here; only waiting is replaced by arithmetic. For a decision point at ``now_ns`` with the
model asked ``ask_ahead_ms`` earlier and answering after ``latency_ms``:

- deadline = ``now_ns + budget``; cut-off = deadline - reserve;
- output arriving by the cut-off is gated, and the decision is taken when it arrives (or at
  ``now_ns`` if it was already there);
- otherwise the decision is taken at the cut-off with a ``timeout``.

The fallbacks are computed only when the model's plan is not used: in virtual time their cost
moves no clock, and the decision is the same (:meth:`Guard.finish`).

The gate's real cost is measured (``gate_ns``) but does not move virtual time, so a simulation is
reproducible from its seed on any machine; ``bench/gate.py`` shows that cost is microseconds against
a reserve of milliseconds.
"""

from __future__ import annotations

from typing import Generic, TypeVar, final

from plansentry.core.decision import Arrival, ArrivalKind, Decision
from plansentry.runtime.guard import Guard

PlanT = TypeVar("PlanT")
CtxT = TypeVar("CtxT")


@final
class VirtualRuntime(Generic[PlanT, CtxT]):
    """Drives a guard with latencies given as numbers."""

    def __init__(self, guard: Guard[PlanT, CtxT]) -> None:
        self.guard = guard

    def decide(
        self,
        ctx: CtxT,
        *,
        now_ns: int,
        output: bytes | None,
        latency_ms: float | None = 0.0,
        ask_ahead_ms: float = 0.0,
        transport_error: str = "",
        request_id: str = "",
    ) -> Decision[PlanT]:
        """One decision at ``now_ns``.

        ``output`` is what the model would return after ``latency_ms`` (``None`` with a
        ``transport_error``: the call failed after ``latency_ms``; ``latency_ms=None``: it never
        returns). The model is asked ``ask_ahead_ms`` before ``now_ns`` if the guard lets it.
        """
        guard = self.guard
        budget_ns = guard.config.budget_ns
        deadline_ns = now_ns + budget_ns
        cutoff_ns = deadline_ns - int(guard.config.reserve_ms * 1_000_000)
        asked_ns = now_ns - int(ask_ahead_ms * 1_000_000)
        version = guard.domain.version(ctx)
        rid = request_id or f"r{guard.seq}"
        if not guard.may_consult(asked_ns):
            arrival = Arrival(ArrivalKind.NOT_ASKED)
            asked: int | None = None
            decided_ns = now_ns
        else:
            asked = asked_ns
            at_ns = None if latency_ms is None else asked_ns + int(latency_ms * 1_000_000)
            if at_ns is None or at_ns > cutoff_ns:
                detail = (
                    "never answered"
                    if at_ns is None
                    else (
                        f"answer due {(at_ns - deadline_ns) / 1e6:.1f} ms after the deadline"
                        if at_ns > deadline_ns
                        else "answer due after the cut-off"
                    )
                )
                arrival = Arrival(ArrivalKind.TIMEOUT, detail=detail, asked_version=version)
                decided_ns = max(now_ns, cutoff_ns)
            elif output is None:
                arrival = Arrival(
                    ArrivalKind.TRANSPORT,
                    at_ns=at_ns,
                    detail=transport_error or "call failed",
                    asked_version=version,
                )
                decided_ns = max(now_ns, at_ns)
            else:
                arrival = Arrival.output(output, at_ns, version)
                decided_ns = max(now_ns, at_ns)
        return guard.finish(
            ctx,
            request_id=rid,
            asked_ns=asked,
            deadline_ns=deadline_ns,
            arrival=arrival,
            fallbacks=lambda: guard.run_fallbacks(ctx),
            clock_ns=lambda: decided_ns,
        )
