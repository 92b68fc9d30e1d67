"""Shared test helpers."""

from __future__ import annotations

from plansentry.sim.oracle import route_cells, unsafe_reasons

#: The fields every FMLI row has, in ``simulate --json`` and ``demo --json`` alike (the issue's list).
FMLI_ROW_KEYS = frozenset(
    {
        "failure_mode",
        "count",
        "rate",
        "detect_ms_p50",
        "detect_ms_p99",
        "mitigation",
        "bucket",
        "downtime_s_unguarded",
        "downtime_s_guarded",
    }
)

__all__ = ["FMLI_ROW_KEYS", "route_cells", "unsafe_reasons"]
