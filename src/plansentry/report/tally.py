"""What a controller did, counted: the tallies the FMLI matrix and the summaries are computed from.

A :class:`Tally` is one controller's record over a run (decisions, halts, downtime, items, and one
:class:`ModeTally` per failure mode); the simulator fills them decision by decision, replications
merge in order. Nothing here knows a domain: an "item" is whatever unit of work the domain counts
(a picked item, a delivered parcel).
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import final

from plansentry.core.failures import FailureMode


@final
@dataclass(slots=True)
class ModeTally:
    """One failure mode's row, for one controller."""

    count: int = 0
    detect_ms: list[float] = field(default_factory=list)
    mitigation: collections.Counter[str] = field(default_factory=collections.Counter)
    halts: int = 0
    downtime_s: float = 0.0
    unsafe: int = 0
    items_lost: int = 0
    requeued: int = 0

    def merge(self, other: ModeTally) -> None:
        self.count += other.count
        self.detect_ms.extend(other.detect_ms)
        self.mitigation.update(other.mitigation)
        self.halts += other.halts
        self.downtime_s += other.downtime_s
        self.unsafe += other.unsafe
        self.items_lost += other.items_lost
        self.requeued += other.requeued


@final
@dataclass(slots=True)
class Tally:
    """Everything one controller did in one replication (merged across replications in order)."""

    cycles: int = 0
    calls: int = 0  # model requests
    halted_cycles: int = 0
    halts: int = 0
    model_halts: int = 0  # halts with a model failure behind them
    downtime_s: float = 0.0
    robot_s: float = 0.0
    items: int = 0
    items_lost: int = 0
    orders_done: int = 0
    lost_orders: int = 0
    unsafe_executed: int = 0
    requeued: int = 0
    safe_moves: int = 0
    late: int = 0
    sources: collections.Counter[str] = field(default_factory=collections.Counter)
    cycle_s_per_item: list[float] = field(default_factory=list)
    modes: dict[str, ModeTally] = field(default_factory=dict)
    # For the report (guarded only): model latency and the answer's arrival relative to its
    # decision point, as fixed-bin histograms (bin index -> count, see LATENCY_BIN_MS and
    # SLACK_BIN_MS); seconds in each state; state changes; the first replication's state timeline.
    latency_bins: collections.Counter[int] = field(default_factory=collections.Counter)
    slack_bins: collections.Counter[int] = field(default_factory=collections.Counter)
    state_s: dict[str, float] = field(default_factory=dict)
    transitions: collections.Counter[str] = field(default_factory=collections.Counter)
    timeline: list[tuple[float, str]] = field(default_factory=list)

    def mode(self, name: str) -> ModeTally:
        found = self.modes.get(name)
        if found is None:
            found = self.modes[name] = ModeTally()
        return found

    def merge(self, other: Tally) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "modes":
                for name, row in theirs.items():
                    self.mode(name).merge(row)
            elif f.name == "state_s":
                for name, seconds in theirs.items():
                    mine[name] = mine.get(name, 0.0) + seconds
            elif f.name == "timeline":
                if not mine:  # the first replication's, whatever the number of workers
                    self.timeline = list(theirs)
            elif isinstance(mine, collections.Counter):
                mine.update(theirs)
            elif isinstance(mine, list):
                mine.extend(theirs)
            else:
                setattr(self, f.name, mine + theirs)


def row_key(mode: FailureMode | str | None, extraction: str, repairs: Sequence[str]) -> str | None:
    """The FMLI row of an output: its failure mode, or ``malformed`` for output a bare JSON parser
    refuses that the gate could still use (extracted from prose or a fence, or repaired). One rule
    for the simulator's controllers and for logged decisions (:mod:`plansentry.report.decisions`)."""
    if mode is not None:
        return mode.value if isinstance(mode, FailureMode) else mode
    if (extraction and extraction != "bare") or repairs:
        return FailureMode.MALFORMED.value
    return None
