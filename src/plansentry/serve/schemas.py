"""Request and response bodies of the native API, as typed structs: they validate what comes in
(unknown fields refused, each error naming its field) and are the JSON Schema the docs and
``GET /v1/schema`` publish.

A context is the kit's JSON (its codec reads it, so its schema is the kit's); a plan is the kit's
plan JSON, or ``{"safe_move": {"action", "reason"}}`` when no plan passed.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any, Final

import msgspec

#: A caller's own id for a decision (kept in the audit log): short and printable.
RequestId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]
#: A budget in milliseconds, relative to the request's receipt.
BudgetMs = Annotated[float, msgspec.Meta(gt=0)]
#: A ticket id as the service hands them out (url-safe base64 of 16 random bytes).
TicketId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class AskRequest(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /v1/tickets``: ask the model ahead for a coming decision point."""

    context: dict[str, Any]
    ttl_s: Annotated[float, msgspec.Meta(gt=0)] | None = None
    request_id: RequestId | None = None


class DecideRequest(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /v1/decide``: decide by ``budget_ms`` after receipt. Give a ``ticket`` (asked
    ahead), a ``context`` (ask now), or both (the context is used if the ticket expired)."""

    context: dict[str, Any] | None = None
    ticket: TicketId | None = None
    budget_ms: BudgetMs | None = None
    request_id: RequestId | None = None


class Ticket(msgspec.Struct, forbid_unknown_fields=True):
    """A ticket: its id, its lifetime left, and whether the model was asked (``skipped``: why
    not: an open breaker, a server's Retry-After)."""

    ticket: str
    expires_in_ms: float
    asked: bool
    skipped: str


class Violation(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    rule: str
    mode: str
    detail: str
    path: str | None = None


class Timing(msgspec.Struct, forbid_unknown_fields=True):
    """The hop, as the service saw it: the budget, and receipt to decision in its own clock."""

    budget_ms: float
    decided_ms: float
    slack_ms: float


class Decision(msgspec.Struct, forbid_unknown_fields=True):
    """A decision: the plan to execute and why (the audit log's record, plus ``timing``).

    ``source``: ``llm``, ``repaired``, a fallback's name, or ``safe_move``. ``failure_mode``: how
    the model's answer failed (``None`` if it passed or was not asked). ``*_ns``: the service's
    monotonic clock, meaningful only relative to each other.
    """

    seq: int
    request_id: str
    accepted: bool
    source: str
    failure_mode: str | None
    bucket: str | None
    violations: list[Violation]
    repairs: list[str]
    plan: dict[str, Any]
    state_before: str
    state_after: str
    transitions: list[dict[str, Any]]
    consulted: bool
    shadow: bool
    skipped: str
    on_time: bool
    asked_ns: int | None
    arrival_ns: int | None
    cutoff_ns: int
    deadline_ns: int
    decided_ns: int
    gate_us: float
    timing: Timing
    ticket: str | None = None


class ErrorDetail(msgspec.Struct):
    message: str
    type: str
    param: str | None
    code: str


class Error(msgspec.Struct):
    """Every refused request (OpenAI's error shape)."""

    error: ErrorDetail


#: The bodies documented by ``GET /v1/schema``, by name.
BODIES: Final = {
    "AskRequest": AskRequest,
    "DecideRequest": DecideRequest,
    "Ticket": Ticket,
    "Decision": Decision,
    "Error": Error,
}


def schemas(plan_type: type[Any] | None = None) -> dict[str, Any]:
    """JSON Schema of every body (and of the kit's plan, when its type is a msgspec type)."""
    types = list(BODIES.values())
    _, components = msgspec.json.schema_components(types, ref_template="#/$defs/{name}")
    out: dict[str, Any] = {"$defs": components, "bodies": {k: f"#/$defs/{k}" for k in BODIES}}
    if plan_type is not None:
        # A kit whose plan is not a msgspec type has only its codec to define the JSON.
        with contextlib.suppress(TypeError):
            out["plan"] = msgspec.json.schema(plan_type)
    return out
