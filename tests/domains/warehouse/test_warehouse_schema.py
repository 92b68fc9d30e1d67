"""The warehouse plan schema as the gate sees it: its depth, its required keys, its optional via."""

from __future__ import annotations

import msgspec

from plansentry.core.gate import Gate, min_keys_counter, schema_depth
from plansentry.domains.warehouse.schema import Plan, encode_plan


def test_schema_depth_of_the_plan_is_three() -> None:
    """Object, picks array, pick object: the typed decoder never goes deeper."""
    assert schema_depth(msgspec.json.schema(Plan)) == 3


def test_plan_round_trips_through_its_schema(good_plan) -> None:
    """What the gate decodes is what the encoder writes."""
    assert msgspec.json.decode(encode_plan(good_plan), type=Plan) == good_plan


def test_required_key_bound_of_the_plan(good_plan) -> None:
    """Five required top-level keys and three per pick; the optional via is not counted."""
    count = min_keys_counter(Plan)
    assert count(good_plan) == 5 + 3 * len(good_plan.picks)
    assert count(msgspec.structs.replace(good_plan, via=((1, 1),))) == 5 + 3 * len(good_plan.picks)


def test_explicit_empty_via_is_not_mistaken_for_a_duplicate(domain, ctx, good_bytes) -> None:
    """An explicit "via": [] has a key the re-encoding omits; it must still pass."""
    raw = good_bytes[:-1] + b',"via":[]}'
    assert Gate(domain).check(raw, len(raw), ctx, domain.version(ctx)).ok
