"""A planner for any OpenAI-compatible chat-completions server: llama.cpp's, vLLM, Ollama, hosted APIs.

Async and streaming (``httpx``): the reply is read as server-sent events and the stop token is
checked on every line, and the runtime cancels the call at its cut-off, which closes that call's
connection. Connections are kept in one pool per planner (per event loop) and reused, so a
decision does not pay a TCP (and TLS) handshake; ``keep_alive=False`` opens one per call instead.

Everything that goes wrong on the way becomes :class:`TransportError`, so the decision records a
``transport`` failure with the detail:

- an HTTP status other than 200 (429, 5xx, ...), with the start of the body. A 429 or 503 that
  carries ``Retry-After`` (seconds or an HTTP date) raises :class:`RetryLater` instead, a
  ``TransportError`` too: the guard does not ask the model again before it expires;
- a connection refused or reset, a read error;
- a stream that ends before it is complete: neither ``data: [DONE]`` nor a choice with a
  ``finish_reason`` (a truncated body). A stream completed by a ``finish_reason`` is accepted
  without ``[DONE]``, which some servers never send;
- a malformed event (not ``data: <json>`` with ``choices[0].delta``; an event with no choices,
  such as a usage report, is skipped);
- a stream that trickles: no first content within ``first_content_s`` of the request (the server
  may queue it, evaluate the prompt, compile a grammar), or no new content for ``stall_s`` after
  that, whatever else arrives.

The API key never leaves the ``Authorization`` header: every error message is scrubbed of it
(an upstream that echoes the request in its error body cannot leak it into decisions or logs).

Note for llama.cpp's Python server: it finishes a generation whose client went away, and later
requests queue behind it; ``first_content_s`` is what bounds that wait.

Servers spell structured output differently (``dialect``): llama.cpp's server takes
``{"type": "json_object", "schema": ...}`` and refuses OpenAI's ``json_schema`` form; OpenAI, vLLM
and Ollama take ``{"type": "json_schema", "json_schema": {...}}``; ``none`` sends no schema.
Base URL, model and key come from arguments or ``PLANSENTRY_BASE_URL``, ``PLANSENTRY_MODEL``,
``PLANSENTRY_API_KEY``.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import os
import ssl
import threading
import time
import weakref
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Final, Generic, TypeVar

import httpx

from plansentry.runtime.planner import PlannerStopped, PromptBuilder, RetryLater, StopToken

CtxT = TypeVar("CtxT")

DIALECTS: Final = ("llama.cpp", "openai", "vllm", "ollama", "none")
#: Statuses whose ``Retry-After`` the planner honours (RFC 9110: 503 and 429 carry it).
RETRY_STATUSES: Final = frozenset({429, 503})


class TransportError(RuntimeError):
    """The call failed on the way: the message says how (status, reset, truncation, stall)."""


class RetryAfter(TransportError, RetryLater):
    """An HTTP 429 or 503 with ``Retry-After``: a transport failure the guard does not re-ask
    before ``retry_after_s`` has passed."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        RetryLater.__init__(self, message, retry_after_s=retry_after_s)


def response_format(dialect: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The ``response_format`` body field for ``dialect``; ``None`` where nothing is sent."""
    if dialect == "llama.cpp":
        return {"type": "json_object", "schema": schema}
    if dialect in ("openai", "vllm", "ollama"):
        return {"type": "json_schema", "json_schema": {"name": "plan", "schema": schema}}
    if dialect == "none":
        return None
    raise ValueError(f"dialect {dialect!r} unknown; use one of {', '.join(DIALECTS)}")


def retry_after_s(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait that a ``Retry-After`` header value asks for (RFC 9110 10.2.3: a number of
    seconds or an HTTP date, read against ``now``, an aware UTC instant); ``None`` if absent or
    unreadable. A date in the past is 0 s."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class OpenAICompatPlanner(Generic[CtxT]):
    """Answers a context with a chat completion streamed from an OpenAI-compatible server.

    ``keep_alive``: reuse connections from a pool of at most ``max_connections`` (one pool per
    event loop the planner is awaited on; :meth:`aclose` or :meth:`close` releases them).
    ``verify``: TLS verification as httpx takes it (``True``, ``False``, an ``ssl.SSLContext``) or
    the path of a CA bundle (a private CA's, a self-signed test certificate's).
    """

    def __init__(
        self,
        prompt: PromptBuilder[CtxT],
        *,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        dialect: str = "llama.cpp",
        constrained: bool = True,
        stall_s: float = 2.0,
        first_content_s: float = 30.0,
        connect_timeout_s: float = 2.0,
        finish_grace_s: float = 0.05,
        max_bytes: int = 64 * 1024 + 1,
        temperature: float = 0.0,
        seed: int = 0,
        keep_alive: bool = True,
        max_connections: int = 64,
        verify: bool | str | ssl.SSLContext = True,
    ) -> None:
        base = base_url or os.environ.get("PLANSENTRY_BASE_URL")
        if not base:
            raise ValueError("no server: give base_url or set PLANSENTRY_BASE_URL")
        response_format(dialect, {})  # validates the dialect now, not at the first call
        if not (stall_s > 0 and first_content_s > 0 and finish_grace_s >= 0):
            raise ValueError(
                f"stall_s and first_content_s must be > 0 and finish_grace_s >= 0, got "
                f"{stall_s}, {first_content_s}, {finish_grace_s}"
            )
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        self.prompt = prompt
        self.url = base.rstrip("/") + "/chat/completions"
        self.model = model or os.environ.get("PLANSENTRY_MODEL", "default")
        key = api_key or os.environ.get("PLANSENTRY_API_KEY")
        self._key = key or ""
        # Events are read as they stream: a compressed stream can hold them in the server's
        # compressor, and which codings httpx offers would depend on the modules installed
        # (zstandard arrives with the ros2 extra's mcap), so ask for none.
        self.headers = {"Accept-Encoding": "identity"}
        if key:
            self.headers["Authorization"] = f"Bearer {key}"
        self.dialect = dialect
        self.constrained = constrained
        self.stall_s = stall_s
        self.first_content_s = first_content_s
        self.finish_grace_s = finish_grace_s
        self.max_bytes = max_bytes
        self.temperature = temperature
        self.seed = seed
        self.keep_alive = keep_alive
        # The TLS context is built once, here: httpx would build one per client (one per event
        # loop), and loading the CA bundle holds the GIL for 30-100 ms, long enough to make a
        # decision waiting on another thread late (measured: the first decision of a node was).
        self.verify: bool | ssl.SSLContext = (
            ssl.create_default_context(cafile=verify)
            if isinstance(verify, str)
            else httpx.create_ssl_context()
            if verify is True
            else verify
        )
        # A read timeout bounds the wait for the response headers, which a busy server sends late.
        self.timeout = httpx.Timeout(
            connect=connect_timeout_s, read=first_content_s, write=5.0, pool=5.0
        )
        self.limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
        )
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._clients = weakref.WeakKeyDictionary()
        self._clients_lock = threading.Lock()

    def __repr__(self) -> str:  # never the key
        return f"OpenAICompatPlanner(url={self.url!r}, model={self.model!r})"

    def body(self, ctx: CtxT) -> dict[str, Any]:
        prompt = self.prompt(ctx)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in prompt.messages],
            "max_tokens": prompt.max_tokens,
            "temperature": self.temperature,
            "seed": self.seed,
            "stream": True,
        }
        if self.constrained and prompt.json_schema is not None:
            fmt = response_format(self.dialect, dict(prompt.json_schema))
            if fmt is not None:
                body["response_format"] = fmt
        return body

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.timeout, limits=self.limits, verify=self.verify)

    def _pooled_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        with self._clients_lock:
            client = self._clients.get(loop)
            if client is None or client.is_closed:
                client = self._clients[loop] = self._new_client()
            return client

    async def __call__(self, ctx: CtxT, stop: StopToken) -> bytes:
        body = self.body(ctx)
        started = time.monotonic()
        try:
            if self.keep_alive:
                return await self._post(self._pooled_client(), body, stop, started)
            async with self._new_client() as client:
                return await self._post(client, body, stop, started)
        except httpx.RemoteProtocolError as exc:
            raise TransportError(self._redact(f"truncated or broken response: {exc}")) from None
        except httpx.HTTPError as exc:
            raise TransportError(self._redact(f"{type(exc).__name__}: {exc}")) from None

    async def _post(
        self, client: httpx.AsyncClient, body: dict[str, Any], stop: StopToken, started: float
    ) -> bytes:
        async with client.stream("POST", self.url, json=body, headers=self.headers) as resp:
            if resp.status_code != 200:
                message = f"HTTP {resp.status_code}: {await self._error_text(resp)}"
                wait_s = None
                if resp.status_code in RETRY_STATUSES:
                    header = resp.headers.get("retry-after")
                    wait_s = retry_after_s(header, now=datetime.now(UTC))
                if wait_s is not None:
                    raise RetryAfter(
                        f"{message} (Retry-After: {header})"[:300], retry_after_s=wait_s
                    )
                raise TransportError(message)
            return await self._read(resp, stop, started)

    async def _drain(self, lines: AsyncIterator[str]) -> None:
        """Read what follows ``[DONE]`` (the chunked body's end), briefly: a response read to its
        end returns its connection to the pool; one closed early closes it."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.finish_grace_s):
                async for _ in lines:
                    pass

    async def _error_text(self, resp: httpx.Response) -> str:
        """The start of an error body, the key scrubbed from it before it is cut (a cut key would
        leave its prefix)."""
        body = b""
        async for chunk in resp.aiter_bytes():
            body += chunk
            if len(body) >= 4096:
                break
        return self._redact(body[:4096].decode("utf-8", "replace"))[:200]

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "[redacted]") if self._key else text

    async def _read(self, resp: httpx.Response, stop: StopToken, started: float) -> bytes:
        parts: list[str] = []
        size = 0
        finished = False  # a choice carried a finish_reason: the content is complete
        lines = resp.aiter_lines()
        last_progress = started  # first content is due first_content_s after the request
        while True:
            if stop.stopped:
                raise PlannerStopped("stopped at the deadline")
            # Finished: wait briefly for [DONE] or the end, so the connection can be reused.
            # Before the first content the server evaluates the prompt (and compiles a grammar).
            allowed = (
                self.finish_grace_s if finished else self.stall_s if parts else self.first_content_s
            )
            left = allowed - (time.monotonic() - last_progress)
            try:
                if left <= 0:
                    raise TimeoutError
                line = await asyncio.wait_for(anext(lines), timeout=left)
            except StopAsyncIteration:
                if finished:
                    return "".join(parts).encode("utf-8", "surrogatepass")
                raise TransportError(
                    "stream ended without [DONE] or a finish_reason: truncated"
                ) from None
            except TimeoutError:
                if finished:
                    return "".join(parts).encode("utf-8", "surrogatepass")
                raise TransportError(f"stream trickles: no content for {allowed:g} s") from None
            if not line or line.startswith(":"):
                continue  # event separator or keep-alive comment: no progress
            if not line.startswith("data:"):
                raise TransportError(f"malformed server-sent event: {line[:80]!r}")
            data = line[5:].strip()
            if data == "[DONE]":
                await self._drain(lines)
                return "".join(parts).encode("utf-8", "surrogatepass")
            delta, finish = _event(data)
            if finish:
                finished = True
                last_progress = time.monotonic()
            if delta:
                parts.append(delta)
                size += len(delta)
                last_progress = time.monotonic()
                if size >= self.max_bytes:  # a flood: keep what the gate needs to say oversize
                    return "".join(parts).encode("utf-8", "surrogatepass")

    async def aclose(self) -> None:
        """Close the pool of the running event loop (other loops' pools are closed with them)."""
        with self._clients_lock:
            client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    def close(self, timeout_s: float = 2.0) -> None:
        """Close every pool from any thread: each on its own loop, if that loop still runs."""
        with self._clients_lock:
            pools = list(self._clients.items())
            self._clients.clear()
        for loop, client in pools:
            if loop.is_closed() or not loop.is_running():
                continue
            fut = asyncio.run_coroutine_threadsafe(client.aclose(), loop)
            with contextlib.suppress(Exception):
                fut.result(timeout_s)


def _event(data: str) -> tuple[str, bool]:
    """One event's content delta and whether its choice finished (``finish_reason`` set)."""
    try:
        event = json.loads(data)
        choices = event["choices"]
        if not choices:  # a usage report or another choice-less event
            return "", False
        choice = choices[0]
        content = choice.get("delta", {}).get("content")
        finish = choice.get("finish_reason")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise TransportError(f"malformed server-sent event: {data[:80]!r}") from None
    if content is not None and not isinstance(content, str):
        raise TransportError(f"malformed server-sent event: content is {type(content).__name__}")
    return content or "", finish is not None
