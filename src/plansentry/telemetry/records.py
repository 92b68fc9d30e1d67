"""Decisions and arrivals as JSON: the one format of the audit log, ``check``, replay and the service.

Nothing here knows a domain: plans and contexts go through the kit (its codec).
"""

from __future__ import annotations

import base64
from typing import Any

from plansentry.core.decision import Arrival, ArrivalKind, Decision
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


def arrival_from_json(data: dict[str, Any]) -> Arrival:
    if "text_b64" in data:
        text = base64.b64decode(data["text_b64"])
    else:
        text = str(data.get("text", "")).encode("utf-8")
    return Arrival(
        kind=ArrivalKind(data["kind"]),
        text=text,
        size_bytes=int(data.get("size_bytes", len(text))),
        at_ns=data.get("at_ns"),
        detail=str(data.get("detail", "")),
        asked_version=str(data.get("asked_version", "")),
        retry_after_ns=data.get("retry_after_ns"),
    )
