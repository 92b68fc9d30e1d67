"""The classical planner's running time by order size: the evidence behind its declared WCET.

Random orders of 1 to ``MAX_LINES`` lines on the default map, from random pack stations, some with
closed zones (which force grid searches); each planned on a fresh router so route caches do not
flatter the figure. Reports the median and maximum per size band and the overall maximum against
``DECLARED_WCET_MS``.

Usage: ``python bench/classical.py [--json] [--orders 600]``.
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


def human(doc: dict[str, Any]) -> str:
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
    args = p.parse_args()
    emit(run(args.orders, args.seed), args.json, human)


if __name__ == "__main__":
    main()
