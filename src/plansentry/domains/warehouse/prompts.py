"""Prompts for a picking plan: built from the map, the order and the schema, rules stated plainly.

Variants (``docs/MODELS.md`` measures each with the embedded model):

- ``zero_shot``: the task, the order, the rules and the reply's shape;
- ``few_shot``: the same with one worked example (a two-line order and its correct plan).

Each prompt also carries a JSON Schema narrowed to this order, for constrained decoding: the ids are
constants, each pick is one of the order's lines (bin, sku and qty together), there are exactly as
many picks as lines, the end is a pack station and the speed one of a few values. A grammar cannot
say "each line once", so duplicates and omissions remain for the gate to catch, and the speed enum
includes values above some zones' limits, so the gate still judges the route.
"""

from __future__ import annotations

from typing import Any, Final

from plansentry.domains.warehouse.map import Warehouse
from plansentry.domains.warehouse.order import PickContext
from plansentry.runtime.planner import Prompt

VARIANTS: Final = ("zero_shot", "few_shot")
DEFAULT_VARIANT: Final = "few_shot"
SPEEDS_MPS: Final = (0.5, 0.8, 1.0)
# SmolLM2's tokenizer spends about 1.7 characters a token on this JSON: a pick (~52 characters)
# is ~31 tokens, the ids, speed and end ~46. Measured on the demo's outputs; caps leave ~25 % over.
TOKENS_PER_PICK: Final = 40
TOKENS_FIXED: Final = 64

SYSTEM: Final = (
    "You plan routes for a warehouse picking robot. Reply with one JSON object and nothing else."
)

_EXAMPLE_ORDER: Final = (
    "Order O-100 for robot R9, starting at PACK-2.\n"
    "Lines (bin, sku, qty):\n"
    "- D-07-L, SKU-3, 1\n"
    "- B-15-R, SKU-8, 2\n"
)
_EXAMPLE_PLAN: Final = (
    '{"order_id":"O-100","robot_id":"R9","picks":[{"bin":"B-15-R","sku":"SKU-8","qty":2},'
    '{"bin":"D-07-L","sku":"SKU-3","qty":1}],"speed_mps":0.8,"end":"PACK-1"}'
)


def _rules(wh: Warehouse, ctx: PickContext) -> str:
    stations = ", ".join(sorted(wh.pack_stations))
    slow = "; ".join(
        f"{z.name} at most {z.speed_limit_mps:g} m/s"
        for z in wh.zones.values()
        if z.speed_limit_mps is not None
    )
    closed = ", ".join(sorted(ctx.order.closed_zones)) or "none"
    return (
        "Rules: pick every line exactly once, with its bin, sku and qty; no other bins; "
        f"end at a pack station ({stations}); speed_mps at most {wh.max_speed_mps:g}, and "
        f"at most the limit of any zone the route crosses ({slow}); closed zones: {closed}."
    )


def _order_text(ctx: PickContext, wh: Warehouse) -> str:
    start = next((n for n, c in wh.pack_stations.items() if c == ctx.start), None)
    where = start or "[{}, {}]".format(*wh.xy(ctx.start))
    lines = "".join(f"- {x.bin}, {x.sku}, {x.qty}\n" for x in ctx.order.lines)
    notes = f"Customer notes: {ctx.order.notes}\n" if ctx.order.notes else ""
    return (
        f"Order {ctx.order.order_id} for robot {ctx.robot_id}, starting at {where}.\n"
        f"Lines (bin, sku, qty):\n{lines}{notes}"
    )


_SHAPE: Final = (
    'Reply as {"order_id": ..., "robot_id": ..., "picks": [{"bin": ..., "sku": ..., "qty": ...}, ...], '
    '"speed_mps": ..., "end": ...} with the picks in visiting order.'
)


def narrowed_schema(ctx: PickContext, wh: Warehouse) -> dict[str, Any]:
    """The plan schema narrowed to this order (every document it admits, the gate's schema admits)."""
    lines = ctx.order.lines
    pick_options = [
        {
            "type": "object",
            "properties": {
                "bin": {"const": x.bin},
                "sku": {"const": x.sku},
                "qty": {"const": x.qty},
            },
            "required": ["bin", "sku", "qty"],
            "additionalProperties": False,
        }
        for x in lines
    ]
    return {
        "type": "object",
        "properties": {
            "order_id": {"const": ctx.order.order_id},
            "robot_id": {"const": ctx.robot_id},
            "picks": {
                "type": "array",
                "items": {"anyOf": pick_options},
                "minItems": len(lines),
                "maxItems": len(lines),
            },
            "speed_mps": {"enum": [s for s in SPEEDS_MPS if s <= wh.max_speed_mps]},
            "end": {"enum": sorted(wh.pack_stations)},
        },
        "required": ["order_id", "robot_id", "picks", "speed_mps", "end"],
        "additionalProperties": False,
    }


def build_prompt(ctx: PickContext, wh: Warehouse, variant: str = DEFAULT_VARIANT) -> Prompt:
    """The prompt for ``ctx`` in the given variant; unknown variants raise :class:`ValueError`."""
    if variant not in VARIANTS:
        raise ValueError(f"prompt variant {variant!r} unknown; use one of {', '.join(VARIANTS)}")
    task = f"{_order_text(ctx, wh)}{_rules(wh, ctx)}\n{_SHAPE}"
    messages: list[dict[str, str]] = [{"role": "system", "content": SYSTEM}]
    if variant == "few_shot":
        messages += [
            {"role": "user", "content": f"{_EXAMPLE_ORDER}{_rules(wh, ctx)}\n{_SHAPE}"},
            {"role": "assistant", "content": _EXAMPLE_PLAN},
        ]
    messages.append({"role": "user", "content": task})
    return Prompt(
        messages=messages,
        max_tokens=TOKENS_FIXED + TOKENS_PER_PICK * len(ctx.order.lines),
        json_schema=narrowed_schema(ctx, wh),
        variant=variant,
    )


class PromptFor:
    """A :class:`~plansentry.runtime.planner.PromptBuilder` for one map and variant."""

    def __init__(self, wh: Warehouse, variant: str = DEFAULT_VARIANT) -> None:
        if variant not in VARIANTS:
            raise ValueError(
                f"prompt variant {variant!r} unknown; use one of {', '.join(VARIANTS)}"
            )
        self.wh = wh
        self.variant = variant

    def __call__(self, ctx: PickContext) -> Prompt:
        return build_prompt(ctx, self.wh, self.variant)
