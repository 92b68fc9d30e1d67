"""The ASGI server: uvicorn (chosen by ``bench/serve.py --servers``; docs/SERVE.md says why),
whose SIGTERM drain marks the service not ready and ends the process with exit 0.

uvicorn's own drain on SIGTERM or SIGINT stops accepting connections, closes idle keep-alive ones,
waits for responses in flight (each decision is bounded by its deadline, at most
``max_budget_ms``), then runs the application's shutdown (the service stops outstanding tickets'
model calls and closes the audit log). uvicorn then re-raises the signal, which would kill the
process; this server does not, so a drained service exits 0.
"""

from __future__ import annotations

import contextlib
import math
import signal
import socket
import threading
from collections.abc import Iterator
from types import FrameType

import uvicorn

from plansentry.serve.app import build_app
from plansentry.serve.service import Service


class DrainingServer(uvicorn.Server):
    """uvicorn's server for one :class:`Service` (see the module docstring)."""

    def __init__(self, service: Service, *, access_log: bool = False) -> None:
        self.service = service
        super().__init__(
            uvicorn.Config(
                build_app(service),
                lifespan="on",
                log_level="warning",
                access_log=access_log,
                timeout_graceful_shutdown=math.ceil(service.config.max_budget_ms / 1000) + 1,
                timeout_keep_alive=30,
                server_header=False,
                date_header=False,
            )
        )

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach the main thread only (a server run in a test's thread)
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        before = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.service.draining = True
        super().handle_exit(sig, frame)


def serve(service: Service, sock: socket.socket, *, access_log: bool = False) -> None:
    """Serve ``service`` on the listening ``sock`` until SIGTERM or SIGINT has drained it."""
    DrainingServer(service, access_log=access_log).run(sockets=[sock])
