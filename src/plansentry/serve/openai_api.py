"""The OpenAI-compatible face: ``POST /v1/chat/completions`` answered with the decided plan.

An unchanged OpenAI client can send only ``model`` and ``messages`` (plus the ``extra_body`` every
SDK allows). The decision point travels in either of two ways, the first found wins:

1. a ``plansentry`` body field (``extra_body={"plansentry": {...}}`` in the Python SDK);
2. the last ``user`` message, whose content is that same object as JSON text.

The object is ``{"context": {...}, "budget_ms": 150, "ticket": "...", "request_id": "..."}``
(the native API's :class:`~plansentry.serve.schemas.DecideRequest`). The prompt that goes upstream
is the domain's, built from the context by the kit: the caller's messages, ``temperature`` and
other sampling fields are not forwarded (the gate's rules are what the prompt states).

The reply is a chat completion whose content is the decided plan as JSON (the model's if it
passed the gate, else the fallback's, else ``{"safe_move": ...}``), the decision in the
``plansentry`` extension field and in ``x-plansentry-*`` headers. ``stream: true`` gets the same
as a valid event stream (the plan is decided whole, so it comes in one content chunk, then the
finishing chunk carrying the decision, then ``data: [DONE]``).
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Final

import msgspec

from plansentry.serve.errors import RequestError, from_validation
from plansentry.serve.schemas import DecideRequest

#: The name ``GET /v1/models`` lists, per kit.
MODEL_PREFIX: Final = "plansentry-"


class ChatMessage(msgspec.Struct):
    role: str
    content: str | list[Any] | None = None


class ChatRequest(msgspec.Struct):
    """The fields the service reads; any other OpenAI field is accepted and ignored."""

    model: str
    messages: list[ChatMessage]
    stream: bool = False
    n: int = 1
    plansentry: DecideRequest | None = None


_DECODER: Final = msgspec.json.Decoder(ChatRequest)
_EXT_DECODER: Final = msgspec.json.Decoder(DecideRequest)
_ENCODER: Final = msgspec.json.Encoder()


def parse(body: bytes) -> tuple[ChatRequest, DecideRequest, str]:
    """The chat request, its decision point, and where that was found (``plansentry`` or
    ``messages[i].content``: errors about it are named under it); a 4xx naming the field
    otherwise."""
    try:
        req = _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        raise from_validation(exc) from None
    except msgspec.DecodeError as exc:
        raise RequestError(400, f"malformed JSON: {exc}", param="body", code="malformed") from None
    if req.n != 1:
        raise RequestError(422, "must be 1: one decision per request", param="n", code="n")
    if not req.messages and req.plansentry is None:
        raise RequestError(422, "empty", param="messages", code="invalid_value")
    if req.plansentry is not None:
        ext, where = req.plansentry, "plansentry"
    else:
        ext, where = _from_messages(req.messages)
    if ext.context is None and ext.ticket is None:
        raise RequestError(
            422,
            "missing: give the decision point's context (or a ticket)",
            param=f"{where}.context",
            code="missing_context",
        )
    return req, ext, where


def _from_messages(messages: list[ChatMessage]) -> tuple[DecideRequest, str]:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == "user":
            break
    else:
        raise RequestError(
            422,
            "no decision point: send extra_body={'plansentry': {'context': ...}} or a user "
            'message whose content is {"context": ...}',
            param="plansentry",
            code="missing_context",
        )
    where = f"messages[{i}].content"
    content = messages[i].content
    if not isinstance(content, str):
        raise RequestError(
            422, 'must be JSON text: {"context": ...}', param=where, code="missing_context"
        )
    try:
        return _EXT_DECODER.decode(content), where
    except msgspec.ValidationError as exc:
        raise from_validation(exc, where) from None
    except msgspec.DecodeError:
        raise RequestError(
            422,
            'not a decision point: the content must be JSON, {"context": ...} (or send '
            "extra_body={'plansentry': ...})",
            param=where,
            code="missing_context",
        ) from None


def headers(decision: dict[str, Any], server_ms: float) -> dict[str, str]:
    """The decision in response headers (native and OpenAI APIs alike)."""
    return {
        "x-plansentry-source": decision["source"],
        "x-plansentry-failure-mode": decision["failure_mode"] or "none",
        "x-plansentry-state": decision["state_after"],
        "x-plansentry-consulted": "true" if decision["consulted"] else "false",
        "x-plansentry-violations": ",".join(v["rule"] for v in decision["violations"]) or "none",
        "x-plansentry-seq": str(decision["seq"]),
        "server-timing": f"decide;dur={server_ms:.3f}",
    }


def completion(decision: dict[str, Any], model: str) -> bytes:
    """A ``chat.completion`` whose content is the decided plan."""
    body = {
        "id": _completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": _plan_text(decision)},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "plansentry": decision,
    }
    return _ENCODER.encode(body)


def stream(decision: dict[str, Any], model: str) -> bytes:
    """The same completion as a ``chat.completion.chunk`` event stream, ending in ``[DONE]``."""
    head = {"id": _completion_id(), "object": "chat.completion.chunk", "created": int(time.time())}
    head["model"] = model

    def chunk(delta: dict[str, Any], finish: str | None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return b"data: " + _ENCODER.encode({**head, "choices": [choice], **extra}) + b"\n\n"

    return b"".join(
        (
            chunk({"role": "assistant", "content": ""}, None),
            chunk({"content": _plan_text(decision)}, None),
            chunk({}, "stop", plansentry=decision),
            b"data: [DONE]\n\n",
        )
    )


def models(kit_name: str) -> bytes:
    """``GET /v1/models``: the one model this service answers as."""
    entry = {
        "id": MODEL_PREFIX + kit_name,
        "object": "model",
        "created": 0,
        "owned_by": "plansentry",
    }
    return _ENCODER.encode({"object": "list", "data": [entry]})


def _plan_text(decision: dict[str, Any]) -> str:
    return _ENCODER.encode(decision["plan"]).decode("utf-8")


def _completion_id() -> str:
    return "chatcmpl-" + secrets.token_hex(12)
