"""The whole gate against the floor and against validate-after-generation, side by side.

For a valid 20-pick plan and for a malformed one (the same plan cut short), each call timed:

- ``gate``: plansentry's whole gate (extraction, strict parse, schema, freshness, every rule);
- ``floor``: a bare ``orjson.loads`` of the same bytes (no schema, no rules);
- ``jsonschema``: ``json.loads`` then ``jsonschema`` validation against the plan's own JSON Schema
  (a pre-built Draft 2020-12 validator), the approach of validate-after-generation libraries; it
  checks the schema only, none of the domain rules;
- ``pydantic`` and ``msgspec``: typed decoding alone with each library (what chose msgspec).

Usage: ``python bench/gate.py [--json] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Annotated, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import jsonschema
import msgspec
import orjson
import pydantic

from _common import emit, machine, side_by_side, summary_us
from plansentry.domains.warehouse.kit import make_guard
from plansentry.domains.warehouse.order import make_order
from plansentry.domains.warehouse.schema import Plan, encode_plan, plan_json_schema


class PickModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
    bin: Annotated[str, pydantic.Field(min_length=1, max_length=64)]
    sku: Annotated[str, pydantic.Field(min_length=1, max_length=64)]
    qty: Annotated[int, pydantic.Field(ge=1, le=10_000)]


class PlanModel(pydantic.BaseModel):
    """The same schema as :class:`plansentry.domains.warehouse.schema.Plan`, in pydantic."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
    order_id: Annotated[str, pydantic.Field(min_length=1, max_length=64)]
    robot_id: Annotated[str, pydantic.Field(min_length=1, max_length=64)]
    picks: Annotated[tuple[PickModel, ...], pydantic.Field(min_length=1, max_length=200)]
    speed_mps: Annotated[float, pydantic.Field(gt=0, le=10)]
    end: Annotated[str, pydantic.Field(min_length=1, max_length=64)]
    via: Annotated[tuple[tuple[int, int], ...], pydantic.Field(max_length=32)] = ()


def build_case(lines: int, seed: int) -> tuple[Any, Any, bytes]:
    guard = make_guard()
    domain = guard.domain
    wh = domain.wh  # type: ignore[attr-defined]
    rng = random.Random(seed)
    bins = rng.sample(sorted(wh.bins), lines)
    order = make_order(
        "BENCH-1", [(f"SKU-{i:05d}", b, rng.randint(1, 3)) for i, b in enumerate(bins)], wh
    )
    ctx = domain.context(order, "R1", wh.pack_stations["PACK-1"])  # type: ignore[attr-defined]
    plan = guard.run_fallbacks(ctx)[0].plan
    assert plan is not None
    return guard, ctx, encode_plan(plan)


def run(rounds: int, lines: int, seed: int) -> dict[str, Any]:
    guard, ctx, valid = build_case(lines, seed)
    gate = guard.gate
    version = ctx.version
    validator = jsonschema.Draft202012Validator(plan_json_schema())
    typed = msgspec.json.Decoder(Plan)
    malformed = valid[:-1]  # a reply cut short: the last brace is missing

    def swallow(fn):
        """Every candidate gets the same wrapper, so none pays an extra call the others do not."""

        def call() -> None:
            try:  # noqa: SIM105 - contextlib.suppress costs more per call than the floor itself
                fn()
            except Exception:
                pass

        return call

    results: dict[str, Any] = {}
    for label, raw in (("valid", valid), ("malformed", malformed)):
        verdict = gate.check(raw, len(raw), ctx, version)
        expect_ok = label == "valid"
        assert verdict.ok is expect_ok, verdict
        cases = {
            "gate": swallow(lambda raw=raw: gate.check(raw, len(raw), ctx, version)),
            "floor_orjson": swallow(lambda raw=raw: orjson.loads(raw)),
            "json_jsonschema": swallow(lambda raw=raw: validator.validate(json.loads(raw))),
            "pydantic_schema_only": swallow(lambda raw=raw: PlanModel.model_validate_json(raw)),
            "msgspec_schema_only": swallow(lambda raw=raw: typed.decode(raw)),
        }
        samples = side_by_side(cases, rounds)
        stats = {name: summary_us(s) for name, s in samples.items()}
        gate_med = stats["gate"]["median_us"]
        results[label] = {
            "bytes": len(raw),
            "timings": stats,
            "ratios": {
                "gate_over_floor": round(gate_med / stats["floor_orjson"]["median_us"], 2),
                "jsonschema_over_gate": round(stats["json_jsonschema"]["median_us"] / gate_med, 1),
                "pydantic_over_floor": round(
                    stats["pydantic_schema_only"]["median_us"] / stats["floor_orjson"]["median_us"],
                    2,
                ),
                "msgspec_over_floor": round(
                    stats["msgspec_schema_only"]["median_us"] / stats["floor_orjson"]["median_us"],
                    2,
                ),
            },
        }
    valid_r = results["valid"]["ratios"]
    return {
        "bench": "gate",
        "machine": machine(),
        "plan_picks": lines,
        "rounds": rounds,
        "cases": results,
        "goals": {
            "gate_median_at_most_3x_floor": valid_r["gate_over_floor"] <= 3.0,
            "gate_at_least_50x_faster_than_jsonschema": valid_r["jsonschema_over_gate"] >= 50.0,
        },
        "library_choice": "msgspec"
        if valid_r["msgspec_over_floor"] < valid_r["pydantic_over_floor"]
        else "pydantic",
    }


def human(doc: dict[str, Any]) -> str:
    out = [f"gate bench, {doc['plan_picks']}-pick plan, {doc['rounds']} rounds each, side by side"]
    for label, case in doc["cases"].items():
        out.append(f"\n{label} ({case['bytes']} bytes)      median us    p99 us")
        for name, t in case["timings"].items():
            out.append(f"  {name:24s} {t['median_us']:10.2f} {t['p99_us']:9.2f}")
        out.append("  ratios: " + ", ".join(f"{k} {v}" for k, v in case["ratios"].items()))
    out.append(f"\ngoals: {doc['goals']}; library chosen by this run: {doc['library_choice']}")
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--rounds", type=int, default=20_000)
    p.add_argument("--picks", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    emit(run(args.rounds, args.picks, args.seed), args.json, human)


if __name__ == "__main__":
    main()
