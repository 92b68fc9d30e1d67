"""The tables a warehouse context carries for the rules' fast path (:class:`RuleTables`).

Computed by :meth:`~.rules.WarehouseDomain.context` at request time, kept on the context
(:class:`~.order.PickContext`), read by the rules: a module of its own, which both import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import final


@final
class RuleTables:
    """What :meth:`~.rules.WarehouseDomain.context` precomputes for judging plans in one context.

    - ``domain``: the domain that computed them (another domain judges without them: it is
      compared by identity);
    - ``lines``: how many distinct order lines a plan must cover; ``all_lines``: their bits;
    - ``picks``: bin name -> ``(poi, legs row, sku, qty, line bit, access cell)`` for the first
      line of each order bin a plan may visit (the bin exists and is in no closed or staff-only
      zone); the row holds the packed legs from that bin (:class:`~.router.LegSums`);
    - ``other_lines``: ``(bin, sku) -> (qty, line bit)`` for every line, when some line has no
      entry of its own in ``picks`` (a bin with several lines); else ``None``;
    - ``start_row``: the packed legs from the start (legs the router must answer, when the
      start is not a point of interest);
    - ``ends``: pack station name -> ``(poi, cell)`` for the stations a plan may end at;
    - ``blocked``: a packed leg, or a sum of them, ANDed with it is non-zero when the table
      cannot answer some leg for this context (no open-map route, or a closed zone crossed);
    - ``handling_s`` and ``bound_s``: the cycle-time rule's handling of the order's items, and
      its bound (both 0 when the rule is off).
    """

    __slots__ = (
        "all_lines",
        "blocked",
        "bound_s",
        "domain",
        "ends",
        "handling_s",
        "lines",
        "other_lines",
        "picks",
        "start_row",
    )

    def __init__(
        self,
        *,
        domain: object,
        lines: int,
        picks: Mapping[str, tuple[int, list[int], str, int, int, int]],
        other_lines: Mapping[tuple[str, str], tuple[int, int]] | None,
        start_row: list[int],
        ends: Mapping[str, tuple[int, int]],
        blocked: int,
        handling_s: float,
        bound_s: float,
    ) -> None:
        self.domain = domain
        self.lines = lines
        self.all_lines = (1 << lines) - 1
        self.picks = picks
        self.other_lines = other_lines
        self.start_row = start_row
        self.ends = ends
        self.blocked = blocked
        self.handling_s = handling_s
        self.bound_s = bound_s
