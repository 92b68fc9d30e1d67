"""Decisions and arrivals as JSON: the one format of the audit log, ``check``, replay and the service.

Nothing here knows a domain: plans and contexts go through the kit (its codec).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

import msgspec

from plansentry.core.decision import Arrival, ArrivalKind, Decision
from plansentry.core.errors import InputError
from plansentry.core.failures import BucketMap
from plansentry.runtime.guard import LateAnswer
from plansentry.runtime.kit import DomainKit


def decision_json(d: Decision[Any], buckets: BucketMap, kit: DomainKit[Any, Any]) -> dict[str, Any]:
    """The decision as JSON: everything that replay must reproduce, plus timings."""
    mode = d.failure_mode
    return {
        "seq": d.seq,
        "request_id": d.request_id,
        "accepted": d.accepted,
        "source": d.source,
        "failure_mode": mode.value if mode is not None else None,
        "bucket": buckets[mode].value if mode is not None else None,
        "violations": [v.to_json() for v in d.violations],
        "repairs": list(d.repairs),
        "plan": kit.plan_json(d.plan),
        "state_before": d.state_before.value,
        "state_after": d.state_after.value,
        "transitions": [t.to_json() for t in d.transitions],
        "consulted": d.consulted,
        "shadow": d.shadow,
        "skipped": d.skipped,
        "on_time": d.on_time,
        "asked_ns": d.asked_ns,
        "arrival_ns": d.arrival_ns,
        "cutoff_ns": d.cutoff_ns,
        "deadline_ns": d.deadline_ns,
        "decided_ns": d.decided_ns,
        "gate_us": round(d.gate_ns / 1000, 3),
    }


#: Fields of :func:`decision_json` that depend on the machine, not on the inputs: not replayed.
TIMING_ONLY = frozenset({"gate_us"})


def arrival_json(a: Arrival, max_text_bytes: int) -> dict[str, Any]:
    """The arrival with its text capped at ``max_text_bytes`` (``size_bytes`` keeps the true size)."""
    text = a.text[:max_text_bytes]
    out: dict[str, Any] = {"kind": a.kind.value, "size_bytes": a.size_bytes, "at_ns": a.at_ns}
    try:
        out["text"] = text.decode("utf-8")
    except UnicodeDecodeError:
        out["text_b64"] = base64.b64encode(text).decode("ascii")
    if len(text) < len(a.text):
        out["truncated"] = True
    if a.detail:
        out["detail"] = a.detail
    if a.asked_version:
        out["asked_version"] = a.asked_version
    if a.retry_after_ns is not None:
        out["retry_after_ns"] = a.retry_after_ns
    return out


def late_answer_json(event: LateAnswer, max_text_bytes: int) -> dict[str, Any]:
    """A late answer as an audit-log record (``type: late_answer``), its text capped likewise."""
    out: dict[str, Any] = {
        "type": "late_answer",
        "request_id": event.request_id,
        "how": event.how,
        "asked_ns": event.asked_ns,
        "arrival": arrival_json(event.arrival, max_text_bytes),
    }
    if event.generation_ns is not None:
        out["generation_ns"] = event.generation_ns
    return out


def arrival_from_json(data: Any) -> Arrival:
    """The arrival :func:`arrival_json` wrote. Raises :class:`InputError` (naming the field) for
    anything else, since logs come from users' disks."""
    try:
        got = msgspec.convert(data, _LoggedArrival)
        text = (
            base64.b64decode(got.text_b64, validate=True)
            if got.text_b64 is not None
            else got.text.encode("utf-8", "surrogatepass")
        )
    except msgspec.ValidationError as exc:
        raise InputError(f"arrival: {exc}") from None
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"arrival: text_b64 is not base64 ({exc})") from None
    if got.kind == "output" and got.at_ns is None:
        raise InputError("arrival: an output without at_ns (when it arrived)")
    return Arrival(
        kind=ArrivalKind(got.kind),
        text=text,
        size_bytes=got.size_bytes if got.size_bytes is not None else len(text),
        at_ns=got.at_ns,
        detail=got.detail,
        asked_version=got.asked_version,
        retry_after_ns=got.retry_after_ns,
    )


# What a reader needs of the records above, as types: a record read from a user's file is checked
# against these before any field of it is used (the fields other readers ignore stay free).


class _LoggedArrival(msgspec.Struct, frozen=True):
    kind: Literal["output", "timeout", "transport", "not_asked"]
    text: str = ""
    text_b64: str | None = None
    size_bytes: int | None = None
    at_ns: int | None = None
    detail: str = ""
    asked_version: str = ""
    retry_after_ns: int | None = None


class _Violation(msgspec.Struct, frozen=True):
    rule: str


class _Transition(msgspec.Struct, frozen=True, rename={"from_": "from"}):
    from_: str
    to: str
    event: str


class _LoggedDecision(msgspec.Struct, frozen=True, kw_only=True):
    request_id: str | int
    seq: int = -1
    source: str = ""
    failure_mode: str | None = None
    violations: list[_Violation] = []
    repairs: list[str] = []
    plan: dict[str, Any] | None = None
    state_before: str = ""
    transitions: list[_Transition] = []
    consulted: bool = False
    shadow: bool = False
    asked_ns: int | None = None
    arrival_ns: int | None = None
    deadline_ns: int
    decided_ns: int


class _DecisionRecord(msgspec.Struct, frozen=True):
    decision: _LoggedDecision
    context: dict[str, Any]
    arrival: dict[str, Any]
    stuck_workers: int = 0


class _LateAnswerRecord(msgspec.Struct, frozen=True):
    request_id: str | int
    arrival: dict[str, Any]
    how: str = ""
    asked_ns: int | None = None


class _Kit(msgspec.Struct, frozen=True):
    name: str
    rules_version: str | None = None
    params: dict[str, Any] = {}


class _Header(msgspec.Struct, frozen=True):
    format: str
    domain: _Kit
    config: dict[str, Any]
    meta: dict[str, Any] = {}


class _CheckRow(msgspec.Struct, frozen=True):
    id: str | int
    source: str
    failure_mode: str | None = None
    violations: list[_Violation] = []
    repairs: list[str] = []
    plan: dict[str, Any] | None = None


class _DemoDocument(msgspec.Struct, frozen=True):
    decisions: list[dict[str, Any]]
    kit: _Kit | None = None
    guard_config: dict[str, Any] | None = None
    meta: dict[str, Any] = {}


def check_row_problem(row: dict[str, Any]) -> str | None:
    """Why a line of ``plansentry check`` output cannot be tallied, or ``None``."""
    try:
        msgspec.convert(row, _CheckRow)
    except msgspec.ValidationError as exc:
        return f"a check result: {exc}"
    return None


def demo_problem(doc: dict[str, Any]) -> str | None:
    """Why a ``demo --json`` document's decisions cannot be read, or ``None``: each decision must be
    a logged decision carrying its ``context`` and ``arrival`` (and any ``late_answer``)."""
    try:
        msgspec.convert(doc, _DemoDocument)
    except msgspec.ValidationError as exc:
        return f"a demo document: {exc}"
    for i, d in enumerate(doc["decisions"]):
        problem = record_problem(
            {
                "type": "decision",
                "decision": d,
                "context": d.get("context"),
                "arrival": d.get("arrival"),
            }
        )
        late = d.get("late_answer")
        if problem is None and late is not None:
            problem = (
                record_problem({**late, "type": "late_answer"})
                if isinstance(late, dict)
                else ("a late_answer is not an object")
            )
        if problem is not None:
            return f"decisions[{i}]: {problem}"
    return None


_SHAPES: dict[str, type[msgspec.Struct]] = {
    "header": _Header,
    "decision": _DecisionRecord,
    "late_answer": _LateAnswerRecord,
}


def record_problem(rec: dict[str, Any]) -> str | None:
    """Why the audit-log record ``rec`` cannot be used, or ``None``: each kind a reader knows
    (``header``, ``decision``, ``late_answer``) must carry its fields with their types; a decision's
    or late answer's arrival must be one :func:`arrival_from_json` reads. Kinds no reader needs
    (``reset``, or a later version's) pass."""
    kind = rec.get("type")
    if not isinstance(kind, str):
        return 'not an audit record (no "type")'
    shape = _SHAPES.get(kind)
    if shape is None:
        return None
    try:
        msgspec.convert(rec, shape)
        if kind != "header":
            arrival_from_json(rec["arrival"])
    except msgspec.ValidationError as exc:
        return f"a {kind} record: {exc}"
    except InputError as exc:
        return f"a {kind} record: {exc}"
    return None
