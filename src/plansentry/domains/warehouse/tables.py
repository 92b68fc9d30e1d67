"""The tables a warehouse context carries for the rules' fast path (:class:`RuleTables`).

Computed by :meth:`~.rules.WarehouseDomain.context` at request time, kept on the context
(:class:`~.order.PickContext`), read by the rules: a module of its own, which both import.
"""

from __future__ import annotations

from typing import final


@final
class RuleTables:
    """What :meth:`~.rules.WarehouseDomain.context` precomputes for judging plans in one context.

    - ``domain``: the domain that computed them (another domain judges without them: it is
      compared by identity);
    - ``lines``: how many distinct order lines a plan must cover; ``all_lines``: their bits;
    - ``picks``: bin name -> ``(poi, distance row, zone-mask row, sku, qty, line bit, access
      cell)`` for the first line of each order bin a plan may visit (the bin exists and is in no
      closed or staff-only zone); the rows are the router's open-map legs from that bin
      (``UNREACHABLE`` in both where there is no route);
    - ``other_lines``: ``(bin, sku) -> (qty, line bit)`` for every line, when some line has no
      entry of its own in ``picks`` (a bin with several lines); else ``None``;
    - ``start_dist``, ``start_mask``: the legs from the start (all ``UNREACHABLE``, which the
      router must answer, when the start is not a point of interest);
    - ``ends``: pack station name -> ``(poi, cell)`` for the stations a plan may end at;
    - ``closed``: the zones this order closed: a leg whose mask meets them the router answers;
    - ``handling_s`` and ``bound_s``: the cycle-time rule's handling of the order's items, and
      its bound (both 0 when the rule is off).

    The containers are ``dict`` and ``list``, not abstract ones: compiled, the rules index them
    with the concrete types' own operations.
    """

    __slots__ = (
        "all_lines",
        "bound_s",
        "closed",
        "domain",
        "ends",
        "handling_s",
        "lines",
        "other_lines",
        "picks",
        "start_dist",
        "start_mask",
    )

    def __init__(
        self,
        *,
        domain: object,
        lines: int,
        picks: dict[str, tuple[int, list[int], list[int], str, int, int, int]],
        other_lines: dict[tuple[str, str], tuple[int, int]] | None,
        start_dist: list[int],
        start_mask: list[int],
        ends: dict[str, tuple[int, int]],
        closed: int,
        handling_s: float,
        bound_s: float,
    ) -> None:
        self.domain = domain
        self.lines = lines
        self.all_lines = (1 << lines) - 1
        self.picks = picks
        self.other_lines = other_lines
        self.start_dist = start_dist
        self.start_mask = start_mask
        self.ends = ends
        self.closed = closed
        self.handling_s = handling_s
        self.bound_s = bound_s
