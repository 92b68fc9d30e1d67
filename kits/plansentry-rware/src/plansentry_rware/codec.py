"""rware contexts and plans as JSON: the audit log's, ``plansentry check``'s and replay's form.

A context is::

    {"task_id": "R1-3",
     "robot": {"robot_id": "R1", "position": [x, y], "carrying": null or a shelf id},
     "requests": [3, 17], "shelves": [[id, x, y], ...], "reserved": [[x, y], ...],
     "claimed": [[x, y], ...], "layout": {"version": "...", "rows": ["x..x", ...]}}

A plan is the schema's JSON (:class:`~plansentry_rware.schema.RwarePlan`). Decoding raises
:class:`~plansentry.core.errors.InputError` naming the bad field. The codec keeps the last
:data:`LAYOUT_CACHE` layouts it built, by their rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Annotated, Any, Final, final

import msgspec

from plansentry.core.errors import InputError
from plansentry_rware.context import Robot, RwareContext
from plansentry_rware.layout import MAX_SIDE, Layout, layout_from_rows
from plansentry_rware.schema import MAX_SHELF_ID, CellIn, Name, RwarePlan, plan_to_builtins

LAYOUT_CACHE: Final = 8
_MAX_ITEMS: Final = MAX_SIDE * MAX_SIDE

ShelfId = Annotated[int, msgspec.Meta(ge=1, le=MAX_SHELF_ID)]


class _RobotIn(msgspec.Struct, forbid_unknown_fields=True):
    robot_id: Name
    position: CellIn
    carrying: ShelfId | None = None


class _LayoutIn(msgspec.Struct, forbid_unknown_fields=True):
    rows: Annotated[list[str], msgspec.Meta(min_length=1, max_length=MAX_SIDE)]
    version: Name | None = None


class _ContextIn(msgspec.Struct, forbid_unknown_fields=True):
    task_id: Name
    robot: _RobotIn
    requests: Annotated[list[ShelfId], msgspec.Meta(max_length=_MAX_ITEMS)]
    shelves: Annotated[list[tuple[ShelfId, int, int]], msgspec.Meta(max_length=_MAX_ITEMS)]
    reserved: Annotated[list[CellIn], msgspec.Meta(max_length=_MAX_ITEMS)]
    layout: _LayoutIn
    claimed: Annotated[list[CellIn], msgspec.Meta(max_length=_MAX_ITEMS)] = []


@final
class RwareCodec:
    """The :class:`~plansentry.runtime.kit.Codec` of the rware kit. Thread-safe."""

    def __init__(self) -> None:
        self._layouts: OrderedDict[tuple[tuple[str, ...], str | None], Layout] = OrderedDict()
        self._lock = threading.Lock()

    def context_to_json(self, ctx: RwareContext) -> dict[str, Any]:
        r = ctx.robot
        return {
            "task_id": ctx.task_id,
            "robot": {"robot_id": r.robot_id, "position": list(r.position), "carrying": r.carrying},
            "requests": list(ctx.requests),
            "shelves": [[sid, x, y] for sid, (x, y) in ctx.shelves],
            "reserved": [list(c) for c in sorted(ctx.reserved)],
            "claimed": [list(c) for c in sorted(ctx.claimed)],
            "layout": {"version": ctx.layout.version, "rows": list(ctx.layout.rows)},
        }

    def context_from_json(self, data: Mapping[str, Any]) -> RwareContext:
        try:
            raw = msgspec.convert(data, _ContextIn)
        except msgspec.ValidationError as exc:
            raise InputError(f"context: {exc}") from None
        layout = self.layout(raw.layout.rows, raw.layout.version)
        ids = [s[0] for s in raw.shelves]
        if len(set(ids)) != len(ids):
            raise InputError("context: a shelf id repeats - at `$.shelves`")
        for where, (x, y) in [("robot.position", raw.robot.position)] + [
            (f"shelves[{i}]", (s[1], s[2])) for i, s in enumerate(raw.shelves)
        ]:
            if not layout.inside((x, y)):
                raise InputError(f"context: [{x}, {y}] is off the floor - at `$.{where}`")
        robot = Robot(raw.robot.robot_id, raw.robot.position, raw.robot.carrying)
        return RwareContext(
            task_id=raw.task_id,
            robot=robot,
            requests=tuple(raw.requests),
            shelves=tuple((sid, (x, y)) for sid, x, y in raw.shelves),
            reserved=frozenset(raw.reserved),
            layout=layout,
            claimed=frozenset(raw.claimed),
        )

    def layout(self, rows: list[str], version: str | None = None) -> Layout:
        """The layout of ``rows``: built once, then taken from the cache."""
        key = (tuple(rows), version)
        with self._lock:
            found = self._layouts.get(key)
            if found is not None:
                self._layouts.move_to_end(key)
                return found
        try:
            built = layout_from_rows(rows, version)
        except InputError as exc:
            raise InputError(f"context.{exc}") from None
        with self._lock:
            self._layouts[key] = built
            while len(self._layouts) > LAYOUT_CACHE:
                self._layouts.popitem(last=False)
        return built

    def plan_to_json(self, plan: RwarePlan) -> dict[str, Any]:
        return plan_to_builtins(plan)

    def plan_from_json(self, data: Mapping[str, Any]) -> RwarePlan:
        try:
            return msgspec.convert(data, RwarePlan)
        except msgspec.ValidationError as exc:
            raise InputError(f"plan: {exc}") from None
