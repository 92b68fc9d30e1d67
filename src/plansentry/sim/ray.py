"""Replications on a Ray cluster: an existing one by address, or a local instance (docs/RAY.md).

Connecting to a cluster a user runs (``ray start --head``) fails in two ways Ray itself reports
poorly, and both are one-line errors here (:class:`SimConfigError`, exit code 2 on the command line):

- nothing answers at the address: Ray 2.60 retries for many minutes, so the engine first opens a
  TCP connection to it (``connect_timeout_s``) and stops at once if that is refused;
- the cluster asks for a token ("Authentication token is missing or incorrect", after Ray's own
  20 s of retries): Ray turns token authentication on for a head started where a token exists, and
  ``ray.init(address=...)`` never sends one unless the client sets ``RAY_AUTH_MODE=token`` and the
  cluster's token (``RAY_AUTH_TOKEN_PATH`` or ``RAY_AUTH_TOKEN``). The error names that fix.

The cluster's nodes run :func:`~plansentry.sim.engine.run_unit`, so they need
plansentry (and the same Ray and Python versions as the client) installed.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Final, final

from plansentry.sim.config import SimConfigError
from plansentry.sim.engine import Result, Unit, run_unit

#: What Ray's client says when the cluster wants a token it was not given (Ray 2.52 and later).
AUTH_REFUSED: Final = "Authentication token is missing or incorrect"
#: The fix, as the error states it.
AUTH_FIX: Final = (
    "set RAY_AUTH_MODE=token and the cluster's token (RAY_AUTH_TOKEN_PATH=FILE, or "
    "RAY_AUTH_TOKEN) before running plansentry (docs/RAY.md)"
)


@final
class RayEngine:
    """A Ray cluster: ``address`` (``HOST:PORT``) of an existing one, or ``None`` for a local
    instance of ``num_cpus`` CPUs. Raises :class:`SimConfigError` if Ray is missing or the cluster
    cannot be reached or refuses the connection."""

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        *,
        connect_timeout_s: float = 5.0,
    ) -> None:
        if not connect_timeout_s > 0:
            raise SimConfigError(f"connect_timeout_s must be > 0, got {connect_timeout_s!r}")
        try:
            import ray
        except ImportError:
            raise SimConfigError("--engine ray needs Ray: pip install 'plansentry[ray]'") from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            if address:
                _check_reachable(address, connect_timeout_s)
                # Ray 2.52+: the client could not load the token it was told to use.
                token_error = getattr(ray.exceptions, "AuthenticationError", _NeverRaised)
                try:
                    ray.init(address=address, log_to_driver=False)
                except token_error as exc:
                    first = str(exc).strip().split(". ")[0]
                    raise SimConfigError(f"--ray-address {address}: {first}: {AUTH_FIX}") from None
                except (ConnectionError, RuntimeError, ValueError) as exc:
                    raise _connect_error(address, exc) from None
            else:
                ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
            self._started = True
        self._remote = ray.remote(run_unit)

    def map(self, units: Sequence[Unit], on_done: Callable[[int], None]) -> list[Result]:
        ray = self._ray
        refs = [self._remote.remote(u) for u in units]
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            on_done(len(done))
        return list(ray.get(refs))

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


class _NeverRaised(Exception):
    """Stands for ``ray.exceptions.AuthenticationError`` on a Ray that has none."""


def _check_reachable(address: str, timeout_s: float) -> None:
    """Stop at once if nothing accepts a TCP connection at ``HOST:PORT`` (other forms of address
    are left to Ray)."""
    host, sep, port = address.rpartition(":")
    if "://" in address or not sep or not host or not port.isdigit():
        return  # ray://..., auto, ...
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SimConfigError(
            f"--ray-address {address}: no Ray cluster answers there ({reason}): is its head "
            "running (ray start --head), and is the address right?"
        ) from None


def _connect_error(address: str, exc: BaseException) -> SimConfigError:
    """One line for a failed ``ray.init(address=...)``: the token fix if the cluster wants one."""
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    text = " ".join(str(e) for e in chain)
    if AUTH_REFUSED in text:
        return SimConfigError(
            f"--ray-address {address}: the cluster says '{AUTH_REFUSED}': {AUTH_FIX}"
        )
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return SimConfigError(f"--ray-address {address}: cannot connect to Ray ({first})")
