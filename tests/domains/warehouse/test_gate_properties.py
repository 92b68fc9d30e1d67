"""Properties of the whole guard (virtual time): it never raises, never executes an unsafe plan,
and always decides on time, for arbitrary bytes, arbitrary JSON and mutated valid plans."""

from __future__ import annotations

import json

import msgspec
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from plansentry.core.decision import SafeMove
from plansentry.domains.warehouse.safety import unsafe_reasons
from plansentry.domains.warehouse.schema import Plan, plan_to_builtins

SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


def decide_and_check(runtime, ctx, domain, wh, raw: bytes, latency_ms: float) -> None:
    runtime.guard.reset("each example starts trusted, so the model's output is always judged")
    decision = runtime.decide(ctx, now_ns=10**12, output=raw, latency_ms=latency_ms)
    assert decision.on_time
    assert not unsafe_reasons(decision.plan, ctx, wh, domain.router), decision
    if decision.accepted:
        assert isinstance(decision.plan, Plan)
        assert not domain.check_rules(decision.plan, ctx)


@SETTINGS
@given(raw=st.binary(max_size=2000), latency_ms=st.floats(0, 400))
def test_arbitrary_bytes(runtime, ctx, domain, wh, raw: bytes, latency_ms: float) -> None:
    """No byte string makes the guard raise, run late or execute an unsafe plan."""
    decide_and_check(runtime, ctx, domain, wh, raw, latency_ms)


@SETTINGS
@given(value=json_values)
def test_arbitrary_json(runtime, ctx, domain, wh, value: object) -> None:
    """No JSON value makes the guard raise, run late or execute an unsafe plan."""
    decide_and_check(runtime, ctx, domain, wh, json.dumps(value).encode(), 10.0)


def _mutations(wh):
    bins = sorted(wh.bins)
    stations = sorted(wh.pack_stations)
    cells = st.tuples(st.integers(-2, wh.width + 1), st.integers(-2, wh.height + 1))
    return st.one_of(
        st.tuples(st.just("speed_mps"), st.floats(0.01, 5.0)),
        st.tuples(st.just("end"), st.sampled_from([*stations, "DOCK"])),
        st.tuples(st.just("robot_id"), st.sampled_from(["R1", "R2"])),
        st.tuples(
            st.just("via"),
            st.lists(st.lists(st.integers(-2, 40), min_size=2, max_size=2), max_size=4),
        ),
        st.tuples(st.just("via_cells"), st.lists(cells, max_size=3)),
        st.tuples(st.just("swap"), st.tuples(st.integers(0, 5), st.integers(0, 5))),
        st.tuples(
            st.just("bin"), st.tuples(st.integers(0, 5), st.sampled_from([*bins[:40], "Z-99-L"]))
        ),
        st.tuples(st.just("qty"), st.tuples(st.integers(0, 5), st.integers(1, 4))),
        st.tuples(st.just("drop"), st.integers(0, 5)),
        st.tuples(st.just("dup"), st.integers(0, 5)),
    )


def _apply(plan: dict, mutation) -> dict:
    kind, arg = mutation
    picks = plan["picks"]
    if kind in ("speed_mps", "end", "robot_id", "via"):
        plan[kind] = arg
    elif kind == "via_cells":
        plan["via"] = [list(c) for c in arg]
    elif kind == "swap":
        i, j = (a % len(picks) for a in arg)
        picks[i], picks[j] = picks[j], picks[i]
    elif kind == "bin":
        picks[arg[0] % len(picks)]["bin"] = arg[1]
    elif kind == "qty":
        picks[arg[0] % len(picks)]["qty"] = arg[1]
    elif kind == "drop" and len(picks) > 1:
        picks.pop(arg % len(picks))
    elif kind == "dup":
        picks.append(dict(picks[arg % len(picks)]))
    return plan


@SETTINGS
@given(
    data=st.data(),
    closures=st.lists(st.sampled_from(["aisle-D", "aisle-H", "cross-mid", "aisle-A"]), max_size=2),
)
def test_mutated_valid_plans(runtime, domain, wh, good_plan, data, closures) -> None:
    """Valid plans with a few edits (speed, bins, order, via-points, closures) are never executed unsafe."""
    from plansentry.domains.warehouse.examples import default_order
    from plansentry.domains.warehouse.order import make_order

    base = default_order(wh)
    order = make_order(
        base.order_id, [(x.sku, x.bin, x.qty) for x in base.lines], wh, closed_zones=closures
    )
    ctx = domain.context(order, "R1", wh.pack_stations["PACK-1"])
    plan = plan_to_builtins(good_plan)
    plan["picks"] = [dict(p) for p in plan["picks"]]
    for mutation in data.draw(st.lists(_mutations(wh), min_size=1, max_size=3)):
        plan = _apply(plan, mutation)
    raw = msgspec.json.encode(plan)
    runtime.guard.reset("each example starts trusted, so the model's output is always judged")
    decision = runtime.decide(ctx, now_ns=10**12, output=raw, latency_ms=5.0)
    event(f"source={decision.source} mode={decision.failure_mode} via={bool(plan.get('via'))}")
    assert decision.on_time
    assert not unsafe_reasons(decision.plan, ctx, wh, domain.router), decision
    if not isinstance(decision.plan, SafeMove):
        assert not domain.check_rules(decision.plan, ctx)
