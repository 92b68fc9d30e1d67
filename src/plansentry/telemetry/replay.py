"""Replay: run every logged decision through the core again and count where it decides otherwise.

Each ``header`` starts a fresh guard with the logged configuration and map; each ``decision`` is
re-run with its logged inputs (context, arrival, instants) through :meth:`Guard.finish`, so the gate,
the fallbacks, the breaker and the state machine all run again. Timing measurements (the gate's own
run time) differ by machine and are not compared; everything else must match exactly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

import msgspec

from plansentry.runtime.config import GuardConfig
from plansentry.runtime.guard import Guard
from plansentry.telemetry.audit import FORMAT, read_log
from plansentry.telemetry.records import (
    TIMING_ONLY,
    arrival_from_json,
    decision_json,
    order_and_start,
)
from plansentry.warehouse.assembly import make_guard
from plansentry.warehouse.map import default_map, load_map
from plansentry.warehouse.order import PickContext
from plansentry.warehouse.rules import WarehouseDomain
from plansentry.warehouse.schema import Plan


@final
@dataclass
class Difference:
    seq: int
    field: str
    logged: Any
    replayed: Any


@final
@dataclass
class ReplayResult:
    decisions: int = 0
    differences: list[Difference] = field(default_factory=list)
    torn_tail: bool = False
    bad_lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.bad_lines


class ReplayError(ValueError):
    """A log that cannot be replayed (no header, unknown format, missing map)."""


def _guard_for(header: dict[str, Any]) -> tuple[Guard[Plan, PickContext], WarehouseDomain]:
    if header.get("format") != FORMAT:
        raise ReplayError(f"unknown log format {header.get('format')!r}; expected {FORMAT!r}")
    config = GuardConfig.from_json(header["config"])
    where = header["map"].get("path")
    wh = default_map() if where is None else load_map(where)
    if wh.version != header["map"]["version"]:
        raise ReplayError(
            f"map {where or 'default'} is version {wh.version!r}, the log used "
            f"{header['map']['version']!r}"
        )
    domain = WarehouseDomain(wh)
    return make_guard(config=config, domain=domain), domain


def replay(path: str | Path) -> ReplayResult:
    """Replay the log at ``path``; see the module docstring."""
    contents = read_log(path)
    result = ReplayResult(torn_tail=contents.torn_tail, bad_lines=contents.bad_lines)
    guard: Guard[Plan, PickContext] | None = None
    domain: WarehouseDomain | None = None
    for rec in contents.records:
        kind = rec["type"]
        if kind == "header":
            guard, domain = _guard_for(rec)
            continue
        if guard is None or domain is None:
            raise ReplayError(f"{path}: a {kind} record comes before any header")
        if kind == "reset":
            guard.reset(str(rec.get("reason", "")))
            continue
        if kind != "decision":
            continue
        result.decisions += 1
        logged = rec["decision"]
        order, robot_id, start = order_and_start(rec["context"], domain.wh)
        ctx = domain.context(order, robot_id, start)
        decided_ns = int(logged["decided_ns"])
        again = guard.finish(
            ctx,
            request_id=logged["request_id"],
            asked_ns=logged["asked_ns"],
            deadline_ns=int(logged["deadline_ns"]),
            arrival=arrival_from_json(rec["arrival"]),
            fallbacks=guard.run_fallbacks(ctx),
            clock_ns=functools.partial(int, decided_ns),
            stuck_workers=int(rec.get("stuck_workers", 0)),
        )
        # Compare in the log's own form: as JSON, where tuples are lists.
        replayed = msgspec.json.decode(
            msgspec.json.encode(decision_json(again, guard.config.buckets))
        )
        for key in sorted(set(logged) | set(replayed)):
            if key in TIMING_ONLY:
                continue
            if logged.get(key) != replayed.get(key):
                result.differences.append(
                    Difference(int(logged.get("seq", -1)), key, logged.get(key), replayed.get(key))
                )
    return result
