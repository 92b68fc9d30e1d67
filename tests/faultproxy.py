"""A loopback TCP proxy that injects transport faults between a client and an HTTP server, and a
loopback OpenAI-compatible upstream that streams a given answer (for tests and benches).

:class:`FaultProxy` listens on 127.0.0.1 only and forwards to an upstream port on 127.0.0.1; set
``mode`` (and ``param``) before each request, or a per-request ``mix``:

- ``pass``: forward both ways;
- ``delay``: hold the response ``param`` seconds before its first byte;
- ``reset``: forward ``param`` bytes of the response, then reset the connection (RST);
- ``truncate``: forward ``param`` bytes of the response, then close it cleanly (FIN);
- ``strip_done``: forward the response without its ``data: [DONE]`` event, its body de-chunked
  and ended by closing the connection (servers answer chunked even to HTTP/1.0 requests:
  uvicorn with httptools does): a stream completed by its ``finish_reason`` alone;
- ``trickle``: answer at once with a 200 event stream that sends one byte every ``param`` seconds;
- ``status``: answer at once with HTTP ``int(param)`` (429, 503, ...) without asking upstream;
- ``retry_after``: answer at once with HTTP 429 and ``Retry-After: int(param)``;
- ``garbage``: answer at once with a 200 event stream whose event is not JSON;
- ``finish_no_done``: answer at once with a complete 200 event stream of ``content`` (the
  attribute) whose last chunk carries ``finish_reason: "stop"``, and no ``data: [DONE]``;
- ``echo``: answer at once with HTTP 401 whose body echoes the request's head (headers
  included), as a careless server's error page might;
- ``half_open``: read the request and never answer, never close.

``mix``, if set, is a list of ``(weight, mode, param)``: each request draws its fault from it with
``rng`` (a seeded :class:`random.Random`), and ``drawn`` counts the draws. ``requests`` counts
requests read. Every connection it holds is closed by :meth:`FaultProxy.stop`; its loop runs in a
daemon thread.

:class:`StreamingUpstream` answers every ``POST .../chat/completions`` with ``content`` as a
chunked event stream (after ``think_s``), keeps connections alive, counts ``connections`` and
``requests``, and serves TLS when given an ``ssl.SSLContext``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import random
import socket
import ssl
import struct
import threading


class _LoopThread:
    """An asyncio server on 127.0.0.1 in a daemon thread."""

    def __init__(self, name: str, ssl_context: ssl.SSLContext | None = None) -> None:
        self.port = 0
        self._ssl = ssl_context
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self):
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("server did not start")
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._ssl)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            await self._handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except ssl.SSLError:
            pass
        except asyncio.CancelledError:
            pass  # stopped: end quietly (a cancelled connection task is logged by asyncio)
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            self._writers.discard(writer)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        async def shutdown() -> None:
            for w in list(self._writers):
                w.close()
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One HTTP/1.1 request with a Content-Length body (what httpx sends), head and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + (await reader.readexactly(length) if length else b"")


def _connection_close(request: bytes) -> bytes:
    """``request`` with ``Connection: close`` instead of any Connection header: the proxy serves
    one request per connection, so a client must not send a second one on it."""
    head, _, body = request.partition(b"\r\n\r\n")
    lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


async def _read_response(up: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """An HTTP/1.1 response read to its end: its head, without ``Transfer-Encoding`` or
    ``Content-Length`` (the body it heads ends with the connection), and its body de-chunked."""
    head = await up.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    chunked = any(
        ln.lower().startswith(b"transfer-encoding:") and b"chunked" in ln.lower() for ln in lines
    )
    if not chunked:
        body = await up.read()
    else:
        parts = []
        while size := int((await up.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await up.readexactly(size))
            await up.readexactly(2)  # the CRLF after each chunk
        body = b"".join(parts)
    dropped = (b"transfer-encoding:", b"content-length:")
    kept = [ln for ln in lines if not ln.lower().startswith(dropped)]
    return b"\r\n".join(kept) + b"\r\n\r\n", body


def sse_events(content: str, *, done: bool, chunk_chars: int = 16) -> bytes:
    """``content`` as chat.completion.chunk events: a role chunk, content chunks, a chunk with
    ``finish_reason: "stop"``, then ``data: [DONE]`` if ``done``."""

    def event(delta: dict, finish: str | None) -> bytes:
        body = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}
        body["choices"][0]["finish_reason"] = finish
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    parts = [event({"role": "assistant", "content": ""}, None)]
    for i in range(0, len(content), chunk_chars):
        parts.append(event({"content": content[i : i + chunk_chars]}, None))
    parts.append(event({}, "stop"))
    if done:
        parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


class FaultProxy(_LoopThread):
    def __init__(self, upstream_port: int, *, seed: int = 0) -> None:
        super().__init__("fault-proxy")
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.param: float = 0.0
        self.content = ""
        self.mix: list[tuple[float, str, float]] | None = None
        self.rng = random.Random(seed)
        self.drawn: collections.Counter[str] = collections.Counter()
        self.requests = 0

    def _draw(self) -> tuple[str, float]:
        if not self.mix:
            return self.mode, self.param
        weights = [w for w, _, _ in self.mix]
        _, mode, param = self.rng.choices(self.mix, weights=weights)[0]
        self.drawn[mode] += 1
        return mode, param

    async def _answer(
        self,
        writer: asyncio.StreamWriter,
        status: bytes,
        kind: bytes,
        body: bytes,
        extra: bytes = b"",
    ) -> None:
        writer.write(
            b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n"
            % (status, kind, len(body), extra)
            + body
        )
        await writer.drain()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        self.requests += 1
        mode, param = self._draw()
        if mode == "status":
            body = b'{"error": "injected by the fault proxy"}'
            await self._answer(writer, b"%d Injected" % int(param), b"application/json", body)
            return
        if mode == "retry_after":
            body = b'{"error": "rate limited by the fault proxy"}'
            extra = b"Retry-After: %d\r\n" % int(param)
            await self._answer(writer, b"429 Too Many Requests", b"application/json", body, extra)
            return
        if mode == "echo":
            head = request.split(b"\r\n\r\n", 1)[0]
            await self._answer(writer, b"401 Unauthorized", b"text/plain", b"you sent:\n" + head)
            return
        if mode == "garbage":
            await self._answer(
                writer, b"200 OK", b"text/event-stream", b"data: this is not json\n\n"
            )
            return
        if mode == "finish_no_done":
            await self._answer(
                writer, b"200 OK", b"text/event-stream", sse_events(self.content, done=False)
            )
            return
        if mode == "trickle":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
            await writer.drain()
            for byte in b'data: {"choices": [{"delta": {"content": "{"}}]}\n\n' * 100:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(param)
            return
        if mode == "half_open":
            await asyncio.sleep(3600)
            return
        # one request per connection: the upstream closes, and says so to the client
        request = _connection_close(request)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers.add(up_writer)
        try:
            up_writer.write(request)
            await up_writer.drain()
            await self._respond(up_reader, writer, mode, param)
        finally:
            up_writer.close()
            self._writers.discard(up_writer)

    async def _respond(
        self, up: asyncio.StreamReader, writer: asyncio.StreamWriter, mode: str, param: float
    ) -> None:
        if mode == "delay":
            await asyncio.sleep(param)
        if mode == "strip_done":
            head, body = await _read_response(up)
            kept = b"".join(
                line for line in body.splitlines(keepends=True) if line.strip() != b"data: [DONE]"
            )
            writer.write(head + kept)
            await writer.drain()
            return
        sent = 0
        while chunk := await up.read(4096):
            if mode in ("reset", "truncate") and sent + len(chunk) >= param:
                writer.write(chunk[: max(0, int(param) - sent)])
                await writer.drain()
                if mode == "reset":
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
                return
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)


class StreamingUpstream(_LoopThread):
    """An OpenAI-compatible upstream on 127.0.0.1 that streams ``content`` (see the module doc)."""

    def __init__(
        self, content: str, *, think_s: float = 0.0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        super().__init__("streaming-upstream", ssl_context)
        self.content = content
        self.think_s = think_s
        self.connections = 0
        self.requests = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        while True:  # keep-alive: one request after another on this connection
            try:
                request = await read_request(reader)
            except asyncio.IncompleteReadError:
                return  # the client closed the connection
            self.requests += 1
            close = b"\r\nconnection: close" in request.split(b"\r\n\r\n")[0].lower()
            if self.think_s:
                await asyncio.sleep(self.think_s)
            body = sse_events(self.content, done=True)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Transfer-Encoding: chunked\r\n%s\r\n"
                b"%x\r\n%s\r\n0\r\n\r\n"
                % (b"Connection: close\r\n" if close else b"", len(body), body)
            )
            await writer.drain()
            if close:
                return
