"""TicketStore: unguessable ids, a lifetime, a cap; time moved by hand (FakeClock)."""

from __future__ import annotations

import pytest

from plansentry.runtime.clock import FakeClock
from plansentry.serve.tickets import TicketStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_an_item_is_taken_once(clock) -> None:
    """take() hands the item back once; then the id is unknown."""
    store = TicketStore(max_tickets=4, now_ns=clock.now_ns)
    tid = store.add("a", ttl_s=1)
    assert store.take(tid) == "a" and store.take(tid) is None and len(store) == 0


def test_ids_are_128_random_bits_and_distinct(clock) -> None:
    """A thousand ids: all distinct, each 22 url-safe characters (16 bytes)."""
    store = TicketStore(max_tickets=1000, now_ns=clock.now_ns)
    ids = [store.add(i, ttl_s=1) for i in range(1000)]
    assert len(set(ids)) == 1000
    assert all(len(i) == 22 and i.replace("-", "").replace("_", "").isalnum() for i in ids)


def test_an_expired_item_cannot_be_taken_and_is_handed_back_by_expire(clock) -> None:
    """Past its lifetime an item is gone for take(), and expire() returns it (to stop it)."""
    store = TicketStore(max_tickets=4, now_ns=clock.now_ns)
    short, long = store.add("short", ttl_s=1), store.add("long", ttl_s=5)
    clock.advance(s=1)
    assert store.take(short) is None
    assert store.expire() == ["short"] and len(store) == 1
    assert store.take(long) == "long"


def test_a_full_store_refuses_to_add(clock) -> None:
    """At max_tickets, add() returns None; a taken or expired item frees a place."""
    store = TicketStore(max_tickets=2, now_ns=clock.now_ns)
    first = store.add(1, ttl_s=1)
    store.add(2, ttl_s=10)
    assert store.add(3, ttl_s=1) is None
    store.take(first)
    assert store.add(3, ttl_s=1) is not None


def test_clear_hands_back_everything(clock) -> None:
    """At shutdown every held item comes back, so its model call can be stopped."""
    store = TicketStore(max_tickets=3, now_ns=clock.now_ns)
    for i in range(3):
        store.add(i, ttl_s=1)
    assert sorted(store.clear()) == [0, 1, 2] and len(store) == 0
