"""plansentry-rware: one robot's plan in the public multi-robot warehouse (rware), guarded by
plansentry, executed and judged by rware.

A plan is which requested shelf a robot fetches and its route in cells: to the shelf, to a goal
and back to an empty shelf home. The gate checks it against rules built from rware's own floor
(highways, shelf homes, goals) and the moment (standing shelves, the cells other robots hold).
Behind the model, an A* fetch planner; when it has no plan, the robot stays (rware's NOOP).
:mod:`plansentry_rware.execution` turns decided plans into rware actions, steps rware with several
robots, and reads what happened from rware's state, with a checker that shares no rule with the
kit.

Start with :func:`rware_kit` (``rware_kit().guard()``), or ``plansentry.load_kit("rware")``.
Importing this package is cheap: the names below are imported on first use.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from plansentry_rware.codec import RwareCodec
    from plansentry_rware.context import NEAR_STEPS, Robot, RwareContext
    from plansentry_rware.examples import (
        example_context,
        initial_shelves,
        random_context,
        rware_rows,
        sized_layout,
    )
    from plansentry_rware.fetch_planner import FetchPlanner
    from plansentry_rware.kit import STAY, make_kit, rware_kit
    from plansentry_rware.layout import Layout, layout_from_env, layout_from_rows
    from plansentry_rware.prompt import RwarePrompt
    from plansentry_rware.router import astar
    from plansentry_rware.rules import (
        ASKED_VERSION,
        LEG_END,
        LOADED_OFF_HIGHWAY,
        LOADED_THROUGH_SHELF,
        OFF_GRID,
        RESERVED_CELL,
        ROBOT_ID,
        ROUTE_STEP,
        RULES,
        SHELF_REQUESTED,
        TASK_ID,
        RwareDomain,
    )
    from plansentry_rware.schema import RwarePlan, plan_json_schema

#: Where each public name lives (imported on first use).
_HOMES: _typing.Final = {
    "ASKED_VERSION": "rules",
    "FetchPlanner": "fetch_planner",
    "LEG_END": "rules",
    "LOADED_OFF_HIGHWAY": "rules",
    "LOADED_THROUGH_SHELF": "rules",
    "NEAR_STEPS": "context",
    "Layout": "layout",
    "OFF_GRID": "rules",
    "RESERVED_CELL": "rules",
    "ROBOT_ID": "rules",
    "ROUTE_STEP": "rules",
    "RULES": "rules",
    "Robot": "context",
    "RwareCodec": "codec",
    "RwareContext": "context",
    "RwareDomain": "rules",
    "RwarePlan": "schema",
    "RwarePrompt": "prompt",
    "SHELF_REQUESTED": "rules",
    "STAY": "kit",
    "TASK_ID": "rules",
    "astar": "router",
    "example_context": "examples",
    "initial_shelves": "examples",
    "layout_from_env": "layout",
    "layout_from_rows": "layout",
    "make_kit": "kit",
    "plan_json_schema": "schema",
    "random_context": "examples",
    "rware_kit": "kit",
    "rware_rows": "examples",
    "sized_layout": "examples",
}

__all__ = [
    "ASKED_VERSION",
    "LEG_END",
    "LOADED_OFF_HIGHWAY",
    "LOADED_THROUGH_SHELF",
    "NEAR_STEPS",
    "OFF_GRID",
    "RESERVED_CELL",
    "ROBOT_ID",
    "ROUTE_STEP",
    "RULES",
    "SHELF_REQUESTED",
    "STAY",
    "TASK_ID",
    "FetchPlanner",
    "Layout",
    "Robot",
    "RwareCodec",
    "RwareContext",
    "RwareDomain",
    "RwarePlan",
    "RwarePrompt",
    "astar",
    "example_context",
    "initial_shelves",
    "layout_from_env",
    "layout_from_rows",
    "make_kit",
    "plan_json_schema",
    "random_context",
    "rware_kit",
    "rware_rows",
    "sized_layout",
]


def __getattr__(name: str) -> _typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
