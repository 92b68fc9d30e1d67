"""The warehouse rules' fast path changes no verdict: over generated orders (closures, several lines
of one bin, starts off the route table) and plans mutated in every way the rules look at, every
violation, its order included, equals that of a frozen copy of the rules as they were before the
fast path (and the cycle-time bound's lower estimate equals the frozen copy's)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

import msgspec
import pytest

from plansentry.core.failures import FailureMode, Violation
from plansentry.domains.warehouse.classical import ClassicalPlanner
from plansentry.domains.warehouse.cycle import CycleTime, lower_drive_s
from plansentry.domains.warehouse.map import Warehouse
from plansentry.domains.warehouse.order import Order, PickContext, make_order
from plansentry.domains.warehouse.router import UNREACHABLE, Router
from plansentry.domains.warehouse.rules import WarehouseDomain
from plansentry.domains.warehouse.schema import Pick, Plan


class FrozenRules:
    """``WarehouseDomain.check_rules`` as it was before the fast path (rules version 2), copied
    and left alone: the reference the fast path is compared with."""

    def __init__(self, wh: Warehouse, router: Router, cycle_time: CycleTime | None) -> None:
        self.wh = wh
        self.router = router
        self.cycle_time = cycle_time
        self._leg_dist = router.leg_dist
        self._staff = wh.mask_of(["staff_only"])
        self._leg_mask = router.leg_mask
        self._poi_index = router.poi_index
        self._bins = {
            name: (b.access, self._poi_index[b.access], wh.cell_zones[b.access])
            for name, b in wh.bins.items()
        }

    def check_rules(self, plan: Plan, ctx: PickContext) -> list[Violation]:
        out: list[Violation] = []
        if plan.robot_id != ctx.robot_id:
            out.append(
                Violation(
                    "robot_id",
                    FailureMode.INVALID,
                    f"plan is for robot {plan.robot_id!r}, not {ctx.robot_id!r}",
                    "robot_id",
                )
            )
        picks = plan.picks
        forbidden, closed = ctx.forbidden_mask, ctx.closed_mask
        leg_mask, leg_dist, poi_index = self._leg_mask, self._leg_dist, self._poi_index
        prev = ctx.start
        prev_poi = poi_index.get(prev, -1)
        crossed = cells = 0
        if plan.via:
            prev, crossed, cells = self._via(plan, ctx, out)
            prev_poi = poi_index.get(prev, -1)
        bins = self._bins
        got: dict[tuple[str, str], int] = {}
        for i, pick in enumerate(picks):
            name = pick.bin
            got[name, pick.sku] = pick.qty
            info = bins.get(name)
            if info is None:
                out.append(
                    Violation(
                        "bin_exists", FailureMode.INVALID, f"no bin {pick.bin!r}", f"picks[{i}].bin"
                    )
                )
                continue
            cell, poi, zones = info
            if zones & forbidden:
                out.append(self._forbidden(zones, f"picks[{i}]"))
                continue
            m = leg_mask[prev_poi][poi] if prev_poi >= 0 else UNREACHABLE
            if m == UNREACHABLE or m & closed:
                d, m = self._slow_leg(prev, cell, closed, f"picks[{i}]", out)
            else:
                d = leg_dist[prev_poi][poi]
            cells += d
            crossed |= m
            prev, prev_poi = cell, poi
        if len(got) != len(picks) or got != ctx.order.expected:
            out.extend(_coverage(picks, got, ctx.order.expected))
        end = self.wh.pack_stations.get(plan.end)
        if end is None:
            out.append(
                Violation(
                    "end_station", FailureMode.INVALID, f"{plan.end!r} is not a pack station", "end"
                )
            )
        elif self.wh.cell_zones[end] & forbidden:
            out.append(self._forbidden(self.wh.cell_zones[end], "end"))
        else:
            d, m = self._slow_leg(prev, end, closed, "end", out)
            cells += d
            crossed |= m
        limit = self.router.speed_limit(crossed)
        if plan.speed_mps > limit:
            out.append(
                Violation(
                    "speed_limit",
                    FailureMode.UNSAFE,
                    f"{plan.speed_mps:g} m/s over the route's limit of {limit:g} m/s",
                    "speed_mps",
                )
            )
        if not out and self.cycle_time is not None:
            self._cycle_time(plan, ctx, cells, out)
        return out

    def _cycle_time(self, plan: Plan, ctx: PickContext, cells: int, out: list[Violation]) -> None:
        rule = self.cycle_time
        assert rule is not None
        metres = cells * self.wh.cell_m
        items = ctx.order.items
        estimate = metres / plan.speed_mps + rule.handling_s * items
        lower = ctx.lower_drive_s + rule.handling_s * items
        bound = rule.factor * lower
        if estimate > bound:
            out.append(
                Violation(
                    "cycle_time",
                    FailureMode.SLOW,
                    f"estimated {estimate:.0f} s ({metres:.0f} m at {plan.speed_mps:g} m/s, "
                    f"{items} items x {rule.handling_s:g} s) > bound {bound:.0f} s "
                    f"({rule.factor:g} x the order's lower estimate {lower:.0f} s)",
                    "via" if plan.via else "speed_mps",
                )
            )

    def _forbidden(self, zones: int, where: str) -> Violation:
        kind = "staff_only" if zones & self._staff else "zone_closed"
        return Violation(
            kind, FailureMode.UNSAFE, f"{where} is in a {kind.replace('_', '-')} zone", where
        )

    def _slow_leg(
        self, a: int, b: int, closed: int, where: str, out: list[Violation]
    ) -> tuple[int, int]:
        dist, mask = self.router.leg(a, b, closed)
        if dist == UNREACHABLE:
            out.append(
                Violation("path_exists", FailureMode.UNSAFE, f"no open route to {where}", where)
            )
            return 0, mask
        return dist, mask

    def _via(self, plan: Plan, ctx: PickContext, out: list[Violation]) -> tuple[int, int, int]:
        wh = self.wh
        prev, crossed, cells = ctx.start, 0, 0
        for i, (x, y) in enumerate(plan.via):
            where = f"via[{i}]"
            if not wh.in_bounds(x, y):
                out.append(
                    Violation("via_free", FailureMode.UNSAFE, f"[{x}, {y}] is off the map", where)
                )
                continue
            cell = wh.cell(x, y)
            if cell not in wh.free:
                out.append(
                    Violation(
                        "via_free", FailureMode.UNSAFE, f"[{x}, {y}] is a wall or shelf", where
                    )
                )
                continue
            if wh.cell_zones[cell] & ctx.forbidden_mask:
                out.append(self._forbidden(wh.cell_zones[cell], where))
                continue
            d, m = self._slow_leg(prev, cell, ctx.closed_mask, where, out)
            cells += d
            crossed |= m
            prev = cell
        return prev, crossed, cells


def _coverage(
    picks: Sequence[Pick], got: dict[tuple[str, str], int], expected: dict[tuple[str, str], int]
) -> list[Violation]:
    out = []
    seen: set[tuple[str, str]] = set()
    invalid = FailureMode.INVALID
    for i, p in enumerate(picks):
        key = (p.bin, p.sku)
        if key in seen:
            out.append(
                Violation("coverage", invalid, f"{p.bin}/{p.sku} picked twice", f"picks[{i}]")
            )
        seen.add(key)
    for (b, sku), qty in expected.items():
        have = got.get((b, sku))
        if have is None:
            out.append(Violation("coverage", invalid, f"order line {b}/{sku} x{qty} not picked"))
        elif have != qty:
            out.append(Violation("coverage", invalid, f"{b}/{sku}: qty {have}, order says {qty}"))
    for b, sku in sorted(got.keys() - expected.keys()):
        out.append(Violation("coverage", invalid, f"{b}/{sku} is not in the order"))
    return out


def frozen_lower_drive_s(router: Router, start: int, cells: list[int]) -> float:
    """``cycle.lower_drive_s`` as it was before the speed work (router legs, Prim by ``min``)."""
    wh = router.wh
    nodes = [start, *dict.fromkeys(c for c in cells if c != start)]
    n = len(nodes)
    dist = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            d, _ = router.leg(nodes[i], nodes[j], 0)
            if d == UNREACHABLE:
                return 0.0
            dist[i][j] = dist[j][i] = d
    tree = 0
    if n >= 2:
        best = dist[0][:]
        used = [False] * n
        used[0] = True
        for _ in range(n - 1):
            j = min((k for k in range(n) if not used[k]), key=best.__getitem__)
            used[j] = True
            tree += best[j]
            for k in range(n):
                if not used[k] and dist[j][k] < best[k]:
                    best[k] = dist[j][k]
    to_station = min(
        (
            d
            for node in (nodes[1:] or nodes)
            for station in wh.pack_stations.values()
            if (d := router.leg(node, station, 0)[0]) != UNREACHABLE
        ),
        default=0,
    )
    required = wh.cell_zones[start]
    for cell in cells:
        required |= wh.cell_zones[cell]
    fastest = max(
        router.speed_limit(required | wh.cell_zones[station])
        for station in wh.pack_stations.values()
    )
    return (tree + to_station) * wh.cell_m / fastest


# --- generated cases ------------------------------------------------------------------------------

CLOSABLE = ("aisle-A", "aisle-B", "aisle-D", "aisle-H", "cross-mid")


def random_order(wh: Warehouse, rng: random.Random, number: int) -> Order:
    """1-25 lines; sometimes two lines of one bin; sometimes closures (even over the order's own
    bins, which makes every plan unsafe)."""
    bins = rng.sample(sorted(wh.bins), rng.randint(1, 25))
    lines = [(f"SKU-{rng.randrange(10_000):04d}", b, rng.randint(1, 3)) for b in bins]
    if rng.random() < 0.25:
        lines.append((f"SKU-X{rng.randrange(100)}", rng.choice(bins), rng.randint(1, 3)))
    closed = rng.sample(CLOSABLE, rng.choice((0, 0, 1, 2)))
    return make_order(f"O-{number}", lines, wh, closed_zones=closed)


def random_start(wh: Warehouse, rng: random.Random) -> int:
    """A pack station (on the route table) or any floor cell outside staff-only zones (off it)."""
    if rng.random() < 0.6:
        return wh.pack_stations[rng.choice(sorted(wh.pack_stations))]
    staff = wh.mask_of(["staff_only"])
    return rng.choice(sorted(c for c in wh.free if not wh.cell_zones[c] & staff))


def baseline_plan(domain: WarehouseDomain, ctx: PickContext, rng: random.Random) -> Plan:
    """The classical plan when there is one; else the order's lines in a random order."""
    plan = ClassicalPlanner(domain.router).plan(ctx).plan
    if plan is not None:
        return plan
    lines = list(ctx.order.lines)
    rng.shuffle(lines)
    picks = tuple(Pick(x.bin, x.sku, x.qty) for x in lines)
    station = rng.choice(sorted(domain.wh.pack_stations))
    return Plan(ctx.order.order_id, ctx.robot_id, picks, 1.0, station)


def mutate(plan: Plan, wh: Warehouse, rng: random.Random) -> Plan:
    """One edit of a kind some rule looks at."""
    picks = list(plan.picks)
    i, j = rng.randrange(len(picks)), rng.randrange(len(picks))
    kind = rng.randrange(15)
    if kind == 0:
        return msgspec.structs.replace(plan, speed_mps=rng.choice((0.01, 0.05, 0.3, 0.8, 1.2, 2.5)))
    if kind == 1:
        return msgspec.structs.replace(plan, robot_id="R2")
    if kind == 2:
        return msgspec.structs.replace(plan, end=rng.choice([*sorted(wh.pack_stations), "DOCK"]))
    if kind == 3:
        picks[i], picks[j] = picks[j], picks[i]
    elif kind == 4 and len(picks) > 1:
        picks.pop(i)
    elif kind == 5:
        picks.append(picks[i])
    elif kind == 6:  # a line twice, another missing: as many picks as lines
        if len(picks) > 1 and i != j:
            picks[j] = picks[i]
    elif kind == 7:
        picks[i] = Pick(rng.choice(sorted(wh.bins)), picks[i].sku, picks[i].qty)
    elif kind == 8:
        picks[i] = Pick("Z-99-Q", picks[i].sku, picks[i].qty)
    elif kind == 9:
        picks[i] = Pick(picks[i].bin, picks[i].sku, picks[i].qty + rng.choice((-1, 1, 5)) or 2)
    elif kind == 10:
        picks[i] = Pick(picks[i].bin, "SKU-OTHER", picks[i].qty)
    elif kind == 11:
        picks.insert(i, Pick(rng.choice(sorted(wh.bins)), "SKU-EXTRA", 1))
    elif kind == 12:
        via = tuple(
            (rng.randint(-1, wh.width), rng.randint(-1, wh.height))
            for _ in range(rng.randint(1, 3))
        )
        return msgspec.structs.replace(plan, via=via)
    elif kind == 13:  # a free via-point: valid if the speed suits the route
        cells = sorted(wh.free)
        via = tuple(wh.xy(rng.choice(cells)) for _ in range(rng.randint(1, 2)))
        return msgspec.structs.replace(plan, via=via, speed_mps=0.8)
    else:
        rng.shuffle(picks)
    return msgspec.structs.replace(plan, picks=tuple(picks))


def cases(wh: Warehouse, domain: WarehouseDomain, seed: int, n: int):
    rng = random.Random(seed)
    for number in range(n):
        order = random_order(wh, rng, number)
        ctx = domain.context(order, "R1", random_start(wh, rng))
        base = baseline_plan(domain, ctx, rng)
        yield ctx, base
        for _ in range(6):
            plan = base
            for _ in range(rng.choice((1, 1, 2, 3))):
                plan = mutate(plan, wh, rng)
            yield ctx, plan


@pytest.fixture(scope="module")
def frozen(wh, domain) -> FrozenRules:
    return FrozenRules(wh, domain.router, domain.cycle_time)


@pytest.mark.parametrize("seed", range(6))
def test_every_violation_matches_the_frozen_rules(wh, domain, frozen, seed: int) -> None:
    """Generated and mutated plans get the frozen rules' violations, in the same order."""
    accepted = refused = 0
    for ctx, plan in cases(wh, domain, seed, 60):
        want = frozen.check_rules(plan, ctx)
        assert list(domain.check_rules(plan, ctx)) == want, (plan, ctx.order)
        accepted += not want
        refused += bool(want)
    assert accepted > 40 and refused > 150  # both kinds of plan were exercised


@pytest.mark.parametrize("seed", range(3))
def test_the_fast_path_accepts_exactly_the_plans_that_break_no_rule(wh, domain, frozen, seed):
    """Where the fast path says a plan passes, the frozen rules find nothing; plans without
    via-points that the frozen rules pass, the fast path proves so itself (it is not idle)."""
    proven = 0
    for ctx, plan in cases(wh, domain, 100 + seed, 60):
        assert ctx.tables is not None
        fast = domain._passes(plan, ctx, ctx.tables)
        clean = not frozen.check_rules(plan, ctx)
        assert not fast or clean, plan
        if clean and not plan.via:
            assert fast, (plan, ctx.order)
            proven += 1
    assert proven > 40


@pytest.mark.parametrize("cycle", [True, False], ids=["rules-2", "rules-1"])
def test_rules_versions_match_the_frozen_rules(wh, domain, cycle: bool) -> None:
    """With the cycle-time rule off (rules version 1) the fast path matches too."""
    mine = domain if cycle else WarehouseDomain(wh, domain.router, cycle_time=None)
    frozen = FrozenRules(wh, domain.router, mine.cycle_time)
    for ctx, plan in cases(wh, mine, 200, 40):
        assert list(mine.check_rules(plan, ctx)) == frozen.check_rules(plan, ctx)


def test_a_context_without_tables_is_judged_the_same(wh, domain, frozen) -> None:
    """A context copied with dataclasses.replace has no tables: the full rules judge it alike."""
    for ctx, plan in cases(wh, domain, 300, 20):
        bare = dataclasses.replace(ctx)
        assert bare.tables is None
        assert list(domain.check_rules(plan, bare)) == frozen.check_rules(plan, ctx)


def test_another_domains_context_is_judged_by_this_domains_rules(wh, domain) -> None:
    """Tables are used only by the domain that made them: a context made with the cycle-time
    rule is judged by a domain without it as that domain's frozen rules would."""
    rules_1 = WarehouseDomain(wh, domain.router, cycle_time=None)
    frozen_1 = FrozenRules(wh, domain.router, None)
    for ctx, plan in cases(wh, domain, 400, 20):
        crawl = msgspec.structs.replace(plan, speed_mps=0.01)
        assert list(rules_1.check_rules(crawl, ctx)) == frozen_1.check_rules(crawl, ctx)


def test_a_line_repeated_instead_of_another_is_a_coverage_violation(wh, domain, ctx, good_plan):
    """As many picks as lines, but one line twice and one missing: the bits do not add up."""
    picks = (good_plan.picks[0], *good_plan.picks[:-1])
    plan = msgspec.structs.replace(good_plan, picks=picks)
    assert not domain._passes(plan, ctx, ctx.tables)
    assert "coverage" in {v.rule for v in domain.check_rules(plan, ctx)}


def test_two_lines_of_one_bin_pass_the_fast_path(wh, domain) -> None:
    """An order with two SKUs from one bin: the second line is found through other_lines."""
    order = make_order("O-2", [("S1", "A-03-L", 1), ("S2", "A-03-L", 2), ("S3", "B-05-L", 1)], wh)
    ctx = domain.context(order, "R1", wh.pack_stations["PACK-1"])
    plan = ClassicalPlanner(domain.router).plan(ctx).plan
    assert plan is not None and ctx.tables is not None
    assert domain._passes(plan, ctx, ctx.tables)
    assert list(domain.check_rules(plan, ctx)) == []


def test_a_closure_rerouting_a_leg_is_judged_on_the_router_leg(wh, domain, frozen) -> None:
    """Closing the middle cross-aisle makes some table legs unusable: the fast path asks the
    router for them, and agrees with the frozen rules on every plan."""
    rng = random.Random(7)
    rerouted = 0
    for number in range(30):
        lines = [(f"S{i}", b, 1) for i, b in enumerate(rng.sample(sorted(wh.bins), 8))]
        order = make_order(f"O-{number}", lines, wh, closed_zones=["cross-mid"])
        ctx = domain.context(order, "R1", wh.pack_stations["PACK-1"])
        plan = ClassicalPlanner(domain.router).plan(ctx).plan
        if plan is None:
            continue
        assert ctx.tables is not None
        legs = ctx.tables
        first = legs.picks[plan.picks[0].bin]
        rerouted += bool(
            any(_asks_router(legs.start_mask[e[0]], legs.closed) for e in legs.picks.values())
            or _asks_router(first[2][first[0]], legs.closed)
        )
        assert list(domain.check_rules(plan, ctx)) == frozen.check_rules(plan, ctx)
        assert domain._passes(plan, ctx, ctx.tables) is not frozen.check_rules(plan, ctx)
    assert rerouted > 0


def _asks_router(mask: int, closed: int) -> bool:
    """A table leg the fast path cannot use in this context: no open-map route, or a closure."""
    return mask == UNREACHABLE or bool(mask & closed)


def test_a_long_order_is_judged_as_the_frozen_rules_judge_it(wh, domain, frozen) -> None:
    """255 lines (the tables once counted at most 254 legs): tables, and the frozen verdicts,
    for a plan cut short and for plans over every line's bin (line bits past a machine word)."""
    bins = sorted(wh.bins)[:255]
    order = make_order("O-LONG", [("S", b, 1) for b in bins], wh)
    ctx = domain.context(order, "R1", wh.pack_stations["PACK-1"])
    assert ctx.tables is not None and ctx.tables.all_lines == (1 << 255) - 1
    for picks in (bins[:200], bins, bins[1:] + bins[:1]):
        plan = Plan("O-LONG", "R1", tuple(Pick(b, "S", 1) for b in picks), 1.0, "PACK-1")
        assert list(domain.check_rules(plan, ctx)) == frozen.check_rules(plan, ctx)


@pytest.mark.parametrize("seed", range(3))
def test_the_lower_estimate_matches_the_frozen_one(wh, domain, seed: int) -> None:
    """The cycle-time bound's lower estimate is the frozen function's, to the last bit."""
    rng = random.Random(seed)
    for number in range(60):
        order = random_order(wh, rng, number)
        start = random_start(wh, rng)
        cells = [wh.bins[line.bin].access for line in order.lines]
        want = frozen_lower_drive_s(domain.router, start, cells)
        assert lower_drive_s(domain.router, start, cells) == want
        assert domain.context(order, "R1", start).lower_drive_s == want
