"""The prompt for one rware robot's fetch: the floor as rware writes it, the robot, the requests,
the standing shelves, the held cells and the rules stated plainly, and the plan's JSON Schema
narrowed to this context for constrained decoding (the ids fixed, the shelf one of those it may
fetch, every coordinate on the floor). The schema cannot say "one step at a time" or "stay on
highways when loaded": the gate's rules judge those.
"""

from __future__ import annotations

from typing import Any, Final, final

from plansentry.runtime.planner import Prompt
from plansentry_rware.context import NEAR_STEPS, RwareContext
from plansentry_rware.schema import MAX_LEG

SYSTEM: Final = (
    "You plan routes for a warehouse robot on a grid. Reply with one JSON object and nothing else."
)
_SHAPE: Final = (
    'Reply as {"task_id": ..., "robot_id": ..., "shelf": id, "to_shelf": [[x, y], ...], '
    '"to_goal": [[x, y], ...], "back": [[x, y], ...]}.'
)
#: A cell ``[12, 7],`` is about 6 tokens; the ids and keys about 50.
TOKENS_PER_CELL: Final = 7
TOKENS_FIXED: Final = 60


def narrowed_schema(ctx: RwareContext) -> dict[str, Any]:
    """The plan schema narrowed to ``ctx`` (every document it admits, the gate's schema admits)."""
    layout = ctx.layout
    shelves = [ctx.robot.carrying] if ctx.robot.carrying is not None else sorted(ctx.requests)
    cell = {
        "type": "array",
        "prefixItems": [
            {"type": "integer", "minimum": 0, "maximum": layout.width - 1},
            {"type": "integer", "minimum": 0, "maximum": layout.height - 1},
        ],
        "minItems": 2,
        "maxItems": 2,
    }
    leg = {"type": "array", "items": cell, "maxItems": MAX_LEG}
    return {
        "type": "object",
        "properties": {
            "task_id": {"const": ctx.task_id},
            "robot_id": {"const": ctx.robot.robot_id},
            "shelf": {"enum": shelves or [1]},
            "to_shelf": leg,
            "to_goal": leg,
            "back": leg,
        },
        "required": ["task_id", "robot_id", "shelf", "to_shelf", "to_goal", "back"],
        "additionalProperties": False,
    }


@final
class RwarePrompt:
    """A :class:`~plansentry.runtime.planner.PromptBuilder` for rware fetches."""

    def __call__(self, ctx: RwareContext) -> Prompt:
        r, layout = ctx.robot, ctx.layout
        where = ctx.cell_of
        requested = ", ".join(f"{s} at {list(where[s])}" for s in ctx.requests if s in where)
        held = ", ".join(str(list(c)) for c in sorted(ctx.reserved)) or "none"
        claimed = ", ".join(str(list(c)) for c in sorted(ctx.claimed)) or "none"
        load = f"carries shelf {r.carrying}" if r.carrying is not None else "carries nothing"
        task = (
            f"Task {ctx.task_id} for robot {r.robot_id}, at {list(r.position)}; it {load}.\n"
            f"Floor {layout.version}, {layout.width} x {layout.height} cells, [x, y] with x the "
            f"column from the left and y the row from the top (x: shelf home, .: highway, "
            f"g: goal):\n{layout.text()}\n"
            f"Requested shelves you may fetch: {requested or 'none'}.\n"
            f"Other robots stand at {held}: the route's first {NEAR_STEPS} cells may not enter "
            f"them. Shelf homes other robots will put shelves on (not for you): {claimed}.\n"
            "Route in three legs of cells, each cell one step up, down, left or right of the one "
            "before, starting from the robot's cell: to_shelf ends on the shelf's cell; to_goal "
            "ends on a goal; back ends on a shelf home where no shelf stands, where the robot puts "
            "the shelf down. While loaded (to_goal and back) stay on highway cells (. or g) until "
            f"the last cell of back.\n{_SHAPE}"
        )
        cells = min(3 * MAX_LEG, 2 * (layout.width + layout.height) + 8)
        return Prompt(
            messages=({"role": "system", "content": SYSTEM}, {"role": "user", "content": task}),
            max_tokens=TOKENS_FIXED + TOKENS_PER_CELL * cells,
            json_schema=narrowed_schema(ctx),
        )
