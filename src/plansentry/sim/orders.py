"""Seeded random orders on a map: the work a simulated fleet does."""

from __future__ import annotations

import random
from collections.abc import Iterator

from plansentry.warehouse.map import Warehouse
from plansentry.warehouse.order import Order, make_order


def random_orders(
    wh: Warehouse, rng: random.Random, *, min_lines: int = 2, max_lines: int = 5, prefix: str = "O"
) -> Iterator[Order]:
    """An endless, reproducible stream of orders: distinct bins, 1-3 units a line."""
    bins = sorted(wh.bins)
    number = 0
    while True:
        number += 1
        chosen = rng.sample(bins, rng.randint(min_lines, max_lines))
        lines = [(f"SKU-{rng.randrange(10_000):04d}", b, rng.randint(1, 3)) for b in chosen]
        yield make_order(f"{prefix}-{number:05d}", lines, wh)
