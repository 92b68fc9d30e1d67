"""Prompts: built from map, order and schema; the narrowed schema admits only plans of this order."""

from __future__ import annotations

import jsonschema
import msgspec
import pytest

from plansentry.domains.warehouse.order import make_order
from plansentry.domains.warehouse.prompts import VARIANTS, build_prompt, narrowed_schema
from plansentry.domains.warehouse.schema import plan_json_schema, plan_to_builtins


def test_classical_plan_fits_the_narrowed_schema_and_the_gate_schema(ctx, wh, good_plan) -> None:
    """A correct plan for the order is admitted by both schemas."""
    doc = msgspec.json.decode(msgspec.json.encode(plan_to_builtins(good_plan)))
    jsonschema.validate(doc, narrowed_schema(ctx, wh))
    jsonschema.validate(doc, plan_json_schema())


@pytest.mark.parametrize(
    ("field", "value"),
    [("order_id", "EX-2"), ("robot_id", "R2"), ("end", "DOCK"), ("speed_mps", 1.5)],
)
def test_narrowed_schema_pins_ids_stations_and_speeds(ctx, wh, good_plan, field, value) -> None:
    """Ids are constants, the end a pack station, the speed one of a few values."""
    doc = plan_to_builtins(good_plan) | {field: value}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(msgspec.json.decode(msgspec.json.encode(doc)), narrowed_schema(ctx, wh))


def test_narrowed_schema_admits_only_the_orders_lines(ctx, wh, good_plan) -> None:
    """A pick that is not a line of the order (other qty) is refused by the grammar's schema."""
    doc = msgspec.json.decode(msgspec.json.encode(plan_to_builtins(good_plan)))
    doc["picks"][0]["qty"] += 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, narrowed_schema(ctx, wh))


@pytest.mark.parametrize("variant", VARIANTS)
def test_prompt_states_the_rules_and_the_order(domain, wh, variant) -> None:
    """Lines, closed zones, speed limits and pack stations are in the text the model reads."""
    order = make_order("O-5", [("SKU-1", "A-05-L", 2)], wh, closed_zones=["aisle-D"])
    prompt = build_prompt(domain.context(order, "R3", wh.pack_stations["PACK-2"]), wh, variant)
    text = prompt.messages[-1]["content"]
    for needle in (
        "O-5",
        "R3",
        "PACK-2",
        "A-05-L, SKU-1, 2",
        "aisle-D",
        "crossing at most 0.8 m/s",
    ):
        assert needle in text


def test_token_cap_grows_with_the_order(domain, wh) -> None:
    """More lines, more tokens allowed."""
    small = make_order("O-1", [("S", "A-05-L", 1)], wh)
    large = make_order("O-2", [(f"S{i}", b, 1) for i, b in enumerate(sorted(wh.bins)[:8])], wh)
    caps = [
        build_prompt(domain.context(o, "R1", wh.pack_stations["PACK-1"]), wh).max_tokens
        for o in (small, large)
    ]
    assert caps[1] > caps[0]


def test_unknown_variant_is_refused(ctx, wh) -> None:
    """A typo in the variant fails loudly."""
    with pytest.raises(ValueError, match="few_shots"):
        build_prompt(ctx, wh, "few_shots")
