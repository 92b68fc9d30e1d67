"""What the service tests share: the service on 127.0.0.1 in this process (a real uvicorn server on
a free port, in a thread, stopped at the end of the block), the toy domain's context, and planners
that are plain callables (the model is not what these tests check), each counting its calls."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

from plansentry.runtime.planner import StopToken
from plansentry.serve.command import bind
from plansentry.serve.config import ServeConfig
from plansentry.serve.server import DrainingServer
from plansentry.serve.service import Service
from plansentry.testing.toy import ToyContext

CONTEXT = {"task_id": "T-1", "target": 7, "max_step": 3, "blocked": [4]}


class Answer:
    """A synchronous planner that answers ``text`` at once."""

    def __init__(self, text: bytes) -> None:
        self.text = text
        self.calls = 0

    def __call__(self, ctx: ToyContext, stop: StopToken) -> bytes:
        self.calls += 1
        return self.text


class Stall:
    """An async planner that never answers by itself; it records being started and cancelled."""

    def __init__(self) -> None:
        self.calls = 0
        self.started = threading.Event()
        self.cancelled = threading.Event()

    async def __call__(self, ctx: ToyContext, stop: StopToken) -> bytes:
        self.calls += 1
        self.started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return b""


def make_service(tmp_path, kit, planner, **config: Any) -> Service:
    cfg = ServeConfig(kit=kit.name, audit_log=str(tmp_path / "audit.jsonl"), **config)
    return Service(cfg, kit=kit, planner=planner)


@contextlib.contextmanager
def running(service: Service) -> Iterator[str]:
    """Serve ``service`` on 127.0.0.1 (a free port) until the block ends; yields its base URL."""
    sock = bind("127.0.0.1", 0)
    server = DrainingServer(service)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
