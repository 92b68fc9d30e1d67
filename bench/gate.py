"""The whole gate against the floor and against validate-after-generation, side by side.

For a valid 20-pick plan and for a malformed one (the same plan cut short), each call timed:

- ``gate``: plansentry's whole gate (extraction, strict parse, schema, freshness, every rule of the
  warehouse's newest rules version, the cycle-time rule included), on a context made by the domain
  (``WarehouseDomain.context``, as every caller makes them: its tables are built there, outside the
  timing);
- ``gate_full_rules``: the same gate on the same context without those tables, so every plan is
  judged by the full rules (what the fast path of ``rules.py`` saves);
- ``floor``: a bare ``orjson.loads`` of the same bytes (no schema, no rules);
- ``jsonschema``: ``json.loads`` then ``jsonschema`` validation against the plan's own JSON Schema
  (a pre-built Draft 2020-12 validator), the approach of validate-after-generation libraries; it
  checks the schema only, none of the domain rules;
- ``pydantic`` and ``msgspec``: typed decoding alone with each library (what chose msgspec).

Then the gate's parts on the valid plan, side by side with the floor in a second run (``parts``):
typed decode, the duplicate-key proof, freshness, the rules (fast path; the full rules; the fast
path with the cycle-time rule off, so the difference is that rule's cost), and the passing verdict.

Usage: ``python bench/gate.py [--json] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import dataclasses
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
from plansentry.core.gate import Gate, Verdict
from plansentry.domains.warehouse.kit import default_config, warehouse_kit
from plansentry.domains.warehouse.order import make_order
from plansentry.domains.warehouse.rules import WarehouseDomain
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


def build_case(lines: int, seed: int) -> tuple[Any, Any, bytes, str]:
    """The warehouse guard under its newest rules, a ``lines``-line order's context, the classical
    planner's plan for it as JSON, and the rules version."""
    kit = warehouse_kit()
    domain = kit.domain
    assert isinstance(domain, WarehouseDomain) and domain.cycle_time is not None
    guard = kit.guard(config=default_config())
    wh = domain.wh
    rng = random.Random(seed)
    bins = rng.sample(sorted(wh.bins), lines)
    order = make_order(
        "BENCH-1", [(f"SKU-{i:05d}", b, rng.randint(1, 3)) for i, b in enumerate(bins)], wh
    )
    ctx = domain.context(order, "R1", wh.pack_stations["PACK-1"])
    plan = guard.run_fallbacks(ctx)[0].plan
    assert plan is not None
    return guard, ctx, encode_plan(plan), kit.rules_version


def parts(gate: Any, ctx: Any, raw: bytes, rounds: int) -> dict[str, Any]:
    """The gate's steps on one valid plan, each timed alone, side by side with the floor.

    The steps run on one decoded plan, whose strings have their hashes cached after the first
    call, so the rules' figures are a little lower than inside the gate (which decodes anew).
    """
    domain = gate.domain
    plan = gate._decoder.decode(raw)
    version = ctx.version
    bare = dataclasses.replace(ctx)  # no tables: the full rules
    no_cycle = WarehouseDomain(domain.wh, domain.router, cycle_time=None)
    ctx_no_cycle = no_cycle.context(ctx.order, ctx.robot_id, ctx.start)
    assert not domain.check_rules(plan, ctx) and not domain.check_rules(plan, bare)
    cases = {
        "floor_orjson": lambda: orjson.loads(raw),
        "decode": lambda: gate._decoder.decode(raw),
        "key_proof": lambda: gate._keys_distinct(raw, plan),
        "freshness": lambda: domain.check_fresh(plan, ctx, version),
        "rules": lambda: domain.check_rules(plan, ctx),
        "rules_without_cycle_time": lambda: no_cycle.check_rules(plan, ctx_no_cycle),
        "full_rules": lambda: domain.check_rules(plan, bare),
        "verdict": lambda: Verdict(None, (), plan, (), "bare"),
    }
    samples = side_by_side(cases, rounds)
    stats = {name: summary_us(s) for name, s in samples.items()}
    floor = stats["floor_orjson"]["median_us"]
    return {
        "timings": stats,
        "over_floor": {name: round(t["median_us"] / floor, 3) for name, t in stats.items()},
    }


def run(rounds: int, lines: int, seed: int) -> dict[str, Any]:
    guard, ctx, valid, rules_version = build_case(lines, seed)
    gate = guard.gate
    version = ctx.version
    full = Gate(gate.domain, gate.config)
    bare_ctx = dataclasses.replace(ctx)  # the same context without its tables: the full rules
    assert bare_ctx.tables is None and ctx.tables is not None
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
        assert full.check(raw, len(raw), bare_ctx, version) == verdict
        cases = {
            "gate": swallow(lambda raw=raw: gate.check(raw, len(raw), ctx, version)),
            "gate_full_rules": swallow(
                lambda raw=raw: full.check(raw, len(raw), bare_ctx, version)
            ),
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
                "gate_full_rules_over_floor": round(
                    stats["gate_full_rules"]["median_us"] / stats["floor_orjson"]["median_us"], 2
                ),
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
        "rules_version": rules_version,
        "plan_picks": lines,
        "rounds": rounds,
        "cases": results,
        "parts": parts(gate, ctx, valid, rounds),
        "goals": {
            "gate_median_at_most_3x_floor": valid_r["gate_over_floor"] <= 3.0,
            "gate_at_least_50x_faster_than_jsonschema": valid_r["jsonschema_over_gate"] >= 50.0,
        },
        "library_choice": "msgspec"
        if valid_r["msgspec_over_floor"] < valid_r["pydantic_over_floor"]
        else "pydantic",
    }


def human(doc: dict[str, Any]) -> str:
    out = [
        f"gate bench, {doc['rules_version']}, {doc['plan_picks']}-pick plan, "
        f"{doc['rounds']} rounds each, side by side"
    ]
    for label, case in doc["cases"].items():
        out.append(f"\n{label} ({case['bytes']} bytes)      median us    p99 us")
        for name, t in case["timings"].items():
            out.append(f"  {name:24s} {t['median_us']:10.2f} {t['p99_us']:9.2f}")
        out.append("  ratios: " + ", ".join(f"{k} {v}" for k, v in case["ratios"].items()))
    out.append("\nparts of the gate, valid plan      median us    x floor")
    part = doc["parts"]
    for name, t in part["timings"].items():
        out.append(f"  {name:30s} {t['median_us']:10.2f} {part['over_floor'][name]:9.2f}")
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
