"""Replay: run every logged decision through the core again and count where it decides otherwise.

Each ``header`` starts a fresh guard with the logged configuration, from the domain kit the header
names, rebuilt under the rules version it names (:func:`~plansentry.runtime.kit.load_kit`); a kit
that is not installed, or no longer has those rules, stops the replay with a
:class:`~plansentry.core.errors.ReplayError` that says so. Each ``decision`` is
re-run with its logged inputs (context, arrival, instants) through :meth:`Guard.finish`, so the gate,
the fallbacks, the breaker and the state machine all run again. Timing measurements (the gate's own
run time) differ by machine and are not compared; everything else must match exactly. A
``late_answer`` record is not re-decided (its decision was taken without it); replay checks that it
names a decision logged before it under the same header, and counts those that do not.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

import msgspec

from plansentry.core.errors import InputError, PlansentryError, ReplayError
from plansentry.runtime.config import GuardConfig
from plansentry.runtime.guard import Guard
from plansentry.runtime.kit import DomainKit, load_kit
from plansentry.telemetry.audit import FORMAT, read_log
from plansentry.telemetry.reader import Refused
from plansentry.telemetry.records import TIMING_ONLY, arrival_from_json, decision_json


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
    torn_lines: list[int] = field(default_factory=list)  # torn by a crash, then the log reopened
    bad_lines: list[Refused] = field(default_factory=list)  # each names its file, line, reason
    late_answers: int = 0
    unmatched_late_answers: list[str] = field(default_factory=list)  # their request ids

    @property
    def ok(self) -> bool:
        return not self.differences and not self.bad_lines and not self.unmatched_late_answers


def kit_identity(header: dict[str, Any]) -> dict[str, Any]:
    """The kit identity a header names (``name``, ``rules_version``, ``params``)."""
    fmt = header.get("format")
    if fmt != FORMAT:
        raise ReplayError(f"unknown log format {fmt!r}; this version reads {FORMAT!r}")
    domain = header.get("domain")
    if not isinstance(domain, dict) or not isinstance(domain.get("name"), str):
        raise ReplayError("the header names no domain kit")
    return domain


def guard_for(header: dict[str, Any]) -> tuple[Guard[Any, Any], DomainKit[Any, Any]]:
    """The guard a header describes: its kit, rebuilt under the logged rules, and its config."""
    ident = kit_identity(header)
    try:
        kit = load_kit(
            ident["name"],
            rules_version=ident.get("rules_version"),
            params=ident.get("params") or {},
        )
    except PlansentryError as exc:  # not installed, other rules, params or a map it refuses
        raise ReplayError(f"cannot rebuild the guard that wrote this log: {exc}") from None
    config = GuardConfig.from_json(header["config"])
    return kit.guard(config=config), kit


def replay(path: str | Path) -> ReplayResult:
    """Replay the log at ``path``; see the module docstring."""
    contents = read_log(path)
    result = ReplayResult(
        torn_tail=contents.torn_tail, torn_lines=contents.torn_lines, bad_lines=contents.bad_lines
    )
    guard: Guard[Any, Any] | None = None
    kit: DomainKit[Any, Any] | None = None
    requests: set[str] = set()  # request ids decided under the current header
    for line, rec in zip(contents.lines, contents.records, strict=True):
        kind = rec["type"]
        if kind == "header":
            guard, kit = guard_for(rec)
            requests = set()
            continue
        if kind == "late_answer":
            result.late_answers += 1
            if str(rec.get("request_id")) not in requests:
                result.unmatched_late_answers.append(str(rec.get("request_id")))
            continue
        if guard is None or kit is None:
            raise ReplayError(f"{path}: a {kind} record comes before any header")
        if kind == "reset":
            guard.reset(str(rec.get("reason", "")))
            continue
        if kind != "decision":
            continue
        logged = rec["decision"]
        try:
            ctx = kit.codec.context_from_json(rec["context"])
        except InputError as exc:
            result.bad_lines.append(Refused(str(path), line, f"a decision's context: {exc}"))
            continue
        try:
            arrival = arrival_from_json(rec["arrival"])
        except InputError as exc:
            result.bad_lines.append(Refused(str(path), line, f"a decision's {exc}"))
            continue
        result.decisions += 1
        requests.add(str(logged["request_id"]))
        decided_ns = int(logged["decided_ns"])
        again = guard.finish(
            ctx,
            request_id=logged["request_id"],
            asked_ns=logged["asked_ns"],
            deadline_ns=int(logged["deadline_ns"]),
            arrival=arrival,
            fallbacks=guard.run_fallbacks(ctx),
            clock_ns=functools.partial(int, decided_ns),
            stuck_workers=int(rec.get("stuck_workers", 0)),
        )
        # Compare in the log's own form: as JSON, where tuples are lists.
        replayed = msgspec.json.decode(
            msgspec.json.encode(decision_json(again, guard.config.buckets, kit))
        )
        for key in sorted(set(logged) | set(replayed)):
            if key in TIMING_ONLY:
                continue
            if logged.get(key) != replayed.get(key):
                result.differences.append(
                    Difference(int(logged.get("seq", -1)), key, logged.get(key), replayed.get(key))
                )
    return result
