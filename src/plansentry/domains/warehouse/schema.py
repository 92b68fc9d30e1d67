"""The plan schema: one typed model, decoded by the gate and sent to the model as JSON Schema.

msgspec was chosen over pydantic by ``bench/gate.py`` (typed decoding of a 20-pick plan runs at about
the speed of a bare ``orjson.loads``; see docs/BENCHMARKS.md). ``omit_defaults`` matters to the gate:
re-encoding a decoded plan yields at most the keys the input had, which is how duplicate keys are
ruled out without a second parse. ``gc=False``: plans and picks hold only strings, numbers and
tuples of them, frozen, so they cannot be part of a reference cycle; the cyclic garbage collector
need not track them (typed decoding of a 20-pick plan takes about 15 % less time, and the
collector runs less often; docs/BENCHMARKS.md, the gate).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec

MAX_PICKS: Final = 200
MAX_VIA: Final = 32

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class Pick(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """Take ``qty`` units of ``sku`` from ``bin``."""

    bin: Name
    sku: Name
    qty: Annotated[int, msgspec.Meta(ge=1, le=10_000)]


class Plan(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """A picking route: start where the robot stands, pass ``via`` cells in order, visit ``picks`` in
    order, end at pack station ``end``; drive at ``speed_mps`` throughout."""

    order_id: Name
    robot_id: Name
    picks: Annotated[tuple[Pick, ...], msgspec.Meta(min_length=1, max_length=MAX_PICKS)]
    speed_mps: Annotated[float, msgspec.Meta(gt=0, le=10)]
    end: Name
    via: Annotated[tuple[tuple[int, int], ...], msgspec.Meta(max_length=MAX_VIA)] = ()


_ENCODER: Final = msgspec.json.Encoder()


def plan_json_schema() -> dict[str, Any]:
    """The JSON Schema a model is asked to follow (the same model the gate decodes with)."""
    return msgspec.json.schema(Plan)


def encode_plan(plan: Plan) -> bytes:
    return _ENCODER.encode(plan)


def plan_to_builtins(plan: Plan) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(plan)
    return out
