"""The synthetic model writes real text: good plans pass the gate and the oracle, each fault is
caught by the gate as the failure mode it is, and fault rates follow the profile."""

from __future__ import annotations

import collections
import itertools
import random

import msgspec
import pytest

from plansentry.core.failures import FailureMode
from plansentry.core.gate import Gate, GateConfig
from plansentry.domains.warehouse.optimal import OptimalPlanner
from plansentry.domains.warehouse.order import make_order
from plansentry.domains.warehouse.rules import CYCLE_TIME
from plansentry.domains.warehouse.safety import unsafe_reasons
from plansentry.domains.warehouse.schema import Plan
from plansentry.domains.warehouse.world.orders import random_orders
from plansentry.domains.warehouse.world.profiles import FAULTS
from plansentry.domains.warehouse.world.world import WarehouseWorld
from plansentry.runtime.world import WorldSettings
from plansentry.sim.profiles import Profile
from plansentry.sim.synthetic import SyntheticModel
from warehouse_fixtures import PROFILES

_WORLDS: dict[int, WarehouseWorld] = {}


def world_of(domain) -> WarehouseWorld:
    """The warehouse world on ``domain`` (built once: it calibrates travel)."""
    if id(domain) not in _WORLDS:
        _WORLDS[id(domain)] = WarehouseWorld(domain, WorldSettings())
    return _WORLDS[id(domain)]


@pytest.fixture(scope="module")
def cases(wh, domain):
    """(ctx, best plan) for 300 orders, a fifth of them with an aisle closed."""
    planner = OptimalPlanner(domain.router)
    rng = random.Random(3)
    out = []
    for i, order in enumerate(itertools.islice(random_orders(wh, rng), 400)):
        closed = ["aisle-B"] if i % 5 == 0 else []
        if closed and any(wh.bins[x.bin].access in wh.zones["aisle-B"].cells for x in order.lines):
            continue
        order = make_order(
            order.order_id, [(x.sku, x.bin, x.qty) for x in order.lines], wh, closed_zones=closed
        )
        ctx = domain.context(order, "R1", wh.pack_stations[sorted(wh.pack_stations)[i % 3]])
        out.append((ctx, planner.plan(ctx)))
    return out[:300]


def calls(profile: Profile, domain, cases, seed: int = 0):
    model = SyntheticModel(profile, world_of(domain))
    rng = random.Random(seed)
    prev = None
    for ctx, best in cases:
        yield ctx, model.call(ctx, best, prev, rng)
        prev = best


def test_good_plans_with_route_noise_pass_the_gate_and_the_oracle(wh, domain, cases) -> None:
    gate = Gate(domain, GateConfig())
    noisy = Profile(name="noisy", route_noise=1.0)
    swapped = 0
    for (ctx, call), (_, best) in zip(calls(noisy, domain, cases), cases, strict=True):
        assert call.fault == "" and call.text is not None and call.latency_s > 0
        verdict = gate.check(call.text, len(call.text), ctx, ctx.version)
        assert verdict.ok, verdict.violations
        assert not unsafe_reasons(verdict.plan, ctx, wh, domain.router)
        swapped += verdict.plan.picks != best.picks
    assert swapped > 200  # the noise is real: most plans took a longer visit order


EXPECTED = {
    "schema": {FailureMode.SCHEMA},
    "hallucinated_bin": {FailureMode.INVALID},
    "incomplete": {FailureMode.INVALID},
    "unsafe": {FailureMode.UNSAFE},
    "stale": {FailureMode.STALE},
}


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_each_fault_is_caught_as_its_failure_mode(domain, cases, fault) -> None:
    gate = Gate(domain, GateConfig())
    kinds = set()
    for ctx, call in calls(Profile(name=fault, faults={fault: 1.0}), domain, cases):
        assert call.fault == fault
        verdict = gate.check(call.text, len(call.text), ctx, ctx.version)
        assert verdict.mode in EXPECTED[fault], (call.kind, call.text, verdict)
        kinds.add(call.kind)
    assert kinds  # every sub-kind drawn is covered above


def test_malformed_outputs_are_refused_or_extracted_never_misread(domain, cases) -> None:
    """Truncated, trailing-comma and unbalanced text is malformed; JSON in prose or a fence is the
    good plan, which the gate extracts (a bare parser, the pilot's, refuses all five)."""
    import json

    gate = Gate(domain, GateConfig())
    kinds = set()
    for (ctx, call), (_, best) in zip(
        calls(Profile(name="m", faults={"malformed": 1.0}), domain, cases), cases, strict=True
    ):
        kinds.add(call.kind)
        with pytest.raises(ValueError):
            json.loads(call.text)
        verdict = gate.check(call.text, len(call.text), ctx, ctx.version)
        if call.kind in ("prose", "fence"):
            assert verdict.ok and verdict.plan == best and verdict.extraction == call.kind
        else:
            assert verdict.mode in (FailureMode.MALFORMED, FailureMode.EMPTY), call.text
    assert kinds == {"truncated", "trailing_comma", "unbalanced", "prose", "fence"}


def test_stall_and_transport_return_no_usable_answer(domain, cases) -> None:
    ctx, best = cases[0]
    rng = random.Random(1)
    stall = SyntheticModel(Profile(name="s", faults={"stall": 1.0}), world_of(domain)).call(
        ctx, best, None, rng
    )
    assert stall.latency_s is None and stall.text is None
    late = SyntheticModel(
        Profile(name="s", faults={"stall": 1.0}, stall_s=40), world_of(domain)
    ).call(ctx, best, None, rng)
    assert late.latency_s == 40 and late.text is not None
    down = SyntheticModel(PROFILES["outage"], world_of(domain)).call(ctx, best, None, rng)
    assert down.text is None and down.error and down.latency_s == PROFILES["outage"].transport_s


def test_fault_rates_follow_the_profile(domain, cases) -> None:
    profile = PROFILES["chaos"]
    model = SyntheticModel(profile, world_of(domain))
    rng = random.Random(11)
    n = 20_000
    counts = dict.fromkeys(FAULTS, 0)
    for i in range(n):
        ctx, best = cases[i % len(cases)]
        call = model.call(ctx, best, None, rng)
        if call.fault:
            counts[call.fault] += 1
    for fault in FAULTS:
        p = profile.rate(fault)
        sd = (p * (1 - p) / n) ** 0.5
        assert abs(counts[fault] / n - p) < 5 * sd, (fault, counts[fault])


def test_latency_is_heavy_tailed_around_the_median(domain) -> None:
    model = SyntheticModel(PROFILES["pilot"], world_of(domain))
    rng = random.Random(5)
    xs = sorted(model.latency(rng) for _ in range(20_000))
    assert 0.85 < xs[len(xs) // 2] < 0.95
    assert xs[-1] > 10 * xs[len(xs) // 2]  # the Pareto tail reaches far beyond the body


def test_a_crawl_is_refused_by_the_cycle_time_rule(domain, cases) -> None:
    """A crawl (a tenth of its route's limit) breaks the cycle-time rule and nothing else."""
    gate = Gate(domain, GateConfig())
    model = SyntheticModel(Profile(name="slow", faults={"slow": 1.0}), world_of(domain))
    rng = random.Random(4)
    crawls = 0
    for ctx, best in cases:
        call = model.call(ctx, best, None, rng)
        if call.kind != "crawl":
            continue
        crawls += 1
        verdict = gate.check(call.text, len(call.text), ctx, ctx.version)
        assert verdict.mode is FailureMode.SLOW
        assert [v.rule for v in verdict.violations] == [CYCLE_TIME]
    assert crawls > 100


def test_a_detour_is_valid_and_safe_and_slower_than_the_best_plan(wh, domain, cases) -> None:
    """A detour through far corners breaks no rule but, sometimes, the cycle-time rule; it is safe
    by the independent checker, and it drives farther than the best plan."""
    gate = Gate(domain, GateConfig())
    model = SyntheticModel(Profile(name="slow", faults={"slow": 1.0}), world_of(domain))
    rng = random.Random(5)
    modes = collections.Counter()
    for ctx, best in cases:
        call = model.call(ctx, best, None, rng)
        if call.kind != "detour":
            continue
        verdict = gate.check(call.text, len(call.text), ctx, ctx.version)
        modes[verdict.mode] += 1
        assert verdict.mode in (None, FailureMode.SLOW), verdict.violations
        plan = msgspec.json.decode(call.text, type=Plan)
        assert 2 <= len(plan.via) <= 4
        assert not unsafe_reasons(plan, ctx, wh, domain.router)
    assert modes[None] > 0 and modes[FailureMode.SLOW] > 0  # the bound refuses only the worst
