"""The warehouse as a domain kit: its rules, classical fallback, safe action, codec and prompts.

``warehouse_kit()`` builds the kit for a map; the ``warehouse`` entry point (:mod:`.plugin`) builds it
from an audit log's header (``params``: the map's path, ``None`` for the embedded default, and the
map version the log was written on, which must match).

Rules versions (the identity in every audit log's header):

- ``warehouse-rules/2``: version 1 and the cycle-time rule (``slow``: a plan estimated to take more
  than 3 x the order's lower estimate; :mod:`.cycle`);
- ``warehouse-rules/1``: freshness, validity (robot, bins, coverage, end station) and safety (closed
  and staff-only zones, via-points on floor cells, routes that exist, speed limits). A log written
  under it replays under it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from plansentry.core.errors import ConfigError, InputError
from plansentry.core.failures import FailureMode
from plansentry.domains.warehouse.classical import DECLARED_WCET_MS, ClassicalPlanner
from plansentry.domains.warehouse.classical import NAME as CLASSICAL
from plansentry.domains.warehouse.cycle import DEFAULT_CYCLE_TIME
from plansentry.domains.warehouse.examples import (
    DEFAULT_ROBOT,
    DEFAULT_START_STATION,
    default_order,
)
from plansentry.domains.warehouse.identity import NAME, RULES_VERSIONS
from plansentry.domains.warehouse.map import Warehouse, default_map, load_map
from plansentry.domains.warehouse.order import OrderError, PickContext, order_from_json
from plansentry.domains.warehouse.prompts import PromptFor
from plansentry.domains.warehouse.rules import RULES, WarehouseDomain
from plansentry.domains.warehouse.schema import Plan, plan_to_builtins
from plansentry.runtime.config import GuardConfig
from plansentry.runtime.guard import DecisionHook, Guard
from plansentry.runtime.kit import HOLD, Counterfactual, DomainKit
from plansentry.runtime.world import World, WorldSettings


class WarehouseCodec:
    """Picking contexts and plans as JSON.

    A context is ``{"order": {...}, "robot_id": "R1", "start": [x, y]}``; ``start`` may also name a
    pack station (``"PACK-1"``). A plan is the schema's JSON (:class:`~.schema.Plan`).
    """

    def __init__(self, domain: WarehouseDomain) -> None:
        self.domain = domain
        self.wh = domain.wh

    def context_to_json(self, ctx: PickContext) -> dict[str, Any]:
        x, y = self.wh.xy(ctx.start)
        return {"order": ctx.order.to_json(), "robot_id": ctx.robot_id, "start": [x, y]}

    def context_from_json(self, data: Mapping[str, Any]) -> PickContext:
        if not isinstance(data, Mapping):
            raise InputError(f"context: expected an object, got {type(data).__name__}")
        for key in ("order", "robot_id", "start"):
            if key not in data:
                raise InputError(f"context.{key}: missing")
        robot = data["robot_id"]
        if not isinstance(robot, str) or not robot:
            raise InputError(f"context.robot_id: expected a non-empty string, got {robot!r}")
        return self.domain.context(
            order_from_json(data["order"], self.wh), robot, self._start(data["start"])
        )

    def _start(self, value: Any) -> int:
        wh = self.wh
        if isinstance(value, str):
            if value not in wh.pack_stations:
                raise InputError(f"context.start: no pack station {value!r} on map {wh.name}")
            return wh.pack_stations[value]
        if (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            x, y = value
            if not wh.in_bounds(x, y) or wh.cell(x, y) not in wh.free:
                raise InputError(f"context.start: [{x}, {y}] is not a floor cell of map {wh.name}")
            return wh.cell(x, y)
        raise InputError(f"context.start: expected [x, y] or a pack station, got {value!r}")

    def plan_to_json(self, plan: Plan) -> dict[str, Any]:
        return plan_to_builtins(plan)

    def plan_from_json(self, data: Mapping[str, Any]) -> Plan:
        try:
            return msgspec.convert(data, Plan)
        except msgspec.ValidationError as exc:
            raise InputError(f"plan: {exc}") from None


class PilotController:
    """The kit's counterfactual: the pilot's unguarded controller, the simulator's own model
    (:mod:`.world.unguarded`, imported when first called)."""

    summary = (
        "the pilot's controller without the guard (the simulator's model, world/unguarded.py): it "
        "waits for the model however long it takes, and no answer 30 s after asking is a client "
        "timeout and a 12 s restart; text json.loads refuses (truncated, in prose or a fence, "
        "empty), a missing field or a wrong type, or a failed call halts the robot for a 12 s "
        "restart; a pick from a bin the map lacks halts it at the bin (a restart); any other plan "
        "it can read is executed, unsafe or not, and the items it leaves out are lost"
    )

    def __init__(self, bins: Mapping[str, Any]) -> None:
        self.bins = bins  # the map's bins: a pick from any other halts the robot at the bin

    def __call__(
        self,
        ctx: PickContext,
        *,
        text: bytes | None,
        mode: FailureMode | None,
        rules: frozenset[str],
        repaired: bool,
        latency_s: float | None,
        ahead_s: float,
    ) -> Counterfactual:
        from plansentry.domains.warehouse.world import unguarded as pilot

        if latency_s is None or latency_s >= pilot.CLIENT_TIMEOUT_S:
            wait = max(0.0, pilot.CLIENT_TIMEOUT_S - ahead_s)
            return Counterfactual(
                True, wait + pilot.RESTART_S, False, 0, "client timeout", wait, gave_up=True
            )
        wait = max(0.0, latency_s - ahead_s)  # the robot stands at its decision point meanwhile
        if text is None:
            o = pilot.unguarded_outcome(FailureMode.TRANSPORT, rules)
        else:
            o = pilot.react(mode, rules, text, ctx.order, repaired=repaired, bins=self.bins)
        return Counterfactual(
            o.halted, wait + o.downtime_s, o.unsafe_executed, o.items_lost, o.reason, wait
        )


class WarehouseWorlds:
    """The kit's world factory (``DomainKit.world``): the simulator's world on the kit's own
    domain (:class:`~.world.world.WarehouseWorld`, imported when first built)."""

    def __init__(self, domain: WarehouseDomain, map_path: str | None) -> None:
        self.domain = domain
        self.map_path = map_path

    @property
    def profiles(self) -> Mapping[str, Mapping[str, Any]]:
        from plansentry.domains.warehouse.world.profiles import PROFILES

        return PROFILES

    def __call__(self, settings: WorldSettings) -> World[Any, Any, Any, Any]:
        from plansentry.domains.warehouse.world.world import WarehouseWorld

        return WarehouseWorld(self.domain, settings, map_path=self.map_path)


def warehouse_kit(
    wh: Warehouse | None = None,
    *,
    map_path: str | None = None,
    rules_version: str | None = None,
    domain: WarehouseDomain | None = None,
) -> DomainKit[Plan, PickContext]:
    """The kit for ``wh`` (or ``domain``'s map, the map at ``map_path``, the embedded default).

    ``map_path`` is what the audit log records, so that replay loads the same map; a kit built from
    a :class:`Warehouse` object without its path replays against the embedded default map.
    """
    version = rules_version or RULES_VERSIONS[0]
    if version not in RULES_VERSIONS:
        raise ConfigError(
            f"warehouse rules {version!r} unknown; this version has {', '.join(RULES_VERSIONS)}"
        )
    cycle_time = None if version == "warehouse-rules/1" else DEFAULT_CYCLE_TIME
    if domain is None:
        if wh is None:
            wh = load_map(map_path) if map_path is not None else default_map()
        domain = WarehouseDomain(wh, cycle_time=cycle_time)
    elif domain.cycle_time != cycle_time:
        raise ConfigError(
            f"the domain's cycle-time rule ({domain.cycle_time}) is not {version}'s ({cycle_time})"
        )
    wh = domain.wh
    example: dict[str, Any] = {}
    if DEFAULT_START_STATION in wh.pack_stations:
        try:
            order = default_order(wh)
        except OrderError:
            pass  # a map without the example's bins: check then needs each record's own context
        else:
            example = {
                "order": order.to_json(),
                "robot_id": DEFAULT_ROBOT,
                "start": DEFAULT_START_STATION,
            }
    return DomainKit(
        name=NAME,
        rules_version=version,
        domain=domain,
        codec=WarehouseCodec(domain),
        fallbacks=(ClassicalPlanner(domain.router),),
        safe_action=HOLD,
        prompt=PromptFor(wh),
        rules=RULES,
        example_context=example,
        params={"map": map_path, "map_version": wh.version},
        counterfactual=PilotController(wh.bins),
        world=WarehouseWorlds(domain, map_path),
    )


def make_kit(
    *, rules_version: str | None = None, map: str | None = None, map_version: str | None = None
) -> DomainKit[Plan, PickContext]:
    """The plugin's factory: the kit for the map at ``map`` (``None``: the embedded default),
    which must be at ``map_version`` when one is given (a log's header gives it)."""
    kit = warehouse_kit(map_path=map, rules_version=rules_version)
    have = kit.params["map_version"]
    if map_version is not None and have != map_version:
        raise ConfigError(
            f"map {map or 'default'} is version {have!r}, the log was written on {map_version!r}"
        )
    return kit


def default_config(**overrides: Any) -> GuardConfig:
    """The guard configuration for the warehouse: defaults plus the classical planner's WCET."""
    kw: dict[str, Any] = {"fallback_wcet_ms": {CLASSICAL: DECLARED_WCET_MS}}
    kw.update(overrides)
    return GuardConfig(**kw)


def make_guard(
    wh: Warehouse | None = None,
    *,
    config: GuardConfig | None = None,
    hooks: Sequence[DecisionHook] = (),
    domain: WarehouseDomain | None = None,
) -> Guard[Plan, PickContext]:
    """A guard with the warehouse rules and the classical planner as its one fallback."""
    kit = warehouse_kit(wh, domain=domain)
    return kit.guard(config=config if config is not None else default_config(), hooks=hooks)
