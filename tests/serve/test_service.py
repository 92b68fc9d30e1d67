"""The Service without HTTP: budgets checked, tickets expired and cancelled (their model calls
stopped), shutdown stopping what is left; time moved by hand (FakeClock)."""

from __future__ import annotations

import threading

import pytest
from servekit import CONTEXT

from plansentry.runtime.clock import FakeClock
from plansentry.serve.config import ServeConfig
from plansentry.serve.errors import RequestError
from plansentry.serve.service import Service


class Held:
    """A synchronous planner that holds its worker until told to stop; keeps its stop tokens."""

    def __init__(self) -> None:
        self.stops = []
        self.release = threading.Event()
        self._started = threading.Semaphore(0)

    def __call__(self, ctx, stop):
        self.stops.append(stop)
        self._started.release()
        self.release.wait(10)
        return b""

    def started(self, n: int = 1) -> bool:
        """Whether ``n`` calls have started (on the runtime's worker threads) within 2 s."""
        return all(self._started.acquire(timeout=2) for _ in range(n))


@pytest.fixture
def held():
    planner = Held()
    yield planner
    planner.release.set()


@pytest.fixture
def service(kit, held):
    svc = Service(
        ServeConfig(kit="toy", audit_log=None, ticket_ttl_s=5, max_tickets=3),
        kit=kit,
        planner=held,
        clock=FakeClock(),
    )
    yield svc
    svc.close()


def ctx(service):
    return service.context(CONTEXT)


@pytest.mark.parametrize(
    ("budget_ms", "code"),
    [(0.5, "budget_too_short"), (9.9, "budget_too_short"), (60_001, "budget_too_long")],
)
def test_a_budget_that_cannot_work_is_refused(service, budget_ms, code) -> None:
    """Below the fallbacks + reserve + wake margin + send margin, or over the cap: 422."""
    with pytest.raises(RequestError) as caught:
        service.budget_ns(budget_ms)
    assert caught.value.code == code and caught.value.param == "budget_ms"


def test_the_smallest_budget_is_what_the_runtime_keeps_back(service) -> None:
    """The minimum is the early wake, the fallbacks' WCET, the send margin and 1 ms."""
    expected = service.runtime.early_wake_ms + 1.0 + 1.0 + 1.0  # the toy stepper's WCET is 1 ms
    assert service.min_budget_ms == pytest.approx(expected)
    assert service.budget_ns(expected) == int(expected * 1_000_000)


def test_an_expired_ticket_stops_its_model_call(service, held) -> None:
    """A ticket past its lifetime is swept and its planner told to stop."""
    out = service.ask_ahead(ctx(service), ttl_s=1, request_id="R1-42")
    assert out["asked"] and out["ticket"]
    assert held.started() and not held.stops[0].stopped
    service.clock.advance(s=1)
    assert service.expire_tickets() == 1 and held.stops[0].stopped


def test_a_ticket_lifetime_over_the_services_is_refused(service) -> None:
    """ttl_s above ticket_ttl_s: 422 naming ttl_s."""
    with pytest.raises(RequestError) as caught:
        service.ask_ahead(ctx(service), ttl_s=6, request_id=None)
    assert caught.value.param == "ttl_s"


def test_cancel_stops_the_model_call_and_forgets_the_ticket(service, held) -> None:
    """cancel(): the planner is told to stop; the id is unknown afterwards."""
    tid = service.ask_ahead(ctx(service), ttl_s=None, request_id=None)["ticket"]
    assert held.started() and service.cancel(tid) and held.stops[0].stopped
    assert not service.cancel(tid)


def test_close_stops_every_outstanding_ticket(service, held) -> None:
    """At shutdown every held ticket's model call is told to stop."""
    for _ in range(3):
        service.ask_ahead(ctx(service), ttl_s=None, request_id=None)
    assert held.started(3)
    service.close()
    assert len(held.stops) == 3 and all(s.stopped for s in held.stops)
    assert service.readiness()["ready"] is False


def test_an_answer_mid_wait_is_decided_at_once_not_at_the_cutoff(kit, held) -> None:
    """The loop awaits the ticket's completion: an answer that comes while a 30 s decision waits
    is decided at once (a lost wake-up would hold it to the cut-off, about 30 s)."""
    import asyncio

    svc = Service(ServeConfig(kit="toy", audit_log=None), kit=kit, planner=held)

    async def run() -> tuple[object, float]:
        now = svc.clock.now_ns()
        waiting = asyncio.ensure_future(
            svc.decide(
                received_ns=now,
                budget_ns=30_000_000_000,
                ticket_id=None,
                context=ctx(svc),
                request_id=None,
            )
        )
        await asyncio.to_thread(held.started)
        held.release.set()
        decision, _ = await asyncio.wait_for(waiting, 5)
        return decision, (svc.clock.now_ns() - now) / 1e9

    try:
        decision, took_s = asyncio.run(run())
    finally:
        svc.close()
    assert decision.consulted and decision.failure_mode.value != "timeout", decision
    assert took_s < 5
