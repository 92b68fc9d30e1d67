"""Overrun past the deadline on stalled decisions while a CPU-burning Python thread runs.

Four ways to wait for a planner that stalls past its deadline, interleaved decision by decision:

- ``plansentry``: :class:`RealtimeRuntime.decide_now` with the warehouse guard (fallbacks computed,
  gate, decider, hand-over included); it stops waiting at the early wake its own measurements
  choose (:class:`~plansentry.runtime.wake.WakeEstimate`);
- ``plansentry_fixed``: the same with the fixed rule, ``reserve + wake_margin + 2 x switch
  interval`` (:class:`~plansentry.runtime.wake.FixedWake`: what the runtime did before);
- ``future_result``: ``concurrent.futures`` ``Future.result(timeout=budget)``;
- ``asyncio_wait_for``: ``asyncio.wait_for(stall, timeout=budget)`` on an event loop.

Overrun = the instant control is back with the caller minus the deadline (negative: early; its
opposite is "back before the deadline"). Run under each ``sys.setswitchinterval`` given (default
5 ms, CPython's own, and 0.5 ms, what ``RealtimeRuntime(switch_interval_s=...)`` can set). The
breaker is configured never to open, so every decision really waits out a stall. The model's
share of the budget is the time to the wake point over the budget.

Usage: ``python bench/deadline.py [--json] [--decisions 2000] [--budget-ms 40]``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

from _common import emit, machine
from plansentry.core.breaker import BreakerConfig
from plansentry.domains.warehouse.examples import default_order
from plansentry.domains.warehouse.kit import default_config, make_guard
from plansentry.runtime.planner import StopToken
from plansentry.runtime.realtime import RealtimeRuntime
from plansentry.runtime.wake import FixedWake

NEVER_OPEN = BreakerConfig(consecutive_failures=10**9, window=10**6, min_calls=10**6)


def burn(stop: threading.Event) -> None:
    """Pure-Python work that holds the GIL as long as the interpreter lets it."""
    x = 0
    while not stop.is_set():
        for i in range(10_000):
            x += i * i


def stats_ms(samples_ns: list[int]) -> dict[str, float]:
    s = sorted(samples_ns)
    return {
        "p50_ms": round(statistics.median(s) / 1e6, 3),
        "p99_ms": round(s[min(len(s) - 1, int(len(s) * 0.99))] / 1e6, 3),
        "max_ms": round(s[-1] / 1e6, 3),
        "n": len(s),
    }


def run_one_interval(decisions: int, budget_ms: float, interval_s: float) -> dict[str, Any]:
    sys.setswitchinterval(interval_s)
    cfg = default_config(
        budget_ms=budget_ms, reserve_ms=3.0, wake_margin_ms=1.0, breaker=NEVER_OPEN
    )
    guard = make_guard(config=cfg)
    wh = guard.domain.wh  # type: ignore[attr-defined]
    ctx = guard.domain.context(default_order(wh), "R1", wh.pack_stations["PACK-1"])  # type: ignore[attr-defined]
    runtime = RealtimeRuntime(guard, workers=2)
    fixed_ns = int(cfg.early_wake_ms(interval_s) * 1_000_000)
    fixed = RealtimeRuntime(make_guard(config=cfg), workers=2, wake=FixedWake(fixed_ns))
    budget_ns = int(budget_ms * 1e6)

    def stall(_ctx: Any, stop: StopToken) -> bytes:
        stop.wait(10.0)
        return b""

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    release = threading.Event()
    loop = asyncio.new_event_loop()

    async def async_stall() -> None:
        await asyncio.sleep(10)

    async def wait_for_once(deadline: int) -> int:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(async_stall(), timeout=budget_ms / 1000)
        return time.monotonic_ns() - deadline

    over: dict[str, list[int]] = {
        "plansentry": [],
        "plansentry_fixed": [],
        "future_result": [],
        "asyncio_wait_for": [],
    }
    late = {"plansentry": 0, "plansentry_fixed": 0}
    early_ms: list[float] = []
    stop_burn = threading.Event()
    burner = threading.Thread(target=burn, args=(stop_burn,), daemon=True)
    burner.start()
    try:
        for _ in range(decisions):
            for name, rt in (("plansentry", runtime), ("plansentry_fixed", fixed)):
                deadline = time.monotonic_ns() + budget_ns
                if rt is runtime:
                    early_ms.append(rt.early_wake_ms)
                d = rt.decide_now(ctx, stall, deadline_ns=deadline)
                back = time.monotonic_ns()
                over[name].append(back - deadline)
                late[name] += back > deadline or not d.on_time

            release.clear()
            deadline = time.monotonic_ns() + budget_ns
            fut = pool.submit(release.wait, 10.0)
            with contextlib.suppress(concurrent.futures.TimeoutError):
                fut.result(timeout=budget_ms / 1000)
            over["future_result"].append(time.monotonic_ns() - deadline)
            release.set()

            deadline = time.monotonic_ns() + budget_ns
            over["asyncio_wait_for"].append(loop.run_until_complete(wait_for_once(deadline)))
    finally:
        stop_burn.set()
        burner.join()
        release.set()
        pool.shutdown(wait=True)
        loop.close()
        runtime.close()
        fixed.close()
    early_ms.sort()
    return {
        "switch_interval_ms": interval_s * 1000,
        "overrun": {name: stats_ms(s) for name, s in over.items()},
        "plansentry_decisions_after_deadline": late["plansentry"],
        "plansentry_fixed_decisions_after_deadline": late["plansentry_fixed"],
        "early_wake_ms": {
            "fixed_rule": round(fixed_ns / 1e6, 3),
            "measured_p50": round(statistics.median(early_ms), 3),
            "measured_max": round(early_ms[-1], 3),
            "measured_last": round(runtime.early_wake_ms, 3),
            "largest_handback_ms": round(runtime.wake.largest_ns / 1e6, 3),  # type: ignore[attr-defined]
        },
        "model_share_of_budget": {
            "measured_p50": round(1 - statistics.median(early_ms) / budget_ms, 4),
            "fixed_rule": round(1 - fixed_ns / 1e6 / budget_ms, 4),
        },
    }


def run(decisions: int, budget_ms: float, intervals: list[float]) -> dict[str, Any]:
    original = sys.getswitchinterval()
    try:
        runs = [run_one_interval(decisions, budget_ms, s) for s in intervals]
    finally:
        sys.setswitchinterval(original)
    goals = {}
    for r in runs:
        ours = r["overrun"]["plansentry"]
        goals[f"switch_{r['switch_interval_ms']:g}ms"] = {
            "back_p50_within_5pct_of_budget": -ours["p50_ms"] <= 0.05 * budget_ms,
            "none_late": r["plansentry_decisions_after_deadline"] == 0,
            "p99_overrun_at_most_1ms": ours["p99_ms"] <= 1.0,
        }
    return {
        "bench": "deadline",
        "machine": machine(),
        "load_average": list(os.getloadavg()),
        "decisions": decisions,
        "budget_ms": budget_ms,
        "runs": runs,
        "goals": goals,
    }


def human(doc: dict[str, Any]) -> str:
    out = [
        f"deadline bench: {doc['decisions']} stalled decisions, budget {doc['budget_ms']} ms, "
        "one CPU-burning thread; overrun past the deadline (negative = early)"
    ]
    for r in doc["runs"]:
        out.append(
            f"\nswitch interval {r['switch_interval_ms']:g} ms        p50 ms    p99 ms    max ms"
        )
        for name, s in r["overrun"].items():
            out.append(f"  {name:20s} {s['p50_ms']:9.3f} {s['p99_ms']:9.3f} {s['max_ms']:9.3f}")
        out.append(
            f"  decisions after their deadline: plansentry {r['plansentry_decisions_after_deadline']},"
            f" plansentry_fixed {r['plansentry_fixed_decisions_after_deadline']}"
        )
        out.append(
            f"  early wake ms: {r['early_wake_ms']}; model's share: {r['model_share_of_budget']}"
        )
    out.append(f"\ngoals: {doc['goals']}")
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--decisions", type=int, default=2000)
    p.add_argument("--budget-ms", type=float, default=40.0)
    p.add_argument("--switch-intervals-ms", default="5,0.5", help="comma-separated, in ms")
    args = p.parse_args()
    intervals = [float(x) / 1000 for x in args.switch_intervals_ms.split(",")]
    emit(run(args.decisions, args.budget_ms, intervals), args.json, human)


if __name__ == "__main__":
    main()
