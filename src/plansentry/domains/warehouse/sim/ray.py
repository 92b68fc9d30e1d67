"""Replications on a Ray cluster: an existing one by address, or a local instance."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, final

from plansentry.domains.warehouse.sim.config import SimConfigError
from plansentry.domains.warehouse.sim.engine import Result, Unit, run_unit


@final
class RayEngine:
    """A Ray cluster: ``address`` of an existing one, or ``None`` for a local instance."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise SimConfigError("--engine ray needs Ray: pip install 'plansentry[ray]'") from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address:
                kw["address"] = address
            else:
                kw["num_cpus"] = num_cpus
            ray.init(**kw)
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
