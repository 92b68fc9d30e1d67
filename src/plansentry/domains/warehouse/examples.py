"""The documented default order used when a ``check`` record carries none (``plansentry example-order``).

Robot ``R1`` stands at pack station ``PACK-1`` of the embedded default map; no zone is closed.
"""

from __future__ import annotations

from typing import Final

from plansentry.domains.warehouse.map import Warehouse
from plansentry.domains.warehouse.order import Order, make_order

DEFAULT_ROBOT: Final = "R1"
DEFAULT_START_STATION: Final = "PACK-1"
DEFAULT_ORDER_LINES: Final = (
    ("SKU-1001", "A-05-L", 2),
    ("SKU-2002", "C-08-R", 1),
    ("SKU-3003", "E-14-L", 3),
    ("SKU-4004", "G-17-R", 1),
    ("SKU-5005", "B-19-L", 2),
    ("SKU-6006", "F-04-R", 1),
)


def default_order(wh: Warehouse) -> Order:
    return make_order("EX-1", DEFAULT_ORDER_LINES, wh)
