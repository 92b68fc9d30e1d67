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
) -> Iterator[Order]:
    """An endless, reproducible stream of orders: distinct bins, 1-3 units a line.

    With ``closure_p`` > 0, that share of orders is drawn with one closable zone closed, unless
    the zone holds one of the order's bins (then the order closes nothing).
    """
    bins = sorted(wh.bins)
    closable = sorted(n for n, z in wh.zones.items() if z.kind == "closable")
    number = 0
    while True:
        number += 1
        chosen = rng.sample(bins, rng.randint(min_lines, max_lines))
        lines = [(f"SKU-{rng.randrange(10_000):04d}", b, rng.randint(1, 3)) for b in chosen]
        closed: list[str] = []
        if closable and closure_p > 0 and rng.random() < closure_p:
            zone = rng.choice(closable)
            if not any(wh.bins[b].access in wh.zones[zone].cells for b in chosen):
                closed = [zone]
        yield make_order(f"{prefix}-{number:0{digits}d}", lines, wh, closed_zones=closed)
