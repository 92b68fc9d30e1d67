"""The classical planner's running time by order size: the evidence behind its declared WCET.

Random orders of 1 to ``MAX_LINES`` lines on the default map, from random pack stations, some with
closed zones (which force grid searches); each planned on a fresh router so route caches do not
flatter the figure. Reports the median and maximum per size band and the overall maximum against
``DECLARED_WCET_MS``.

With ``--sim N`` it measures instead what the fleet simulator draws the fallback's compute time
from: the classical planner on ``N`` orders of the simulator's own stream (2-5 lines, its default
closures and blocked orders, from the pack stations in turn), on one warm router, as a robot's guard
process keeps it. It reports 1,001 quantiles, the share of runs over ``DECLARED_WCET_MS`` and its
95 % Wilson interval; ``--write PATH`` writes them as the module the simulator reads
(``src/plansentry/domains/warehouse/world/fallback_time.py``), with this command and the machine in
its docstring.

Usage: ``python bench/classical.py [--json] [--orders 600]``;
``python bench/classical.py --sim 100000 --json [--write PATH]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine
from plansentry.domains.warehouse.classical import DECLARED_WCET_MS, MAX_LINES, ClassicalPlanner
from plansentry.domains.warehouse.map import default_map
from plansentry.domains.warehouse.order import make_order
from plansentry.domains.warehouse.rules import WarehouseDomain
from plansentry.report.stats import wilson

BANDS = ((1, 10), (11, 20), (21, 35), (36, MAX_LINES))
CLOSABLE = ("aisle-D", "aisle-H", "cross-mid")


def run(orders: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    wh = default_map()
    samples: dict[tuple[int, int], list[float]] = {band: [] for band in BANDS}
    no_plan = 0
    for _ in range(orders):
        domain = WarehouseDomain(wh)  # fresh router: no warm route cache
        planner = ClassicalPlanner(domain.router)
        n = rng.randint(1, MAX_LINES)
        closed = rng.sample(CLOSABLE, rng.randint(0, 2)) if rng.random() < 0.3 else []
        bins = rng.sample(sorted(wh.bins), n)
        order = make_order(
            "B", [(f"S{i}", b, 1) for i, b in enumerate(bins)], wh, closed_zones=closed
        )
        ctx = domain.context(order, "R1", rng.choice(list(wh.pack_stations.values())))
        t0 = time.perf_counter()
        outcome = planner.plan(ctx)
        ms = (time.perf_counter() - t0) * 1000
        no_plan += outcome.plan is None
        band = next(b for b in BANDS if b[0] <= n <= b[1])
        samples[band].append(ms)
    overall = max(max(s) for s in samples.values() if s)
    return {
        "bench": "classical",
        "machine": machine(),
        "orders": orders,
        "max_lines": MAX_LINES,
        "bands": {
            f"{lo}-{hi} lines": {
                "median_ms": round(statistics.median(s), 3),
                "max_ms": round(max(s), 3),
                "n": len(s),
            }
            for (lo, hi), s in samples.items()
            if s
        },
        "no_plan": no_plan,
        "max_ms": round(overall, 3),
        "declared_wcet_ms": DECLARED_WCET_MS,
        "headroom": round(DECLARED_WCET_MS / overall, 2),
    }


QUANTILES = 1_000  # the module holds quantiles 0, 1/1000, ..., 1


def run_sim(orders: int, seed: int) -> dict[str, Any]:
    """The classical planner's time on the simulator's own orders, warm router."""
    from plansentry.sim.config import SimConfig
    from plansentry.sim.scene import profiles_of, scene_for

    world = scene_for(SimConfig(profile=profiles_of("warehouse")["pilot"], cycles=1)).world
    planner = ClassicalPlanner(world.router)
    source = world.orders(random.Random(seed), "B")
    starts = [world.wh.pack_stations[s] for s in world.stations]
    ms: list[float] = []
    no_plan = 0
    for i in range(orders):
        ctx = world.domain.context(next(source), "R1", starts[i % len(starts)])
        t0 = time.perf_counter_ns()
        outcome = planner.plan(ctx)
        ms.append((time.perf_counter_ns() - t0) / 1e6)
        no_plan += outcome.plan is None
    ms.sort()
    over = sum(x > DECLARED_WCET_MS for x in ms)
    lo, hi = wilson(over, len(ms))
    return {
        "bench": "classical-sim",
        "machine": machine(),
        "orders": orders,
        "seed": seed,
        "no_plan": no_plan,
        "declared_wcet_ms": DECLARED_WCET_MS,
        "over_wcet": over,
        "over_wcet_ci95": [lo, hi],
        "median_ms": round(statistics.median(ms), 4),
        "p99_ms": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 4),
        "max_ms": round(ms[-1], 4),
        "quantiles_ms": [round(ms[round(k * len(ms) / QUANTILES)], 4) for k in range(QUANTILES)],
        "tail_ms": [round(x, 4) for x in ms[len(ms) - len(ms) // QUANTILES :]],
    }


def module_text(doc: dict[str, Any], command: str) -> str:
    """The simulator's module of measured fallback times (``domains/warehouse/world/fallback_time.py``)."""
    m = doc["machine"]

    def rows(values: list[float]) -> str:
        lines = [", ".join(f"{v!r}" for v in values[i : i + 8]) for i in range(0, len(values), 8)]
        return "".join(f"    {line},\n" for line in lines)

    lo, hi = doc["over_wcet_ci95"]
    return f'''r"""The classical planner's compute time as measured: what the simulator's fallback takes.

Generated on {m["when"]} ({m["cpus"]} CPUs shared with other work, Python {m["python"]},
{m["platform"]}) by the command below; do not edit by hand, run it again::

    {command}

{doc["orders"]:,} orders of the simulator's own stream, one warm router: median {doc["median_ms"]} ms,
p99 {doc["p99_ms"]} ms, max {doc["max_ms"]} ms; {doc["over_wcet"]} run(s) over the declared worst
case of {doc["declared_wcet_ms"]:g} ms (95 % Wilson interval of that share: {lo:.3g} to {hi:.3g}).
"""

from __future__ import annotations

from typing import Final

#: Runs measured.
SAMPLES: Final = {doc["orders"]}
#: Runs over the declared worst case, and the upper end of the 95 % interval of their share.
OVER_WCET: Final = {doc["over_wcet"]}
OVER_WCET_P_HIGH: Final = {hi!r}
# fmt: off
#: Quantiles 0, 1/{QUANTILES}, ..., {QUANTILES - 1}/{QUANTILES} of the compute time (ms).
QUANTILES_MS: Final = (
{rows(doc["quantiles_ms"])})
#: The slowest 1/{QUANTILES} of the runs, each as measured (ms), in order: the tail, kept whole.
TAIL_MS: Final = (
{rows(doc["tail_ms"])})
# fmt: on
'''


def human(doc: dict[str, Any]) -> str:
    if doc["bench"] == "classical-sim":
        lo, hi = doc["over_wcet_ci95"]
        return (
            f"classical planner on {doc['orders']:,} simulator orders (warm router): median "
            f"{doc['median_ms']} ms, p99 {doc['p99_ms']} ms, max {doc['max_ms']} ms; over the "
            f"declared {doc['declared_wcet_ms']:g} ms: {doc['over_wcet']} "
            f"(95 % CI of the share {lo:.3g}-{hi:.3g}); orders without a plan: {doc['no_plan']}"
        )
    out = [f"classical planner, {doc['orders']} random orders, fresh router each"]
    for band, s in doc["bands"].items():
        out.append(
            f"  {band:12s} median {s['median_ms']:8.3f} ms   max {s['max_ms']:8.3f} ms   n={s['n']}"
        )
    out.append(
        f"max {doc['max_ms']} ms; declared WCET {doc['declared_wcet_ms']} ms "
        f"(headroom x{doc['headroom']}); orders without a plan: {doc['no_plan']}"
    )
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--orders", type=int, default=600)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sim", type=int, metavar="N", help="time N of the simulator's orders instead")
    p.add_argument("--write", metavar="PATH", help="with --sim: write the simulator's module here")
    args = p.parse_args()
    if args.sim is None:
        emit(run(args.orders, args.seed), args.json, human)
        return
    doc = run_sim(args.sim, args.seed)
    if args.write:
        command = (
            f"python bench/classical.py --sim {args.sim} --seed {args.seed} \\\n"
            f"        --write {args.write}"
        )
        Path(args.write).write_text(module_text(doc, command), encoding="utf-8")
    emit(doc, args.json, human)


if __name__ == "__main__":
    main()
