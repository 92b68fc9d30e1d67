"""Seeded random orders on a map: the work a simulated fleet does."""

from __future__ import annotations

import random
from collections.abc import Iterator

from plansentry.domains.warehouse.map import Warehouse
from plansentry.domains.warehouse.order import Order, make_order


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
    """
    bins = sorted(wh.bins)
    closable = sorted(n for n, z in wh.zones.items() if z.kind == "closable")
    number = 0
    while True:
        number += 1
        chosen = rng.sample(bins, rng.randint(min_lines, max_lines))
        lines = [(f"SKU-{rng.randrange(10_000):04d}", b, rng.randint(1, 3)) for b in chosen]
        closed: list[str] = []
        if closable and (closure_p > 0 or blocked_p > 0):
            u = rng.random()
            if u < blocked_p + closure_p:
                cells = {wh.bins[b].access for b in chosen}
                holding = [z for z in closable if cells & wh.zones[z].cells]
                candidates = holding if u < blocked_p else sorted(set(closable) - set(holding))
                if candidates:
                    closed = [rng.choice(candidates)]
        yield make_order(f"{prefix}-{number:0{digits}d}", lines, wh, closed_zones=closed)
