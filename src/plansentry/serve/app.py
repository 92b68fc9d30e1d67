"""The HTTP API as an ASGI application (Starlette), over one :class:`~plansentry.serve.service.Service`.

Routes (request and response bodies: :mod:`plansentry.serve.schemas`, ``GET /v1/schema``):

- ``POST /v1/decide``: decide a decision point by ``budget_ms`` after receipt (ask and decide in
  one call with a ``context``, or decide an asked-ahead ``ticket``);
- ``POST /v1/tickets``: ask ahead, get a ticket at once; ``DELETE /v1/tickets/{id}``: give it up;
- ``POST /v1/chat/completions``, ``GET /v1/models``: the OpenAI-compatible face
  (:mod:`plansentry.serve.openai_api`);
- ``GET /metrics`` (Prometheus), ``GET /healthz`` (the process serves), ``GET /readyz`` (the guard's
  state; 503 while draining), ``GET /v1/schema``.

Every request but ``/healthz`` needs ``Authorization: Bearer <token>`` when the service has a token.
A request body is read only up to ``max_body_bytes`` (413 beyond), must be JSON (415 otherwise) and
is validated before anything reaches the model (400/422 naming the field). The decision paths
never answer 408, 409, 429 or 5xx.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any, Final

import msgspec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from plansentry.serve import openai_api
from plansentry.serve.errors import RequestError, from_validation
from plansentry.serve.schemas import AskRequest, DecideRequest, schemas
from plansentry.serve.service import Service

log = logging.getLogger("plansentry.serve")

#: Paths served without the access token (a liveness probe learns nothing).
OPEN_PATHS: Final = frozenset({"/healthz"})
#: On every response: the OpenAI SDK obeys it and never retries.
NO_RETRY: Final = {"x-should-retry": "false"}
#: How often expired tickets are swept (their model calls stopped).
SWEEP_S: Final = 1.0

_ENCODER: Final = msgspec.json.Encoder()
_ASK: Final = msgspec.json.Decoder(AskRequest)
_DECIDE: Final = msgspec.json.Decoder(DecideRequest)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    raw = body if isinstance(body, bytes) else _ENCODER.encode(body)
    return Response(raw, status, {**NO_RETRY, **(headers or {})}, "application/json")


def error_response(exc: RequestError) -> Response:
    extra = {"www-authenticate": "Bearer"} if exc.status == 401 else {}
    return _json(exc.body(), exc.status, extra)


async def read_json(request: Request, max_bytes: int) -> bytes:
    """The request body, at most ``max_bytes`` of JSON; 413 or 415 otherwise."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise RequestError(
            415,
            f"must be application/json, got {kind or 'none'}",
            param="content-type",
            code="unsupported_media_type",
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise RequestError(
            413, f"over the cap of {max_bytes} bytes", param="body", code="body_too_large"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise RequestError(
                413, f"over the cap of {max_bytes} bytes", param="body", code="body_too_large"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(decoder: msgspec.json.Decoder[Any], body: bytes) -> Any:
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise from_validation(exc) from None
    except msgspec.DecodeError as exc:
        raise RequestError(400, f"malformed JSON: {exc}", param="body", code="malformed") from None


def _gone(request: Request) -> Callable[[], Awaitable[object]]:
    """Returns when the caller disconnects (after the body, ``receive`` waits for exactly that)."""

    async def wait() -> object:
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                return message

    return wait


def build_app(service: Service) -> Starlette:
    """The ASGI application serving ``service`` (token check included when it has a token)."""
    cfg = service.config
    cap = cfg.max_body_bytes

    async def decide_point(
        request: Request, received_ns: int, point: DecideRequest, where: str = ""
    ) -> tuple[dict[str, Any], dict[str, str]]:
        budget_ns = service.budget_ns(point.budget_ms, f"{where}budget_ms")
        ctx = None if point.context is None else service.context(point.context, f"{where}context")
        decision, ticket = await service.decide(
            received_ns=received_ns,
            budget_ns=budget_ns,
            ticket_id=point.ticket,
            context=ctx,
            request_id=point.request_id,
            gone=_gone(request),
        )
        out = service.decision_json(
            decision, received_ns=received_ns, budget_ns=budget_ns, ticket=ticket
        )
        server_ms = (service.clock.now_ns() - received_ns) / 1e6
        return out, openai_api.headers(out, server_ms)

    async def decide(request: Request) -> Response:
        received_ns = service.clock.now_ns()
        point = _decode(_DECIDE, await read_json(request, cap))
        if point.context is None and point.ticket is None:
            raise RequestError(
                422, "missing: give a context or a ticket", param="context", code="missing_context"
            )
        out, hdrs = await decide_point(request, received_ns, point)
        return _json(out, headers=hdrs)

    async def chat(request: Request) -> Response:
        received_ns = service.clock.now_ns()
        req, point, where = openai_api.parse(await read_json(request, cap))
        out, hdrs = await decide_point(request, received_ns, point, where + ".")
        if req.stream:
            body = openai_api.stream(out, req.model)
            return Response(body, 200, {**NO_RETRY, **hdrs}, "text/event-stream")
        return _json(openai_api.completion(out, req.model), headers=hdrs)

    async def ask(request: Request) -> Response:
        point = _decode(_ASK, await read_json(request, cap))
        ctx = service.context(point.context)
        out = service.ask_ahead(ctx, ttl_s=point.ttl_s, request_id=point.request_id)
        return _json(out, 201 if out["ticket"] else 200)

    async def cancel(request: Request) -> Response:
        if not service.cancel(request.path_params["ticket_id"]):
            raise RequestError(404, "unknown or expired", param="ticket", code="ticket_not_found")
        return Response(status_code=204, headers=NO_RETRY)

    async def healthz(request: Request) -> Response:
        return _json({"ok": True})

    async def readyz(request: Request) -> Response:
        state = service.readiness()
        return _json(state, 200 if state["ready"] else 503)

    async def metrics(request: Request) -> Response:
        return Response(
            generate_latest(service.metrics.registry), 200, NO_RETRY, CONTENT_TYPE_LATEST
        )

    plan_type = getattr(service.kit.domain, "plan_type", None)
    schema_body = _ENCODER.encode(schemas(plan_type))

    async def schema(request: Request) -> Response:
        return _json(schema_body)

    async def models(request: Request) -> Response:
        return _json(openai_api.models(service.kit.name))

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestError)
        return error_response(exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        status = exc.status_code if exc.status_code in (404, 405) else 400
        what = {404: "no such path", 405: "method not allowed"}.get(status, str(exc.detail))
        return error_response(RequestError(status, what, param="path", code=f"http_{status}"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settle_the_heap()
        sweeper = asyncio.ensure_future(_sweep(service))
        try:
            yield
        finally:
            sweeper.cancel()
            service.close()

    app = Starlette(
        routes=[
            Route("/v1/decide", decide, methods=["POST"]),
            Route("/v1/tickets", ask, methods=["POST"]),
            Route("/v1/tickets/{ticket_id}", cancel, methods=["DELETE"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/schema", schema, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        exception_handlers={RequestError: refused, HTTPException: http_error},
        lifespan=lifespan,
    )
    if cfg.token is not None:
        app.add_middleware(TokenGate, token=cfg.token)
    return app


def settle_the_heap() -> None:
    """Move everything built at start-up (the model, the kit's tables, the server) out of the
    cyclic garbage collector's reach: a full collection then walks only what requests allocated.
    Without it, one in a few thousand requests pays a walk of every start-up object (17 ms for
    the warehouse kit on the reference machine; docs/SERVE.md). The objects stay alive either
    way; nothing built at start-up is ever freed before the process ends."""
    gc.collect()
    gc.freeze()


async def _sweep(service: Service) -> None:
    while True:
        await asyncio.sleep(SWEEP_S)
        try:
            service.expire_tickets()
        except Exception:  # a sweep must never stop sweeping
            log.exception("expiring tickets failed")


class TokenGate:
    """ASGI middleware: 401 for a request without ``Authorization: Bearer <token>`` (constant-time
    comparison), except on :data:`OPEN_PATHS`."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                given = value
                break
        if secrets.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        why = "invalid access token" if given else "missing: send Authorization: Bearer <token>"
        response = error_response(
            RequestError(401, why, param="authorization", code="invalid_token")
        )
        await response(scope, receive, send)
