"""Domain kits: everything a domain hands the guard, as one object, and how installed kits are found.

The guard knows no domain. A *kit* makes it guard one kind of plan:

- ``domain``: the gate's rules (freshness, validity, safety) and the plan type;
- ``fallbacks``: deterministic planners behind the model, in chain order, each declaring its
  worst-case time (``Fallback.wcet_ms``), which the guard reserves from every budget;
- ``safe_action``: the terminal move that needs no plan. A picker stops and holds; a drone must not
  hover until its battery is gone, so its safe action is to land where it is;
- ``codec``: the context and the plan to and from JSON, for the audit log, replay, ``check`` and
  the service;
- ``prompt``: what a model planner sends for a context;
- ``rules``: every rule name the domain can report, as constants it exports (never parsed from a
  message);
- ``name``, ``rules_version`` and ``params``: the identity written in the audit log's header. From
  it :func:`load_kit` rebuilds the same kit under the same rules, or says why it cannot;
- ``counterfactual`` (optional): the domain's model of an unguarded controller, which says what it
  would have done with one decision's model output (:class:`CounterfactualModel`). ``plansentry
  fmli`` and the demo cost the unguarded side with it; a kit without one gets the matrix without
  the unguarded columns;
- ``world`` (optional): the robot's world for the fleet simulator (a factory of a
  :class:`~plansentry.runtime.world.World`): ``plansentry simulate``, ``sweep`` and ``fit`` need
  it; a kit without one says so in one line.

Kits are found by name through the ``plansentry.domains`` entry-point group. An entry point names a
:class:`DomainPlugin`, which is cheap to import: it builds the kit on demand and may add the domain's
own commands to ``plansentry``. A domain in its own distribution declares, in its pyproject::

    [project.entry-points."plansentry.domains"]
    drone = "plansentry_drone.plugin:PLUGIN"

:func:`register_kit` adds a plugin in-process (tests, notebooks) without installing anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Final, Generic, Protocol, TypeVar, final

from plansentry.core.decision import SafeMove
from plansentry.core.errors import KitError, PlansentryError
from plansentry.core.failures import FailureMode
from plansentry.runtime.config import GuardConfig
from plansentry.runtime.guard import DecisionHook, Fallback, Guard, VersionedDomain
from plansentry.runtime.planner import PromptBuilder
from plansentry.runtime.world import WorldFactory

PlanT = TypeVar("PlanT")
CtxT = TypeVar("CtxT")
_CtxContra = TypeVar("_CtxContra", contravariant=True)

#: The entry-point group kits are registered under.
ENTRY_POINT_GROUP: Final = "plansentry.domains"


class Codec(Protocol[PlanT, CtxT]):
    """A domain's context and plan as JSON (the audit log's port: telemetry never sees the types).

    ``*_from_json`` raise :class:`~plansentry.core.errors.InputError` naming the bad field, and
    must round-trip: ``context_from_json(context_to_json(ctx))`` judges every plan as ``ctx`` does.
    """

    def context_to_json(self, ctx: CtxT) -> dict[str, Any]: ...

    def context_from_json(self, data: Mapping[str, Any]) -> CtxT: ...

    def plan_to_json(self, plan: PlanT) -> dict[str, Any]: ...

    def plan_from_json(self, data: Mapping[str, Any]) -> PlanT: ...


@final
@dataclass(frozen=True, slots=True)
class SafeAction:
    """The domain's terminal safe action: its name (in every :class:`SafeMove` and the audit log)
    and, for people, what the robot does."""

    name: str
    description: str


#: Stop where you stand and hold: the default, right for ground robots that may simply stop.
HOLD: Final = SafeAction("hold", "stop where you stand and hold")


@final
@dataclass(frozen=True, slots=True)
class Counterfactual:
    """What an unguarded controller would have done with one decision's model output.

    ``downtime_s``: robot-seconds standing still, ``wait_s`` (waiting for the model past the
    decision point) included; ``unsafe``: it executed an unsafe plan; ``items_lost``: units of work
    a plan it executed leaves undone; ``reason``: its rule that applied, in words; ``gave_up``: it
    stopped waiting for the answer (its own client timeout), so the answer's text played no part.
    """

    halted: bool
    downtime_s: float
    unsafe: bool
    items_lost: int
    reason: str
    wait_s: float = 0.0
    gave_up: bool = False


class CounterfactualModel(Protocol[_CtxContra]):
    """A domain's unguarded controller: what it does with an output, without the guard.

    ``summary`` states its rules in a few sentences (every matrix that uses it prints them).
    Called with the decision's context, the model's raw ``text`` (``None``: no output, the call
    failed), how the gate judged that text as if it had come in time (``mode``, never ``timeout``,
    the ``rules`` broken, ``repaired``), ``latency_s``, from asking to the answer (``None``: it
    never came), and ``ahead_s``, how long before the decision point the model was asked. A caller
    that does not know when the answer came (nobody measured it) does not call it.
    """

    @property
    def summary(self) -> str: ...

    def __call__(
        self,
        ctx: _CtxContra,
        *,
        text: bytes | None,
        mode: FailureMode | None,
        rules: frozenset[str],
        repaired: bool,
        latency_s: float | None,
        ahead_s: float,
    ) -> Counterfactual: ...


@final
@dataclass(frozen=True, kw_only=True)
class DomainKit(Generic[PlanT, CtxT]):
    """Everything the guard needs from one domain; see the module docstring for each part.

    ``example_context`` is a context as JSON that ``plansentry check`` judges outputs against when
    a record brings none (a record's own context keys override it). ``params`` is what the kit's
    :class:`DomainPlugin` needs to build this kit again (a map path, say); it must be JSON.
    """

    name: str
    rules_version: str
    domain: VersionedDomain[PlanT, CtxT]
    codec: Codec[PlanT, CtxT]
    fallbacks: tuple[Fallback[PlanT, CtxT], ...] = ()
    safe_action: SafeAction = HOLD
    prompt: PromptBuilder[CtxT] | None = None
    rules: frozenset[str] = frozenset()
    example_context: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    counterfactual: CounterfactualModel[CtxT] | None = None
    world: WorldFactory | None = None

    def config(self, **overrides: Any) -> GuardConfig:
        """A guard configuration with this kit's fallbacks' declared worst-case times reserved."""
        kw: dict[str, Any] = {"fallback_wcet_ms": {fb.name: fb.wcet_ms for fb in self.fallbacks}}
        kw.update(overrides)
        return GuardConfig(**kw)

    def guard(
        self, *, config: GuardConfig | None = None, hooks: Sequence[DecisionHook] = ()
    ) -> Guard[PlanT, CtxT]:
        """A guard over this kit's rules, fallbacks and safe action."""
        return Guard(
            self.domain,
            self.fallbacks,
            config=config if config is not None else self.config(),
            hooks=hooks,
            safe_action=self.safe_action.name,
        )

    def identity(self) -> dict[str, Any]:
        """What the audit log's header records, and :func:`load_kit` reads back."""
        return {"name": self.name, "rules_version": self.rules_version, "params": dict(self.params)}

    def plan_json(self, plan: PlanT | SafeMove) -> dict[str, Any]:
        """A decided plan as JSON: the codec's, or ``{"safe_move": {"action", "reason"}}``."""
        if isinstance(plan, SafeMove):
            return {"safe_move": {"action": plan.action, "reason": plan.reason}}
        return self.codec.plan_to_json(plan)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class DomainPlugin:
    """What an entry point of the ``plansentry.domains`` group names.

    ``make_kit(*, rules_version=None, **params)`` builds the kit; ``rules_version`` (one of
    ``rules_versions``, newest first; ``None``: the newest) asks for the rules a log was written
    under. ``params`` come from an audit log's header (JSON values, as the kit wrote them) or from
    ``plansentry check --param KEY=VALUE`` (strings): ``make_kit`` converts them and refuses an
    unknown or bad one with a :class:`~plansentry.core.errors.ConfigError` naming it.
    ``add_commands(subparsers)``, if given, adds the domain's own ``plansentry`` commands.
    """

    name: str
    summary: str
    make_kit: Callable[..., DomainKit[Any, Any]]
    rules_versions: tuple[str, ...]
    add_commands: Callable[[Any], None] | None = None


_registered: dict[str, DomainPlugin] = {}
_lock = threading.Lock()


def register_kit(plugin: DomainPlugin) -> None:
    """Make ``plugin`` findable by name in this process (it wins over an entry point's)."""
    with _lock:
        _registered[plugin.name] = plugin


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def installed_kits() -> list[str]:
    """Names of every kit this process can load, sorted."""
    return sorted(set(_entry_points()) | set(_registered))


def plugin(name: str) -> DomainPlugin:
    """The plugin registered as ``name``; :class:`KitError` if there is none or it is broken."""
    with _lock:
        found = _registered.get(name)
    if found is not None:
        return found
    ep = _entry_points().get(name)
    if ep is None:
        known = ", ".join(installed_kits()) or "none"
        raise KitError(f"no domain kit {name!r} is installed (installed: {known})")
    try:
        loaded = ep.load()
    except Exception as exc:
        raise KitError(f"domain kit {name!r} ({ep.value}) failed to load: {exc}") from exc
    if not isinstance(loaded, DomainPlugin):
        raise KitError(f"entry point {name!r} ({ep.value}) is not a DomainPlugin")
    return loaded


def load_kit(
    name: str, *, rules_version: str | None = None, params: Mapping[str, Any] | None = None
) -> DomainKit[Any, Any]:
    """Build the installed kit ``name`` with ``params``, under ``rules_version`` if given.

    Raises :class:`KitError` when no such kit is installed or it cannot apply those rules (the
    message names the versions it has) or its code fails on ``params`` (a ``TypeError`` for an
    unknown one, say), and whatever :class:`PlansentryError` the kit raises for bad ``params``
    (a :class:`~plansentry.core.errors.ConfigError` naming the parameter).
    """
    found = plugin(name)
    if rules_version is not None and rules_version not in found.rules_versions:
        raise KitError(
            f"domain kit {name!r} cannot apply rules {rules_version!r}: this installation has "
            f"{', '.join(found.rules_versions)}; install the version of the kit that wrote them"
        )
    if params is not None and not isinstance(params, Mapping):
        raise KitError(f"domain kit {name!r}: its params must be an object, got {params!r}")
    try:
        kit = found.make_kit(rules_version=rules_version, **dict(params or {}))
    except (TypeError, ValueError, AttributeError, OSError) as exc:
        # params come from users (--param, a log's header): what a kit's own code raises for a
        # value it cannot take is that kit's refusal of them, in one line
        if isinstance(exc, PlansentryError):
            raise
        raise KitError(
            f"domain kit {name!r} cannot be built with params {dict(params or {})!r}: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    want = rules_version or found.rules_versions[0]
    if kit.name != name or kit.rules_version != want:
        raise KitError(
            f"domain kit {name!r} built {kit.name!r} under rules {kit.rules_version!r}, "
            f"not {want!r}"
        )
    return kit
