"""The gate: one test per failure mode and step, and the order of the steps (on the toy domain)."""

from __future__ import annotations

import msgspec
import pytest

from plansentry.core.failures import FailureMode
from plansentry.core.gate import Gate, GateConfig, min_keys_counter, schema_depth
from plansentry.testing.toy import REACH, SPEED, ToyPlan

M = FailureMode


def check(domain, ctx, raw: bytes, **cfg: object):
    gate = Gate(domain, GateConfig(**cfg))  # type: ignore[arg-type]
    return gate.check(raw, len(raw), ctx, domain.version(ctx))


def test_valid_plan_passes_with_the_plan(domain, ctx, good_bytes, good_plan) -> None:
    """A valid plan passes and the verdict carries the decoded plan."""
    verdict = check(domain, ctx, good_bytes)
    assert verdict.ok and verdict.plan == good_plan and verdict.extraction == "bare"


def test_size_cap_comes_before_anything_else(domain, ctx) -> None:
    """Output over the byte cap is oversize even if it is garbage."""
    assert check(domain, ctx, b"\xff" * 101, max_bytes=100).mode is M.OVERSIZE


def test_true_size_counts_even_when_text_was_cut(domain, ctx, good_bytes) -> None:
    """A runtime that stopped reading still reports oversize from the true size."""
    gate = Gate(domain, GateConfig(max_bytes=len(good_bytes)))
    verdict = gate.check(good_bytes, len(good_bytes) + 1, ctx, domain.version(ctx))
    assert verdict.mode is M.OVERSIZE


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        (b"", M.EMPTY),
        (b"  \n", M.EMPTY),
        (b"I cannot plan that.", M.MALFORMED),
        (b'{"task_id": "T-1",', M.MALFORMED),
        (b"[" * 40 + b"]" * 40, M.MALFORMED),
        (b'{"speed": NaN}', M.MALFORMED),
        (b"[1, 2, 3]", M.SCHEMA),
        (b'{"task_id": "T-1"}', M.SCHEMA),
        (b"42", M.SCHEMA),
    ],
)
def test_syntax_and_shape_failures(domain, ctx, raw: bytes, mode: FailureMode) -> None:
    """Empty, malformed and schema failures are told apart."""
    assert check(domain, ctx, raw).mode is mode


def test_malformed_tail_is_malformed_even_when_the_head_has_the_wrong_shape(domain, ctx) -> None:
    """Regression: the typed decoder stops at a shape error, the whole syntax still decides."""
    assert check(domain, ctx, b"[1, 2,]").mode is M.MALFORMED


def test_duplicate_key_is_malformed(domain, ctx, good_bytes) -> None:
    """A repeated key is refused even though the typed decoder would keep the last."""
    raw = good_bytes.replace(b'"speed":', b'"speed":9.0,"speed":', 1)
    verdict = check(domain, ctx, raw)
    assert verdict.mode is M.MALFORMED and "duplicate" in verdict.violations[0].detail


def test_duplicate_key_with_escapes_is_found_by_the_slow_path(domain, ctx, good_bytes) -> None:
    """Escapes defeat the fast key count, so the full strict parse runs and finds the repeat."""
    raw = good_bytes.replace(b'"speed":', b'"sp\\u0065ed":9.0,"speed":', 1)
    assert check(domain, ctx, raw).mode is M.MALFORMED


def test_escaped_but_distinct_keys_pass(domain, ctx, good_bytes) -> None:
    """Escapes alone are no reason to refuse: the slow path proves the keys distinct."""
    raw = good_bytes.replace(b'"speed":', b'"sp\\u0065ed":', 1)
    assert check(domain, ctx, raw).ok


class Tagged(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A plan type with an optional field (the toy plan has none)."""

    task_id: str
    tags: tuple[str, ...] = ()


class TaggedDomain:
    """A domain of :class:`Tagged` plans without rules: only the gate's parsing decides."""

    plan_type = Tagged

    def check_fresh(self, plan: Tagged, ctx: object, asked: str) -> tuple[()]:
        return ()

    def check_rules(self, plan: Tagged, ctx: object) -> tuple[()]:
        return ()


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        (b'{"task_id":"T-1","tags":[]}', None),
        (b'{"task_id":"T-1","tags":[],"tags":[]}', M.MALFORMED),
    ],
    ids=["explicit-default", "explicit-default-repeated"],
)
def test_explicit_default_is_not_mistaken_for_a_duplicate(raw: bytes, mode) -> None:
    """An explicit default has a key the re-encoding omits: it passes; repeated, it is refused."""
    verdict = Gate(TaggedDomain()).check(raw, len(raw), None, "")
    assert verdict.mode is mode


class KeepsDefaults(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A plan type with a defaulted field that does not omit defaults (a third party's choice)."""

    task_id: str
    tags: tuple[str, ...] = ()


class KeepsDefaultsDomain(TaggedDomain):
    plan_type = KeepsDefaults  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        (b'{"task_id":"T-9","task_id":"T-1"}', M.MALFORMED),
        (b'{"task_id":"T-1","tags":[]}', None),
        (b'{"task_id":"T-1"}', None),
    ],
    ids=["repeated", "explicit-default", "plain"],
)
def test_repeated_key_refused_when_the_plan_type_keeps_defaults(raw: bytes, mode) -> None:
    """Regression: re-encoding a type without omit_defaults writes the defaulted key, whose colon
    hid a repeated key from the count; the gate now proves distinct keys another way."""
    verdict = Gate(KeepsDefaultsDomain()).check(raw, len(raw), None, "")
    assert verdict.mode is mode


def test_whitespace_and_colons_in_values_do_not_confuse_the_key_count(
    domain, ctx, good_bytes
) -> None:
    """Pretty-printed JSON passes."""
    pretty = msgspec.json.format(good_bytes, indent=2)
    assert check(domain, ctx, pretty).ok


def test_fenced_plan_passes(domain, ctx, good_bytes) -> None:
    """A plan inside a code fence with prose around it is extracted and passes."""
    verdict = check(domain, ctx, b"Here is the plan:\n```json\n" + good_bytes + b"\n```\n")
    assert verdict.ok and verdict.extraction == "fence"


def test_trailing_comma_is_repaired_only_when_enabled(domain, ctx, good_bytes) -> None:
    """With repair on, a trailing comma passes as repaired; off, it is malformed."""
    raw = good_bytes[:-1] + b",}"
    assert check(domain, ctx, raw).mode is M.MALFORMED
    repaired = check(domain, ctx, raw, repair=True)
    assert repaired.ok and repaired.repairs == ("trailing_comma",)


def test_repaired_plan_still_meets_every_rule(domain, ctx, good_bytes) -> None:
    """Repair fixes syntax only: a repaired plan over the speed limit is still unsafe."""
    raw = good_bytes.replace(b'"speed":1.0', b'"speed":5.0')[:-1] + b",}"
    verdict = check(domain, ctx, raw, repair=True)
    assert verdict.mode is M.UNSAFE and verdict.repairs == ("trailing_comma",)


def test_stale_task_id(domain, ctx, good_bytes) -> None:
    """A plan for another task is stale, whatever else is wrong with it."""
    raw = good_bytes.replace(b'"T-1"', b'"T-0"').replace(b'"speed":1.0', b'"speed":5.0')
    assert check(domain, ctx, raw).mode is M.STALE


def test_asked_with_another_version_is_stale(domain, ctx, good_bytes) -> None:
    """An answer to a request made for another version of the context is stale."""
    gate = Gate(domain)
    assert gate.check(good_bytes, len(good_bytes), ctx, "T-0").mode is M.STALE


def test_unsafe_outranks_invalid(domain, ctx, good_bytes) -> None:
    """With both kinds of violation the verdict is unsafe and lists both."""
    raw = good_bytes.replace(b'"speed":1.0', b'"speed":5.0').replace(b"[3,3,1]", b"[3,3,2]")
    verdict = check(domain, ctx, raw)
    assert verdict.mode is M.UNSAFE
    assert {v.rule for v in verdict.violations} == {SPEED, REACH}


def test_schema_depth_of_the_toy_plan_is_two() -> None:
    """Object, steps array: the typed decoder never goes deeper."""
    assert schema_depth(msgspec.json.schema(ToyPlan)) == 2


def test_schema_depth_of_open_or_recursive_schemas_is_unbounded() -> None:
    """Free-form objects and recursive references have no depth bound."""
    assert schema_depth({"type": "object"}) is None
    rec = {"$ref": "#/$defs/T", "$defs": {"T": {"type": "array", "items": {"$ref": "#/$defs/T"}}}}
    assert schema_depth(rec) is None


@pytest.mark.parametrize("field", ["max_bytes", "max_depth"])
@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_gate_config_refuses_bad_limits(field: str, value: object) -> None:
    """Non-positive or non-integer caps fail at construction, naming the field."""
    with pytest.raises(ValueError, match=f"gate.{field}"):
        GateConfig(**{field: value})  # type: ignore[arg-type]


def test_plan_round_trips_through_its_schema(good_bytes, good_plan) -> None:
    """What the gate decodes is what the codec writes."""
    assert msgspec.json.decode(good_bytes, type=ToyPlan) == good_plan


def test_required_key_bound_of_the_toy_plan(good_plan) -> None:
    """Three required top-level keys, whatever the number of steps (they are not objects)."""
    count = min_keys_counter(ToyPlan)
    assert count(good_plan) == 3
    assert count(msgspec.structs.replace(good_plan, steps=(1,) * 7)) == 3


class Inner(msgspec.Struct):
    a: int
    b: int


class Outer(msgspec.Struct):
    x: int
    inner: Inner | None = None
    items: list[Inner] = []


def test_required_key_bound_skips_optional_nested_structs() -> None:
    """A nested struct behind an optional field may be absent, so its keys are not counted."""
    assert min_keys_counter(Outer)(Outer(1, Inner(1, 2), [Inner(1, 2)])) == 1


def test_colons_in_values_fall_back_to_the_encoder_proof(domain, ctx, good_bytes) -> None:
    """A colon inside a string defeats the quick bound; the re-encoding proof still decides."""
    task_colon = good_bytes.replace(b'"T-1"', b'"T:1"')
    assert check(domain, ctx, task_colon).mode is FailureMode.STALE  # task T:1, not a repeat
    dup = task_colon.replace(b'"speed":', b'"speed":9.0,"speed":', 1)
    assert check(domain, ctx, dup).mode is FailureMode.MALFORMED
