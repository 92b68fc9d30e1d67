"""A domain's world: what the fleet simulator needs of a kit to run it in virtual time.

The guard needs a kit's rules, fallbacks and codec; the simulator (:mod:`plansentry.sim`) needs,
beside them, the robot's world, one optional part of the kit (``DomainKit.world``, a factory
taking :class:`WorldSettings`). Everything it asks is in :class:`World`, grouped by who asks:

- the work: :meth:`World.tasks` (an endless seeded stream of :class:`Task`, each saying whether
  any plan can serve it), :meth:`World.start`, :meth:`World.context`;
- the oracle and the model: :meth:`World.best` (the best plan, or ``None``),
  :meth:`World.best_unaware` (what a model that does not see why a task is blocked writes),
  :meth:`World.encode` (a plan's text) and :meth:`World.answer` (the text of each fault kind of
  :attr:`World.faults`, written from a good plan). The simulator draws which fault, the latency,
  malformed text, stalls and failed calls itself (:data:`GENERIC_FAULTS`);
- execution: :meth:`World.execute_s`, :meth:`World.after`, :meth:`World.served` (units of work a
  plan serves), :meth:`World.unsafe` (the world's independent checker, sharing no rule code with
  the gate);
- the unguarded controller: :meth:`World.read`, how the pilot's controller reads an answer
  (crash, halt on the way, or execute what it read: :class:`Read`);
- time: :attr:`World.fallback_time`, the fallback chain's measured compute time;
- documents and fits: :attr:`World.profiles` (built-in fault profiles, as data),
  :attr:`World.fault_rules` (which rule a verdict names shows which fault, for ``plansentry
  fit``), :meth:`World.describe` (the document's ``config``, with its calibration) and
  :meth:`World.notes` (why a residual cause cannot occur here).

:class:`BaseWorld` gives the optional parts their defaults; ``plansentry.testing.toy`` has a
world of a few dozen lines, and ``check_domain(kit, world=...)`` checks one.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Generic, Protocol, TypeVar, final

from plansentry.core.errors import ConfigError
from plansentry.core.failures import FailureMode

PlanT = TypeVar("PlanT")
CtxT = TypeVar("CtxT")
SpecT = TypeVar("SpecT")
AtT = TypeVar("AtT")

#: Faults the simulator writes itself, whatever the world: text a JSON parser refuses, no answer
#: in time, a failed call. A world's :attr:`World.faults` lists them too, where it draws them.
GENERIC_FAULTS: Final = ("malformed", "stall", "transport")


@final
class Reaction(enum.Enum):
    """What the pilot's unguarded controller does with an answer it read."""

    CRASH = "crash"  # it raises: the robot halts for a restart
    HALT = (
        "halt"  # it drives what it read and stops on the way (a bin that is not there): a restart
    )
    EXECUTE = "execute"  # it drives what it read


@final
@dataclass(frozen=True, slots=True)
class Read(Generic[PlanT]):
    """How the unguarded controller read an answer: its kind (the world's own name, for people),
    the reaction, and the plan it drives (``None`` when it crashed first)."""

    kind: str
    reaction: Reaction
    plan: PlanT | None


@final
@dataclass(frozen=True, slots=True)
class Task(Generic[SpecT]):
    """One unit of work the fleet is given (an order, a mission, a request).

    ``id`` names it in request ids; ``items``: the units of work it asks for (what throughput
    counts); ``blocked``: no plan can serve it (the world's ground truth, never shown to the
    guard); ``spec``: the domain's own description of it.
    """

    id: str
    items: int
    blocked: bool
    spec: SpecT


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class FallbackTime:
    """The fallback chain's compute time, as measured (``bench/`` of the kit writes it).

    ``wcet_ms``: the declared worst case, what the guard reserves; ``quantiles_ms``: the measured
    quantiles 0, 1/n, ..., (n-1)/n; ``tail_ms``: the slowest 1/n of the runs as measured;
    ``samples``: runs measured; ``over_wcet_p_high``: the upper end of the 95 % interval of the
    share of runs past ``wcet_ms`` (the simulator's default overrun share).
    """

    wcet_ms: float
    quantiles_ms: tuple[float, ...]
    tail_ms: tuple[float, ...]
    samples: int
    over_wcet_p_high: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.wcet_ms) or self.wcet_ms <= 0:
            raise ValueError(f"wcet_ms must be a finite number > 0, got {self.wcet_ms!r}")
        if len(self.quantiles_ms) < 2 or not self.tail_ms:
            raise ValueError("quantiles_ms needs at least two quantiles and tail_ms one run")
        values = (*self.quantiles_ms, *self.tail_ms)
        if any(not math.isfinite(v) or v < 0 for v in values):
            raise ValueError("measured times must be finite and >= 0")
        if list(self.quantiles_ms) != sorted(self.quantiles_ms) or list(self.tail_ms) != sorted(
            self.tail_ms
        ):
            raise ValueError("quantiles_ms and tail_ms must be in increasing order")
        if not 0 <= self.over_wcet_p_high <= 1:
            raise ValueError(f"over_wcet_p_high must be in [0, 1], got {self.over_wcet_p_high!r}")

    def measured_ms(self, u: float) -> float:
        """The measured time at uniform ``u`` in [0, 1): between two quantiles, or, in the
        slowest share, one of the measured tail's runs as it was."""
        q, tail = self.quantiles_ms, self.tail_ms
        x = u * len(q)
        i = math.floor(x)
        if i >= len(q) - 1:
            k = min(len(tail) - 1, int((u - (len(q) - 1) / len(q)) * len(q) * len(tail)))
            return tail[k]
        return q[i] + (q[i + 1] - q[i]) * (x - i)

    def draw_ms(self, rng: random.Random, *, overrun_p: float, overrun_mean_ms: float) -> float:
        """One decision's fallback time (ms). With ``overrun_p`` an overrun: the declared worst
        case plus an exponential of mean ``overrun_mean_ms``. Otherwise a run within the worst
        case from the measured distribution (a measured run past it is drawn again, since
        ``overrun_p`` alone says how often that happens)."""
        if rng.random() < overrun_p:
            return self.wcet_ms + rng.expovariate(1.0) * overrun_mean_ms
        while True:
            ms = self.measured_ms(rng.random())
            if ms <= self.wcet_ms:
                return ms


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class WorldSettings:
    """What a world is built from: the run's ``seed`` (a world may draw a pool of tasks from it),
    the fleet's size (``robots``), ``order_pool`` (0: every task drawn afresh; N: tasks drawn
    from a pool of N per kind, if the world has pools), ``blocked_p`` (the share of tasks no plan
    can serve) and the world's own ``params`` (its documented settings; a world refuses an
    unknown one with a :class:`~plansentry.core.errors.ConfigError` naming it)."""

    seed: int = 0
    robots: int = 1
    order_pool: int = 0
    blocked_p: float = 0.0
    params: Mapping[str, Any] = field(default_factory=dict)


def number_params(
    params: Mapping[str, Any], defaults: Mapping[str, float], *, world: str
) -> dict[str, float]:
    """A world's numeric parameters (``WorldSettings.params``, strings from the command line
    included), each finite, ``defaults`` filled in; a
    :class:`~plansentry.core.errors.ConfigError` naming an unknown or bad one. Range checks are
    the world's own."""
    unknown = sorted(set(params) - set(defaults), key=str)
    if unknown:
        raise ConfigError(
            f"{world} world: unknown parameter {unknown[0]!r}; known: {', '.join(defaults)}"
        )
    out: dict[str, float] = {}
    for name, default in defaults.items():
        value = params.get(name, default)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a number, got {value!r}") from None
        if isinstance(value, bool) or not math.isfinite(number):
            raise ConfigError(f"{name} must be a finite number, got {value!r}")
        out[name] = number
    return out


class World(Protocol[PlanT, CtxT, SpecT, AtT]):
    """A domain's world for the simulator (see the module docstring). Built once per process and
    shared by every replication; each method is called with the replication's own ``rng`` where it
    draws, so runs are reproducible from their seed."""

    @property
    def faults(self) -> tuple[str, ...]:
        """Every fault kind a profile may name here, in the order the synthetic model draws them
        (adding a kind at the end leaves the draws of the others unchanged)."""
        ...

    @property
    def profiles(self) -> Mapping[str, Mapping[str, Any]]:
        """Built-in fault profiles, as data (``plansentry.sim.parse_profile`` reads each)."""
        ...

    @property
    def fallback_time(self) -> FallbackTime:
        """The fallback chain's measured compute time."""
        ...

    @property
    def fault_rules(self) -> tuple[tuple[str, str], ...]:
        """For ``plansentry fit``: an ``invalid`` verdict naming ``rule`` shows fault ``kind``,
        in this order of precedence: ``((rule, kind), ...)``."""
        ...

    def tasks(self, rng: random.Random, prefix: str) -> Iterator[Task[SpecT]]:
        """An endless stream of tasks drawn from ``rng``, their ids starting with ``prefix``."""
        ...

    def start(self, robot: int) -> AtT:
        """Where robot number ``robot`` (from 0) stands at the first decision point."""
        ...

    def context(self, task: Task[SpecT], robot_id: str, at: AtT) -> CtxT:
        """The decision context for ``task``, robot ``robot_id`` standing at ``at``."""
        ...

    def best(self, ctx: CtxT) -> PlanT | None:
        """The oracle's plan for ``ctx``; ``None`` when no plan can serve it."""
        ...

    def best_unaware(self, ctx: CtxT) -> PlanT:
        """What a good model writes for a blocked task: the best plan as if whatever blocks it
        were not there (the guard must refuse it)."""
        ...

    def encode(self, plan: PlanT) -> bytes:
        """A plan's text, as a model writes it (JSON the gate decodes)."""
        ...

    def answer(
        self,
        fault: str,
        ctx: CtxT,
        best: PlanT,
        other: PlanT | None,
        rng: random.Random,
        *,
        noise: float,
    ) -> tuple[str, bytes]:
        """The model's text for ``fault`` (``""``: a good answer, a little worse than ``best``
        with probability ``noise``; any other kind of :attr:`faults` but the generic ones),
        written from ``best``; ``other`` is a plan for a different task (a stale answer repeats
        it). Returns ``(kind, text)``, ``kind`` naming how it was written."""
        ...

    def execute_s(self, plan: PlanT, ctx: CtxT) -> float:
        """Seconds the robot takes to execute ``plan`` (finite, > 0)."""
        ...

    def after(self, plan: PlanT, ctx: CtxT) -> AtT:
        """Where the robot stands once ``plan`` is executed (its next decision point's ``at``)."""
        ...

    def served(self, plan: PlanT, task: Task[SpecT], mode: FailureMode | None) -> int:
        """Units of ``task`` that executing ``plan`` serves (the rest is lost); ``mode`` is how
        the gate judges the plan (``stale``: it serves none of this task)."""
        ...

    def unsafe(self, plan: PlanT, ctx: CtxT) -> bool:
        """Whether executing ``plan`` is unsafe, judged by the world's own checker."""
        ...

    def read(self, text: bytes, ctx: CtxT) -> Read[PlanT]:
        """How the pilot's unguarded controller reads ``text`` (it executes what it can read)."""
        ...

    def describe(self, config: dict[str, Any]) -> dict[str, Any]:
        """The document's ``config``: ``config`` (the scenario as JSON) as this world lays it out,
        with its calibration (:class:`BaseWorld`: as it is)."""
        ...

    def notes(self, faults: Mapping[str, float]) -> Mapping[str, str]:
        """Residual causes that cannot occur in this world under a profile with ``faults``, with
        why (the document prints the reason): keyed by the cause (``"restart"``), or by
        ``"controller:cause"`` for one controller's (``"pilot_guard:blocked_order"``); a note
        here wins over what the simulator would say of the run's settings."""
        ...


class BaseWorld(Generic[PlanT, CtxT, SpecT, AtT]):
    """Defaults for a world's optional parts: no fault rules, no calibration, no notes, built-in
    profiles from :data:`GENERIC_FAULTS` only (``clean`` and ``outage`` come with the simulator)."""

    profiles: Mapping[str, Mapping[str, Any]] = {}
    fault_rules: tuple[tuple[str, str], ...] = ()

    def describe(self, config: dict[str, Any]) -> dict[str, Any]:
        return config

    def notes(self, faults: Mapping[str, float]) -> Mapping[str, str]:
        return {}


#: What ``DomainKit.world`` holds: a factory of the kit's world (the world's class, or a callable
#: that binds the kit's own objects). A factory with a ``profiles`` attribute (a class has it) lets
#: a command list the built-in profiles without building a world.
WorldFactory = Callable[[WorldSettings], World[Any, Any, Any, Any]]
