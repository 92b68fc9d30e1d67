"""Seeded random orders on a map: the work a simulated fleet does."""

from __future__ import annotations

import random
from collections.abc import Iterator

from plansentry.domains.warehouse.map import Warehouse
from plansentry.domains.warehouse.order import Order, OrderLine


def random_orders(
    wh: Warehouse,
    rng: random.Random,
    *,
    min_lines: int = 2,
    max_lines: int = 5,
    prefix: str = "O",
    digits: int = 5,
    closure_p: float = 0.0,
    blocked_p: float = 0.0,
) -> Iterator[Order]:
    """An endless, reproducible stream of orders: distinct bins, 1-3 units a line.

    Closures, drawn with one uniform number per order (none when both shares are 0, so a stream
    without closures is the same whatever the version):

    - ``blocked_p`` of orders come with a closable zone closed that holds one of their bins (one
      of those zones, uniformly): no planner can serve them (a *blocked* order);
    - ``closure_p`` of orders come with one closable zone closed that holds none of their bins
      (uniformly among those zones): the share is exact, as long as such a zone exists (on the
      default map one always does: an order touches at most 5 of its 9 closable zones).

    Orders are built directly (not through :func:`~..order.make_order`, whose checks these pass by
    construction: map bins, distinct, qty 1-3, closable zones), from the same random numbers in
    the same order: ``tests/domains/warehouse/world/test_orders.py`` checks the stream against one
    built with ``make_order``.
    """
    if not 1 <= min_lines <= max_lines <= len(wh.bins):
        raise ValueError(f"lines per order: need 1 <= {min_lines} <= {max_lines} <= the bins")
    bins = sorted(wh.bins)
    closable = sorted(n for n, z in wh.zones.items() if z.kind == "closable")
    version = wh.version
    access = {name: b.access for name, b in wh.bins.items()}
    zone_cells = {z: wh.zones[z].cells for z in closable}
    no_closure = frozenset[str]()
    closures = bool(closable) and (closure_p > 0 or blocked_p > 0)
    # randint(a, b) and randrange(n) draw ``a + _randbelow(b - a + 1)`` and ``_randbelow(n)``:
    # called directly, the same numbers without their argument checks
    # (tests/domains/warehouse/world/test_speed_equivalence.py pins the stream to the public calls').
    sample, below = rng.sample, rng._randbelow  # type: ignore[attr-defined]
    lines_low, lines_span = min_lines, max_lines - min_lines + 1
    number = 0
    while True:
        number += 1
        chosen = sample(bins, lines_low + below(lines_span))
        lines = tuple([OrderLine(f"SKU-{below(10_000):04d}", b, 1 + below(3)) for b in chosen])
        closed = no_closure
        if closures:
            u = rng.random()
            if u < blocked_p + closure_p:
                cells = {access[b] for b in chosen}
                holding = [z for z in closable if cells & zone_cells[z]]
                candidates = holding if u < blocked_p else sorted(set(closable) - set(holding))
                if candidates:
                    closed = frozenset([rng.choice(candidates)])
        yield Order(f"{prefix}-{number:0{digits}d}", lines, version, closed, "")
