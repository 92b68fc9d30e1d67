"""The JSON on the node's topics: requests a robot publishes on ``~/request``, and the replies
the node publishes on ``~/decision``. Pure Python, no ROS: the node hands it a message's text.

A request is one JSON object::

    {"op": "decide", "robot_id": "amr-7", "request_id": "r-41",
     "context": {...}, "ticket": "...", "budget_ms": 150}
    {"op": "ask", "robot_id": "amr-7", "request_id": "r-42", "context": {...}, "ttl_s": 30}
    {"op": "cancel", "robot_id": "amr-7", "request_id": "r-43", "ticket": "..."}

``op`` defaults to ``decide``. Every reply names the ``robot_id`` and ``request_id`` it answers
(many robots share one node and one decision topic; each keeps the replies that name it), and its
``kind``: ``decision`` (``decision``: the service's decision body, as ``POST /v1/decide``
returns it), ``ticket`` (``ticket``: as ``POST /v1/tickets`` returns it), ``cancelled``
(``cancelled``: whether the ticket was known) or ``error`` (``error``: serve's error body,
``message``, ``type``, ``param``, ``code``). An error names the ids it could read from the request
(``null`` for one it could not).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import msgspec

from plansentry.serve.errors import RequestError, from_validation
from plansentry.serve.schemas import BudgetMs, RequestId, TicketId

#: A robot's id: short and printable, as a request id is.
RobotId = RequestId


class Request(msgspec.Struct, forbid_unknown_fields=True):
    """One request on ``~/request`` (see the module docstring)."""

    robot_id: RobotId
    request_id: RequestId
    op: Literal["decide", "ask", "cancel"] = "decide"
    context: dict[str, Any] | None = None
    ticket: TicketId | None = None
    budget_ms: BudgetMs | None = None
    ttl_s: Annotated[float, msgspec.Meta(gt=0)] | None = None


#: How much of an unreadable request's ids an error repeats.
_ID_CHARS: Final = 128


def _id(obj: Any, key: str) -> str | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= _ID_CHARS else None


def over_cap(text: str, cap: int) -> bool:
    """Whether ``text`` is over ``cap`` bytes in UTF-8, counted exactly only when it could be
    either (``n`` characters are ``n`` to ``4 n`` bytes): a 64 MiB request is refused at once."""
    if len(text) > cap:
        return True
    if len(text) * 4 <= cap:
        return False
    return len(text.encode("utf-8", "surrogatepass")) > cap


class Refusal(Exception):
    """A request refused before it reached the guard: the error, and the ids it carried."""

    def __init__(self, error: RequestError, robot_id: str | None, request_id: str | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.robot_id = robot_id
        self.request_id = request_id


def parse(text: str, *, max_bytes: int, robots: frozenset[str] = frozenset()) -> Request:
    """The request in ``text``; a :class:`Refusal` naming the field (and the ids it could read)
    otherwise. ``robots``: the robot ids the node serves (empty: any)."""
    if over_cap(text, max_bytes):
        raise Refusal(
            RequestError(
                413, f"over the cap of {max_bytes} bytes", param="body", code="body_too_large"
            ),
            None,
            None,
        )
    try:
        obj = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        err = RequestError(400, f"malformed JSON: {exc}", param="body", code="malformed")
        raise Refusal(err, None, None) from None
    robot_id, request_id = _id(obj, "robot_id"), _id(obj, "request_id")
    if not isinstance(obj, dict):
        err = RequestError(422, "must be a JSON object", param="body", code="invalid_value")
        raise Refusal(err, None, None)
    try:
        req = msgspec.convert(obj, Request)
    except msgspec.ValidationError as exc:
        raise Refusal(from_validation(exc), robot_id, request_id) from None
    if robots and req.robot_id not in robots:
        err = RequestError(
            404,
            f"{req.robot_id!r} is not one of the robots this node serves (parameter robots)",
            param="robot_id",
            code="unknown_robot",
        )
        raise Refusal(err, robot_id, request_id)
    missing = {
        "decide": req.context is None and req.ticket is None,
        "ask": req.context is None,
        "cancel": req.ticket is None,
    }[req.op]
    if missing:
        what = {"decide": "a context or a ticket", "ask": "a context", "cancel": "a ticket"}
        param = "ticket" if req.op == "cancel" else "context"
        err = RequestError(
            422, f"missing: {req.op} needs {what[req.op]}", param=param, code=f"missing_{param}"
        )
        raise Refusal(err, robot_id, request_id)
    return req


def reply(kind: str, robot_id: str | None, request_id: str | None, **body: Any) -> dict[str, Any]:
    """A reply on ``~/decision``: its ``kind``, the ids it answers, and its body."""
    return {"kind": kind, "robot_id": robot_id, "request_id": request_id, **body}


def error_reply(refusal: Refusal) -> dict[str, Any]:
    return reply("error", refusal.robot_id, refusal.request_id, error=refusal.error.body()["error"])


def audit_id(req: Request) -> str:
    """The id the audit log keeps for ``req``: its robot's and its own, ``robot/request``."""
    return f"{req.robot_id}/{req.request_id}"
