"""A loopback TCP proxy that injects transport faults between a client and an HTTP server.

Listens on 127.0.0.1 only and forwards to an upstream port on 127.0.0.1; set ``mode`` (and
``param``) before each request:

- ``pass``: forward both ways;
- ``delay``: hold the response ``param`` seconds before its first byte;
- ``reset``: forward ``param`` bytes of the response, then reset the connection (RST);
- ``truncate``: forward ``param`` bytes of the response, then close it cleanly (FIN);
- ``trickle``: answer at once with a 200 event stream that sends one byte every ``param`` seconds;
- ``status``: answer at once with HTTP ``int(param)`` (429, 503, ...) without asking upstream;
- ``garbage``: answer at once with a 200 event stream whose event is not JSON;
- ``half_open``: read the request and never answer, never close.

Every connection it holds is closed by :meth:`FaultProxy.stop`; its loop runs in a daemon thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading


class FaultProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.param = 0.0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)

    def start(self) -> FaultProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        async def shutdown() -> None:
            for w in list(self._writers):
                w.close()
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return head + (await reader.readexactly(length) if length else b"")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        mode, param = self.mode, self.param
        try:
            request = await self._read_request(reader)
            if mode == "status":
                body = b'{"error": "injected by the fault proxy"}'
                writer.write(
                    b"HTTP/1.1 %d Injected\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                    % (int(param), len(body), body)
                )
                await writer.drain()
                return
            if mode == "garbage":
                event = b"data: this is not json\n\n"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(event), event)
                )
                await writer.drain()
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
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            self._writers.add(up_writer)
            up_writer.write(request)
            await up_writer.drain()
            await self._respond(up_reader, writer, mode, param)
            up_writer.close()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            self._writers.discard(writer)

    async def _respond(
        self, up: asyncio.StreamReader, writer: asyncio.StreamWriter, mode: str, param: float
    ) -> None:
        if mode == "delay":
            await asyncio.sleep(param)
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
