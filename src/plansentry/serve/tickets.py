"""Asked-ahead decision points, held by unguessable ids for a limited time, in limited number.

A robot asks for its next decision point while it executes the current one and gets a ticket id;
it decides the ticket later. An id is 128 random bits (:func:`secrets.token_urlsafe`): holding one
is the only way to decide, cancel or learn anything about its ticket. A ticket lives ``ttl_s``
at most; the store never holds more than ``max_tickets``. Expired tickets are handed back by
:meth:`TicketStore.expire` so that their model calls can be stopped.

Thread-safe; the clock is injected (monotonic nanoseconds), so tests move time by hand.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, final

T = TypeVar("T")

#: Random bytes in a ticket id (128 bits: not guessable, not enumerable).
ID_BYTES = 16


@final
@dataclass(frozen=True, slots=True)
class Held(Generic[T]):
    """One stored item and the instant (monotonic ns) it expires."""

    item: T
    expires_ns: int


@final
class TicketStore(Generic[T]):
    """At most ``max_tickets`` items, each under a fresh random id, each for at most its lifetime."""

    def __init__(self, *, max_tickets: int, now_ns: Callable[[], int]) -> None:
        if max_tickets < 1:
            raise ValueError(f"max_tickets must be >= 1, got {max_tickets}")
        self.max_tickets = max_tickets
        self._now_ns = now_ns
        self._items: dict[str, Held[T]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: T, *, ttl_s: float) -> str | None:
        """Store ``item`` for ``ttl_s``; its id, or ``None`` if the store is full."""
        expires = self._now_ns() + int(ttl_s * 1e9)
        with self._lock:
            if len(self._items) >= self.max_tickets:
                return None
            ticket_id = secrets.token_urlsafe(ID_BYTES)
            self._items[ticket_id] = Held(item, expires)
            return ticket_id

    def take(self, ticket_id: str) -> T | None:
        """Remove and return the item under ``ticket_id``; ``None`` if unknown or expired (an
        expired item is removed all the same: call :meth:`expire` to stop what it holds)."""
        with self._lock:
            held = self._items.get(ticket_id)
            if held is None or held.expires_ns <= self._now_ns():
                return None
            del self._items[ticket_id]
            return held.item

    def peek(self, ticket_id: str) -> T | None:
        """The item under ``ticket_id``, left in place; ``None`` if unknown or expired."""
        with self._lock:
            held = self._items.get(ticket_id)
            if held is None or held.expires_ns <= self._now_ns():
                return None
            return held.item

    def expire(self) -> list[T]:
        """Remove and return every item whose lifetime is over."""
        now = self._now_ns()
        with self._lock:
            gone = [k for k, h in self._items.items() if h.expires_ns <= now]
            return [self._items.pop(k).item for k in gone]

    def clear(self) -> list[T]:
        """Remove and return every item (at shutdown)."""
        with self._lock:
            items = [h.item for h in self._items.values()]
            self._items.clear()
            return items
