"""The guard as a service: one kit, one upstream, one guard state, and decisions by deadlines that
arrive as budgets.

One :class:`Service` owns the kit, the planner, the guard (so the breaker sees every robot's calls
to this upstream), the real-time runtime, the audit log, the metrics and the asked-ahead tickets.
Several service processes against one upstream keep one guard state each: each learns of an
upstream's failure from its own calls, and each honours a ``Retry-After`` it was sent.

Deadlines cross the HTTP hop as budgets: a request's deadline is its receipt (``received_ns``, the
service's monotonic clock, read when the service starts handling it) plus its ``budget_ms``; the
two processes share no clock. The service decides ``send_margin_ms`` before that deadline, so the
response is written by it; the time on the wire is the caller's to keep out of the budget it sends.

Threads: decisions are taken on the event loop, and a decision waits for the model's answer on the
loop too (woken by the ticket's completion, :class:`~plansentry.runtime.realtime.Completion`), so
the answer reaches the response with no thread between them; the loop watches the caller
meanwhile and stops the model call if it goes away (:meth:`RealtimeRuntime.cancel`). The model's
synchronous calls run on the runtime's planner threads. At most ``max_inflight`` decisions wait at
once; one beyond does not wait: the model is not asked and the fallbacks decide at once. Overload
never turns into a refusal: every decision is answered by its deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, final

from plansentry.core.decision import Arrival, ArrivalKind, Decision
from plansentry.core.errors import InputError
from plansentry.runtime.clock import Clock
from plansentry.runtime.guard import DecisionHook
from plansentry.runtime.kit import DomainKit, load_kit
from plansentry.runtime.planner import Planner, StopToken
from plansentry.runtime.realtime import RealtimeRuntime, Ticket
from plansentry.serve.config import ServeConfig
from plansentry.serve.errors import RequestError, from_input
from plansentry.serve.tickets import TicketStore
from plansentry.telemetry.audit import AuditLog
from plansentry.telemetry.metrics import GuardMetrics
from plansentry.telemetry.records import decision_json

log = logging.getLogger("plansentry.serve")

#: The ``skipped`` reason of a decision taken without the model because too many were waiting.
OVERLOADED: Final = "service overloaded"
#: How much sooner than the runtime's cut-off a decision stops awaiting the model on the loop: the
#: loop's timers fire up to 1 ms late, and the rest is waited precisely by the runtime.
TIMER_SLACK_S: Final = 0.0015


@final
class Service:
    """The kit, the planner and the guard behind the HTTP API (see the module docstring).

    ``kit`` and ``planner`` default to what ``config`` names (:func:`load_kit`, and
    :func:`~plansentry.serve.upstream.make_planner`); tests pass their own. ``hooks`` subscribe to
    every decision besides the metrics and the audit log; ``meta`` is the audit header's ``meta``
    (by default the upstream and the bind address). Methods other than :meth:`close` are called
    from the event loop's thread.
    """

    def __init__(
        self,
        config: ServeConfig,
        *,
        kit: DomainKit[Any, Any] | None = None,
        planner: Planner[Any] | None = None,
        api_key: str | None = None,
        clock: Clock | None = None,
        hooks: Sequence[DecisionHook] = (),
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.kit = kit if kit is not None else load_kit(config.kit, params=config.kit_params)
        if planner is None:
            from plansentry.serve.upstream import make_planner

            planner = make_planner(config, self.kit, api_key=api_key)
        self.planner = planner
        guard_config = self.kit.config(budget_ms=config.budget_ms)
        self.metrics = GuardMetrics()
        self.audit = (
            AuditLog(
                config.audit_log,
                kit=self.kit,
                config=guard_config,
                meta=meta
                if meta is not None
                else {"service": {"upstream": _public_upstream(config), "host": config.host}},
            )
            if config.audit_log
            else None
        )
        every: list[DecisionHook] = [self.metrics, *hooks]
        if self.audit is not None:
            every.append(self.audit)
        self.guard = self.kit.guard(config=guard_config, hooks=every)
        self.runtime: RealtimeRuntime[Any, Any] = RealtimeRuntime(
            self.guard,
            clock=clock,
            workers=config.workers,
            switch_interval_s=config.switch_interval_s,
        )
        self.clock = self.runtime.clock
        #: The smallest budget a request may name: the runtime's early wake, the fallbacks'
        #: declared worst case and the send margin, plus 1 ms for the model.
        self.min_budget_ms = (
            self.runtime.early_wake_ms
            + sum(guard_config.fallback_wcet_ms.values())
            + config.send_margin_ms
            + 1.0
        )
        self.tickets: TicketStore[Ticket[Any]] = TicketStore(
            max_tickets=config.max_tickets, now_ns=self.clock.now_ns
        )
        self.inflight = 0
        self.overloaded = 0
        self.draining = False
        self._margin_ns = int(config.send_margin_ms * 1_000_000)

    # -- requests --------------------------------------------------------------------------

    def context(self, data: Any, param: str = "context") -> Any:
        """The kit's context from request JSON; a 422 naming the field if the codec refuses it."""
        try:
            return self.kit.codec.context_from_json(data)
        except InputError as exc:
            raise from_input(exc, param) from None

    def budget_ns(self, budget_ms: float | None, param: str = "budget_ms") -> int:
        """A request's budget (the default if it names none), checked against what can work."""
        if budget_ms is None:
            return self.config.budget_ns
        if budget_ms < self.min_budget_ms:
            raise RequestError(
                422,
                f"{budget_ms:g} ms is too short: at least {self.min_budget_ms:g} ms (the "
                "fallbacks' worst case, the guard's reserve and wake margin, the send margin)",
                param=param,
                code="budget_too_short",
            )
        if budget_ms > self.config.max_budget_ms:
            raise RequestError(
                422,
                f"{budget_ms:g} ms is over the service's max_budget_ms "
                f"({self.config.max_budget_ms:g})",
                param=param,
                code="budget_too_long",
            )
        return int(budget_ms * 1_000_000)

    def ask(self, ctx: Any, request_id: str | None) -> Ticket[Any]:
        """Start the model call for ``ctx`` now (if the guard lets it)."""
        return self.runtime.ask(ctx, self.planner, request_id=request_id or "")

    def ask_ahead(self, ctx: Any, *, ttl_s: float | None, request_id: str | None) -> dict[str, Any]:
        """Ask ahead and hold the ticket. With the store full the model is not asked and no
        ticket is held (``ticket`` is empty): the caller decides with its context when the time
        comes, which always works."""
        ttl = self.config.ticket_ttl_s if ttl_s is None else ttl_s
        if ttl > self.config.ticket_ttl_s:
            raise RequestError(
                422,
                f"{ttl:g} s is over the service's ticket_ttl_s ({self.config.ticket_ttl_s:g})",
                param="ttl_s",
                code="ttl_too_long",
            )
        if len(self.tickets) >= self.config.max_tickets:
            return _ticket_json("", 0.0, False, f"ticket store full ({self.config.max_tickets})")
        ticket = self.ask(ctx, request_id)
        ticket_id = self.tickets.add(ticket, ttl_s=ttl)
        if ticket_id is None:  # filled up meanwhile
            self.runtime.cancel(ticket, "ticket store full")
            return _ticket_json("", 0.0, False, f"ticket store full ({self.config.max_tickets})")
        skipped = ticket.arrival.detail if ticket.asked_ns is None and ticket.arrival else ""
        return _ticket_json(ticket_id, ttl * 1000, ticket.asked_ns is not None, skipped)

    def cancel(self, ticket_id: str) -> bool:
        """Give an asked-ahead decision point up: its model call stops. False if unknown."""
        ticket = self.tickets.take(ticket_id)
        if ticket is None:
            return False
        self.runtime.cancel(ticket, "cancelled by the caller")
        return True

    async def decide(
        self,
        *,
        received_ns: int,
        budget_ns: int,
        ticket_id: str | None,
        context: Any | None,
        request_id: str | None,
        gone: Callable[[], Awaitable[object]] | None = None,
    ) -> tuple[Decision[Any], str | None]:
        """The decision for an asked-ahead ticket, or for ``context`` (a parsed context), by
        ``received_ns + budget_ns``. ``gone`` returns when the caller disconnects: the model call
        is then stopped. Returns the decision and what became of the ticket (``None``: none was
        named; ``"used"``; ``"expired"``: unknown or expired, the context decided instead)."""
        deadline_ns = received_ns + budget_ns
        ticket: Ticket[Any] | None = None
        ticket_state: str | None = None
        if ticket_id is not None:
            ticket = self.tickets.take(ticket_id)
            ticket_state = "used" if ticket is not None else "expired"
            if ticket is None and context is None:
                raise RequestError(
                    404,
                    "unknown or expired; decide with the context instead",
                    param="ticket",
                    code="ticket_not_found",
                )
        busy = self.inflight >= self.config.max_inflight
        if ticket is None:
            ticket = self._not_asked(context, request_id) if busy else self.ask(context, request_id)
        elif busy:
            self.runtime.cancel(ticket, OVERLOADED)
        if busy:  # nothing to wait for: the fallbacks decide now, on the loop
            self.overloaded += 1
            return self.runtime.decide(ticket, deadline_ns=deadline_ns - self._margin_ns), (
                ticket_state
            )
        decision = await self._wait(ticket, deadline_ns - self._margin_ns, gone)
        return decision, ticket_state

    def _not_asked(self, ctx: Any, request_id: str | None) -> Ticket[Any]:
        ticket: Ticket[Any] = Ticket(
            ctx, request_id or "", None, self.guard.domain.version(ctx), StopToken()
        )
        ticket.arrival = Arrival(ArrivalKind.NOT_ASKED, detail=OVERLOADED)
        ticket.done.set()
        return ticket

    async def _wait(
        self,
        ticket: Ticket[Any],
        deadline_ns: int,
        gone: Callable[[], Awaitable[object]] | None,
    ) -> Decision[Any]:
        """Decide ``ticket`` on the loop: the fallbacks first (bounded by their declared worst
        case), then await the model's answer until the runtime's cut-off (woken by the ticket's
        completion, no thread parked on it), then the guard decides at once. The last
        :data:`TIMER_SLACK_S` of the wait is left to the runtime's own precise wait: the loop's
        timers fire up to a millisecond late (epoll counts whole milliseconds)."""
        self.inflight += 1
        try:
            fallbacks = self.guard.run_fallbacks(ticket.ctx)
            if not ticket.done.is_set():
                await self._until_done(ticket, self.runtime.cutoff_ns(deadline_ns), gone)
            return self.runtime.decide(ticket, deadline_ns=deadline_ns, fallbacks=fallbacks)
        finally:
            self.inflight -= 1

    async def _until_done(
        self,
        ticket: Ticket[Any],
        cutoff_ns: int,
        gone: Callable[[], Awaitable[object]] | None,
    ) -> None:
        """Return when ``ticket`` is done, :data:`TIMER_SLACK_S` before ``cutoff_ns``, or when the
        caller went away (the model call is then stopped)."""
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()

        def settle() -> None:
            if not woken.done():
                woken.set_result(None)

        def wake() -> None:  # on the planner's thread
            with contextlib.suppress(RuntimeError):  # the loop has closed meanwhile
                loop.call_soon_threadsafe(settle)

        ticket.done.add_done_callback(wake)
        watch = asyncio.ensure_future(gone()) if gone is not None else None
        try:
            timeout_s = (cutoff_ns - self.clock.now_ns()) / 1e9 - TIMER_SLACK_S
            if timeout_s > 0:
                waits: set[asyncio.Future[Any]] = {woken} if watch is None else {woken, watch}
                await asyncio.wait(waits, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
            if watch is not None and watch.done() and not ticket.done.is_set():
                self.runtime.cancel(ticket, "the caller went away")
        finally:
            if watch is not None:
                watch.cancel()
            woken.cancel()

    # -- what the API returns ---------------------------------------------------------------

    def decision_json(
        self, d: Decision[Any], *, received_ns: int, budget_ns: int, ticket: str | None
    ) -> dict[str, Any]:
        """The decision as the API returns it: the audit log's record, with the hop's timing."""
        out = decision_json(d, self.guard.config.buckets, self.kit)
        now = self.clock.now_ns()
        out["timing"] = {
            "budget_ms": budget_ns / 1e6,
            "decided_ms": round((d.decided_ns - received_ns) / 1e6, 3),
            "slack_ms": round((received_ns + budget_ns - now) / 1e6, 3),
        }
        out["ticket"] = ticket
        return out

    def readiness(self) -> dict[str, Any]:
        state = self.guard.state
        return {
            "ready": not self.draining,
            "kit": self.kit.name,
            "rules_version": self.kit.rules_version,
            "state": state.state.value,
            "breaker": state.breaker.phase.value,
            "skipped": self.guard.skip_reason(self.clock.now_ns()),
            "tickets": len(self.tickets),
            "inflight": self.inflight,
            "stuck_workers": self.runtime.stuck_workers,
            "decisions": self.guard.seq,
        }

    # -- housekeeping -------------------------------------------------------------------------

    def expire_tickets(self) -> int:
        """Stop the model calls of tickets whose lifetime is over; how many there were."""
        gone = self.tickets.expire()
        for ticket in gone:
            self.runtime.cancel(ticket, "ticket expired")
        return len(gone)

    def close(self) -> None:
        """Stop everything (after the server drained): tickets, model calls, the audit log."""
        self.draining = True
        for ticket in self.tickets.clear():
            self.runtime.cancel(ticket, "service stopped")
        close = getattr(self.planner, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                log.exception("closing the planner failed")
        self.runtime.close()
        if self.audit is not None:
            self.audit.close()


def _ticket_json(ticket: str, expires_in_ms: float, asked: bool, skipped: str) -> dict[str, Any]:
    return {"ticket": ticket, "expires_in_ms": expires_in_ms, "asked": asked, "skipped": skipped}


def _public_upstream(config: ServeConfig) -> str:
    from plansentry.serve.upstream import describe

    return describe(config)
