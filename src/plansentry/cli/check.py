"""``plansentry check``: judge model outputs (JSON lines) as the guard would, for any installed kit.

Each input line is ``{"id", "output" | "output_b64", "latency_ms"?, "context"?}``; the context's
keys may also stand at the top of the record (``"order"``, ``"robot_id"`` for the warehouse), and
any key missing from it is taken from the kit's example context. Each record is judged in virtual
time, by default on its own (a fresh state machine and breaker), and one line per record is written
as soon as it is decided. The file is read by the one bounded reader
(:mod:`plansentry.telemetry.reader`: bytes, never text; a line's size and depth bounded). A line it
cannot read, or a record without what ``check`` needs, gets an error line
(``{"id", "file", "line", "error"}``) and the run goes on; at the end a line on standard error says
how many records were judged and how many lines were refused, and the exit code is 1 if any was.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import sys
from typing import IO, Any

from plansentry.cli.common import emit, key_values
from plansentry.core.decider import GuardState
from plansentry.core.errors import InputError
from plansentry.core.gate import GateConfig
from plansentry.runtime.kit import DomainKit, load_kit
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.telemetry.audit import AuditLog
from plansentry.telemetry.reader import Counts, Refused, read_path, unreadable_summary
from plansentry.telemetry.records import decision_json

#: Virtual time between two records: far apart, so one record's timing never touches the next.
_SPACING_NS = 10_000_000_000


def add_arguments(c: argparse.ArgumentParser) -> None:
    c.add_argument("file", nargs="?", help="JSONL records; '-' or nothing reads stdin")
    c.add_argument(
        "--domain", default="warehouse", help="the installed domain kit to judge with (warehouse)"
    )
    c.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="a parameter of the kit (the warehouse: map=PATH); repeatable",
    )
    c.add_argument("--map", metavar="PATH", help=argparse.SUPPRESS)  # = --param map=PATH
    c.add_argument("--audit-log", metavar="PATH", help="append the audit log here as it goes")
    c.add_argument("--budget-ms", type=float, default=150.0, help="decision budget (ms)")
    c.add_argument("--repair", action="store_true", help="enable the deterministic repair step")
    c.add_argument(
        "--stateful",
        action="store_true",
        help="carry the breaker and state machine across records (default: judge each alone)",
    )


def run(args: argparse.Namespace, out: IO[str]) -> int:
    params: dict[str, Any] = key_values(args.param, "--param")
    if args.map:
        params["map"] = args.map
    kit = load_kit(args.domain, params=params)
    overrides: dict[str, Any] = {"budget_ms": args.budget_ms}
    if args.repair:
        overrides["gate"] = GateConfig(repair=True)
    config = kit.config(**overrides)
    hooks = [AuditLog(args.audit_log, kit=kit, config=config)] if args.audit_log else []
    guard = kit.guard(config=config, hooks=hooks)
    runtime = VirtualRuntime(guard)
    bad = 0
    counts = Counts()
    name = "-" if args.file in (None, "-") else str(args.file)
    try:
        for item in read_path(name, counts=counts):
            rid: Any = None
            if isinstance(item, Refused):
                bad += 1
                emit(
                    out,
                    {"id": None, "file": item.source, "line": item.position, "error": item.reason},
                )
                continue
            number, rec = item.position, item.value
            try:
                rid = rec.get("id")
                if rid is None:
                    raise InputError('missing "id"')
                output = record_output(rec)
                latency = rec.get("latency_ms", 0.0)
                if (
                    isinstance(latency, bool)
                    or not isinstance(latency, (int, float))
                    or latency < 0
                ):
                    raise InputError(f'"latency_ms" must be a number >= 0, got {latency!r}')
                ctx = kit.codec.context_from_json(record_context(kit, rec))
            except InputError as exc:
                bad += 1
                emit(out, {"id": rid, "file": item.source, "line": number, "error": str(exc)})
                continue
            if not args.stateful and guard.state != GuardState():
                guard.reset("check: each record is judged on its own")
            d = runtime.decide(
                ctx,
                now_ns=number * _SPACING_NS,
                output=output,
                latency_ms=float(latency),
                request_id=str(rid),
            )
            row = decision_json(d, config.buckets, kit)
            emit(
                out,
                {
                    "id": rid,
                    "accepted": row["accepted"],
                    "source": row["source"],
                    "failure_mode": row["failure_mode"],
                    "bucket": row["bucket"],
                    "violations": row["violations"],
                    "repairs": row["repairs"],
                    "gate_us": row["gate_us"],
                    "state": row["state_after"],
                    "plan": row["plan"],
                },
            )
    finally:
        for hook in hooks:
            hook.close()
    judged = counts.records - (bad - counts.unreadable)
    sys.stderr.write(
        f"plansentry check: {judged:,} records judged, {bad - counts.unreadable:,} refused, "
        f"{unreadable_summary(counts.refused)}\n"
    )
    return 1 if bad else 0


def record_context(kit: DomainKit[Any, Any], rec: dict[str, Any]) -> dict[str, Any]:
    """The context a record is judged in: its ``context`` (or the context's keys at its top
    level) over the kit's example context."""
    own = rec.get("context")
    if own is None:
        own = {k: v for k, v in rec.items() if k in kit.example_context}
    elif not isinstance(own, dict):
        raise InputError(f'"context" must be an object, got {type(own).__name__}')
    merged = {**kit.example_context, **own}
    if not merged:
        raise InputError(f'missing "context": the {kit.name} kit has no example context')
    return merged


def record_output(rec: dict[str, Any]) -> bytes:
    """The raw output of a record: ``output`` (text) or ``output_b64`` (bytes, base64)."""
    if "output" in rec and "output_b64" in rec:
        raise InputError('give "output" or "output_b64", not both')
    if "output_b64" in rec:
        try:
            return base64.b64decode(str(rec["output_b64"]), validate=True)
        except binascii.Error as exc:
            raise InputError(f'"output_b64" is not valid base64: {exc}') from None
    if "output" not in rec:
        raise InputError('missing "output" (or "output_b64")')
    if not isinstance(rec["output"], str):
        raise InputError(f'"output" must be a string, got {type(rec["output"]).__name__}')
    return rec["output"].encode("utf-8", "surrogatepass")
