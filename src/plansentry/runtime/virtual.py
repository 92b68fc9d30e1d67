"""The virtual-time runtime: model latency is data, so a decision costs microseconds of real time.

The same :class:`~plansentry.runtime.guard.Guard` (and so the same gate and decider) that runs on the
robot runs here; only waiting is replaced by arithmetic, and it waits exactly as the real-time
runtime would:

- :meth:`VirtualRuntime.ask` at ``at_ns`` takes the consult decision, once: the model is asked then
  if the guard lets it, and not otherwise, whatever happens to the guard before the decision point
  (another robot may open or close the breaker meanwhile); while the breaker is not closed the
  request takes a probe slot (:meth:`Guard.ask`), which its decision gives back, so every ticket
  must be decided;
- :meth:`VirtualRuntime.decide_asked` at the decision point ``now_ns``: deadline = ``now_ns +
  budget``; the runtime stops waiting at ``deadline - early_wake`` (the reserve, the wake margin and
  two GIL switch intervals: :meth:`GuardConfig.early_wake_ms`, the real-time runtime's point); an
  answer by then is gated and decided when it arrives (or at ``now_ns`` if it was already there),
  any later one is a ``timeout`` decided at that point;
- the fallbacks run from the decision point, as the real-time runtime runs them before it waits: a
  caller that knows how long they took this time (``fallback_ms``, drawn from a measured
  distribution) delays the decision to at least ``now_ns + fallback_ms``, so a fallback overrunning
  its declared worst case can make a decision late, as it would on the robot.

The fallbacks are computed only when the model's plan is not used: in virtual time their cost moves
no clock but ``fallback_ms``, and the decision is the same (:meth:`Guard.finish`). The gate's real
cost is measured (``gate_ns``) but does not move virtual time, so a simulation is reproducible from
its seed on any machine; ``bench/gate.py`` shows that cost is microseconds against a reserve of
milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar, final

from plansentry.core.decision import Arrival, ArrivalKind, Decision
from plansentry.runtime.guard import Guard

PlanT = TypeVar("PlanT")
CtxT = TypeVar("CtxT")

#: CPython's default GIL switch interval (``sys.getswitchinterval()`` unless a program sets it).
DEFAULT_SWITCH_INTERVAL_S = 0.005


@final
@dataclass(frozen=True, slots=True)
class VirtualTicket(Generic[CtxT]):
    """A request made at ``asked_ns``: asked (``skipped`` empty) or not, decided once, at asking.
    ``probe_slot``: it holds one of the breaker's probe slots until it is decided."""

    ctx: CtxT
    request_id: str
    asked_ns: int
    version: str
    skipped: str
    probe_slot: bool = False


@final
class VirtualRuntime(Generic[PlanT, CtxT]):
    """Drives a guard with latencies given as numbers.

    ``switch_interval_s`` is the GIL switch interval the real-time runtime it stands for would see
    (the default, 5 ms, is CPython's): with it, the point where waiting stops is the real one's.
    """

    def __init__(
        self, guard: Guard[PlanT, CtxT], *, switch_interval_s: float = DEFAULT_SWITCH_INTERVAL_S
    ) -> None:
        self.guard = guard
        self.switch_interval_s = switch_interval_s
        self.early_wake_ns = int(guard.config.early_wake_ms(switch_interval_s) * 1_000_000)
        self._budget_ns = guard.config.budget_ns  # the configuration is frozen: read it once

    def ask(self, ctx: CtxT, *, at_ns: int, request_id: str = "") -> VirtualTicket[CtxT]:
        """The model is asked at ``at_ns`` if the guard lets it then (the decision is kept; a probe
        slot it takes is held until :meth:`decide_asked`)."""
        guard = self.guard
        asked = guard.ask(at_ns)
        return VirtualTicket(
            ctx,
            request_id or f"r{guard.seq}",
            at_ns,
            guard.domain.version(ctx),
            asked.skipped,
            asked.probe_slot,
        )

    def decide_asked(
        self,
        ticket: VirtualTicket[CtxT],
        *,
        now_ns: int,
        output: bytes | None,
        latency_ms: float | None = 0.0,
        transport_error: str = "",
        retry_after_s: float | None = None,
        fallback_ms: float = 0.0,
    ) -> Decision[PlanT]:
        """The decision for ``ticket`` at the decision point ``now_ns``.

        ``output`` is what the model returns ``latency_ms`` after it was asked (``None`` with a
        ``transport_error``: the call failed then, its server asking to wait ``retry_after_s``;
        ``latency_ms=None``: it never returns). Ignored when the ticket was not asked.
        """
        guard = self.guard
        deadline_ns = now_ns + self._budget_ns
        wake_ns = deadline_ns - self.early_wake_ns
        asked: int | None = None
        ctx, version = ticket.ctx, ticket.version
        if ticket.skipped:
            arrival = Arrival(ArrivalKind.NOT_ASKED, detail=ticket.skipped)
            decided_ns = now_ns
        else:
            asked = ticket.asked_ns
            at_ns = None if latency_ms is None else asked + int(latency_ms * 1_000_000)
            if at_ns is None or at_ns > wake_ns:
                if at_ns is None:
                    detail = "never answered"
                elif at_ns > deadline_ns:
                    detail = f"answer due {(at_ns - deadline_ns) / 1e6:.1f} ms after the deadline"
                else:
                    detail = "answer due after the runtime stopped waiting"
                arrival = Arrival(ArrivalKind.TIMEOUT, detail=detail, asked_version=version)
                decided_ns = max(now_ns, wake_ns)
            elif output is None:
                arrival = Arrival(
                    ArrivalKind.TRANSPORT,
                    at_ns=at_ns,
                    detail=transport_error or "call failed",
                    asked_version=version,
                    retry_after_ns=(
                        None if retry_after_s is None else at_ns + int(retry_after_s * 1e9)
                    ),
                )
                decided_ns = max(now_ns, at_ns)
            else:
                arrival = Arrival.output(output, at_ns, version)
                decided_ns = max(now_ns, at_ns)
        decided_ns = max(decided_ns, now_ns + int(fallback_ms * 1_000_000))
        return guard.finish(
            ctx,
            request_id=ticket.request_id,
            asked_ns=asked,
            deadline_ns=deadline_ns,
            arrival=arrival,
            fallbacks=lambda: guard.run_fallbacks(ctx),
            clock_ns=lambda: decided_ns,
            probe_slot=ticket.probe_slot,
        )

    def decide(
        self,
        ctx: CtxT,
        *,
        now_ns: int,
        output: bytes | None,
        latency_ms: float | None = 0.0,
        ask_ahead_ms: float = 0.0,
        transport_error: str = "",
        retry_after_s: float | None = None,
        request_id: str = "",
    ) -> Decision[PlanT]:
        """Ask ``ask_ahead_ms`` before ``now_ns`` and decide at ``now_ns``, in one call (see
        :meth:`ask` and :meth:`decide_asked`)."""
        ticket = self.ask(ctx, at_ns=now_ns - int(ask_ahead_ms * 1_000_000), request_id=request_id)
        return self.decide_asked(
            ticket,
            now_ns=now_ns,
            output=output,
            latency_ms=latency_ms,
            transport_error=transport_error,
            retry_after_s=retry_after_s,
        )
