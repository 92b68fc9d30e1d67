"""How fast the simulator runs decisions through the real guard: one core, then two processes.

1. One core: the guarded controller alone, profile ``pilot``, ``--cycles`` decisions per round on a
   warm world (map, router, calibration built once, as a worker does), ``--rounds`` rounds; the
   median rate in decisions per minute (of wall time; per minute of the process's CPU time
   beside it: the two agree when the process had a core to itself). Every decision is a real one:
   a synthetic model call (best plan, noise, faults, JSON text), the gate, the decider, the
   fallback when needed.
   Then the same with a pool of ``POOL`` orders (``simulate --order-pool``: plans and contexts
   computed once per process and kept; another stream of orders than the default), after a
   warm-up that makes most of its contexts (the steady state of a long run).
2. The same with all three controllers (unguarded, guarded, oracle): cycles per minute.
3. Where a decision's time goes, each part timed alone on the same inputs (microseconds per call):
   the guard (``VirtualRuntime.decide``), the best-plan search, the synthetic model's text, the
   context a plan is judged in (``WarehouseDomain.context``: the cycle-time rule's lower estimate
   and the rule tables), order generation, and one SimPy event (the engine's own cost).
4. Processes: ``simulate`` with ``--workers 1`` and ``2`` on ``--workers-cycles`` guarded decisions,
   side by side (wall time, process start-up included): the speed-up.

Usage: ``python bench/sim.py [--json] [--cycles 20000] [--rounds 3] [--workers-cycles 200000]``.
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

import simpy

from _common import emit, machine
from plansentry.domains.warehouse.kit import default_config, make_guard
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.sim import Scene, SimConfig, run_replication, simulate
from plansentry.sim.scene import profiles_of

PROFILES = profiles_of("warehouse")

GOAL_PER_MIN = 1_000_000
#: The pool size of the pooled measurement (``simulate --order-pool``), and its warm-up: a pooled
#: run computes each (order, robot, start) context once, 2,000 x 3 stations x 4 robots of them.
POOL = 2_000
POOL_WARM_UP = POOL * 36


def per_minute(
    world: Scene, cycles: int, rounds: int, first: int
) -> tuple[list[float], list[float]]:
    """Per round: decisions per minute of wall time, and per minute of this process's CPU time
    (below the wall rate only when other work took the core away)."""
    rates, cpu_rates = [], []
    for r in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        run_replication(world, first + r, cycles, None, (world.config.budget_ms,))
        rates.append(cycles / (time.perf_counter() - t0) * 60)
        cpu_rates.append(cycles / (time.process_time() - c0) * 60)
    return rates, cpu_rates


def parts_us(world: Scene, n: int) -> dict[str, float]:
    """Median microseconds per call of each part of a guarded decision, on the same inputs."""
    rng = random.Random(1)
    # Blocked orders have no plan at all (optimal included): their cost is the simulator's, not
    # a part of a guarded decision.
    orders = (o for o in world.world.orders(rng, "B") if not world.world.blocked(o))
    stations = [world.world.wh.pack_stations[s] for s in world.world.stations]
    ctxs = [
        world.world.domain.context(next(orders), "R1", stations[i % len(stations)])
        for i in range(n)
    ]
    bests = [world.world.optimal.plan(c) for c in ctxs]
    calls = [
        world.model.call(c, b, None, random.Random(i))
        for i, (c, b) in enumerate(zip(ctxs, bests, strict=True))
    ]
    runtime = VirtualRuntime(make_guard(domain=world.world.domain, config=default_config()))

    def timed(fn: Any) -> float:
        blocks = []
        for _ in range(5):
            t0 = time.perf_counter_ns()
            fn()
            blocks.append((time.perf_counter_ns() - t0) / n / 1000)
        return round(statistics.median(blocks), 2)

    def guard() -> None:
        for i, (c, call) in enumerate(zip(ctxs, calls, strict=True)):
            runtime.decide(
                c,
                now_ns=i * 10_000_000_000,
                output=call.text,
                latency_ms=None if call.latency_s is None else call.latency_s * 1000,
                ask_ahead_ms=3000.0,
                transport_error=call.error,
            )

    def context() -> None:
        for i, c in enumerate(ctxs):
            world.world.domain.context(c.order, "R1", stations[i % len(stations)])

    def engine() -> None:
        env = simpy.Environment()

        def proc(env: simpy.Environment) -> Any:
            for _ in range(n):
                yield env.timeout(1.0)

        env.process(proc(env))
        env.run()

    return {
        "guard_decide": timed(guard),
        "best_plan": timed(lambda: [world.world.optimal.plan(c) for c in ctxs]),
        "model_text": timed(
            lambda: [world.model.call(c, b, None, rng) for c, b in zip(ctxs, bests, strict=True)]
        ),
        "context": timed(context),
        "order": timed(lambda: [next(orders) for _ in range(n)]),
        "simpy_event": timed(engine),
    }


def workers_speedup(cycles: int) -> dict[str, Any]:
    cfg = SimConfig(
        profile=PROFILES["pilot"],
        cycles=cycles,
        controllers=("guarded",),
        cycles_per_replication=max(1, cycles // 8),
    )
    walls = {}
    for w in (1, 2):
        t0 = time.perf_counter()
        simulate(cfg, workers=w)
        walls[w] = time.perf_counter() - t0
    return {
        "cycles": cycles,
        "wall_s_workers_1": round(walls[1], 2),
        "wall_s_workers_2": round(walls[2], 2),
        "decisions_per_min_workers_1": round(cycles / walls[1] * 60),
        "decisions_per_min_workers_2": round(cycles / walls[2] * 60),
        "speedup": round(walls[1] / walls[2], 2),
    }


def run(cycles: int, rounds: int, workers_cycles: int) -> dict[str, Any]:
    guarded = Scene(SimConfig(profile=PROFILES["pilot"], cycles=cycles, controllers=("guarded",)))
    run_replication(guarded, 999, 2_000, None, (150.0,))  # warm-up
    one, one_cpu = per_minute(guarded, cycles, rounds, 0)
    three = Scene(SimConfig(profile=PROFILES["pilot"], cycles=cycles))
    all_three, _ = per_minute(three, cycles, rounds, 0)
    # A pool of orders (--order-pool): plans and contexts kept, a different stream of orders.
    pooled = Scene(
        SimConfig(
            profile=PROFILES["pilot"], cycles=cycles, controllers=("guarded",), order_pool=POOL
        )
    )
    run_replication(pooled, 998, POOL_WARM_UP, None, (150.0,))  # ~95 % of contexts made
    pool, pool_cpu = per_minute(pooled, cycles, rounds, 0)
    median = statistics.median(one)
    return {
        "bench": "sim",
        "machine": machine(),
        "profile": "pilot",
        "robots": 4,
        "cycles_per_round": cycles,
        "rounds": rounds,
        "guarded_decisions_per_min_one_core": round(median),
        "rounds_per_min": [round(x) for x in one],
        "guarded_decisions_per_cpu_min": round(statistics.median(one_cpu)),
        "rounds_per_cpu_min": [round(x) for x in one_cpu],
        "goal_per_min": GOAL_PER_MIN,
        "goal_met": median >= GOAL_PER_MIN,
        "order_pool": POOL,
        "order_pool_decisions_per_min_one_core": round(statistics.median(pool)),
        "order_pool_rounds_per_min": [round(x) for x in pool],
        "order_pool_decisions_per_cpu_min": round(statistics.median(pool_cpu)),
        "order_pool_goal_met": statistics.median(pool) >= GOAL_PER_MIN,
        "three_controllers_cycles_per_min": round(statistics.median(all_three)),
        "parts_us_per_call": parts_us(guarded, 2_000),
        "processes": workers_speedup(workers_cycles),
    }


def human(doc: dict[str, Any]) -> str:
    p = doc["processes"]
    parts = ", ".join(f"{k} {v} us" for k, v in doc["parts_us_per_call"].items())
    return "\n".join(
        [
            f"guarded decisions/min, one core: {doc['guarded_decisions_per_min_one_core']:,} "
            f"(goal {doc['goal_per_min']:,}: {'met' if doc['goal_met'] else 'NOT met'}); "
            f"rounds {doc['rounds_per_min']}; per minute of CPU time "
            f"{doc['guarded_decisions_per_cpu_min']:,}",
            f"with --order-pool {doc['order_pool']}: "
            f"{doc['order_pool_decisions_per_min_one_core']:,} (goal "
            f"{'met' if doc['order_pool_goal_met'] else 'NOT met'}); rounds "
            f"{doc['order_pool_rounds_per_min']}; per minute of CPU time "
            f"{doc['order_pool_decisions_per_cpu_min']:,}",
            f"three controllers: {doc['three_controllers_cycles_per_min']:,} cycles/min",
            f"per call: {parts}",
            f"--workers 2: {p['decisions_per_min_workers_2']:,}/min vs "
            f"{p['decisions_per_min_workers_1']:,}/min with 1 (x{p['speedup']}, start-up included)",
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--cycles", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers-cycles", type=int, default=200_000)
    args = ap.parse_args()
    emit(run(args.cycles, args.rounds, args.workers_cycles), args.json, human)


if __name__ == "__main__":
    main()
