"""Shared test helpers."""

from __future__ import annotations

from plansentry.sim.oracle import route_cells, unsafe_reasons

__all__ = ["route_cells", "unsafe_reasons"]
