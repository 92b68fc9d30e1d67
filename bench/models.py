"""The embedded model as a planner: latency and the share of outputs in each failure mode, per variant.

For each variant (prompt ``zero_shot``/``few_shot`` x decoding ``free``/``constrained``), the same
seeded orders (2 to 5 lines, random start station) are planned one at a time with nothing else
running; each output is judged by the whole gate as if it had arrived in time, so the shares describe
the model, not the deadline. Temperature 0, seed 0: deterministic per machine.

With ``--server``, the same model is served by ``llama_cpp.server`` on 127.0.0.1 (started and
stopped by the bench) and planned through :class:`OpenAICompatPlanner` over HTTP instead.

Usage: ``python bench/models.py [--json] [--orders 200] [--variants few_shot:constrained,...]
[--server]``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine
from plansentry.core.gate import Gate
from plansentry.domains.warehouse.map import default_map
from plansentry.domains.warehouse.prompts import PromptFor
from plansentry.domains.warehouse.rules import WarehouseDomain
from plansentry.domains.warehouse.world.orders import random_orders
from plansentry.planners.llamacpp import LlamaCppPlanner
from plansentry.planners.local_server import embedded_server
from plansentry.planners.openai_compat import OpenAICompatPlanner
from plansentry.runtime.planner import StopToken

ALL = "zero_shot:free,zero_shot:constrained,few_shot:free,few_shot:constrained"


def run_variant(
    variant: str,
    constrained: bool,
    orders: int,
    seed: int,
    threads: int | None,
    base_url: str | None = None,
) -> dict[str, Any]:
    wh = default_map()
    domain = WarehouseDomain(wh)
    gate = Gate(domain)
    planner: Any
    if base_url is None:
        planner = LlamaCppPlanner(
            PromptFor(wh, variant), constrained=constrained, n_threads=threads
        )
    else:
        remote = OpenAICompatPlanner(
            PromptFor(wh, variant), base_url=base_url, constrained=constrained, stall_s=30.0
        )

        def planner(ctx: Any, stop: StopToken) -> bytes:
            return asyncio.run(remote(ctx, stop))

    rng = random.Random(seed)
    source = random_orders(wh, rng)
    stations = sorted(wh.pack_stations.values())
    latencies: list[float] = []
    modes: collections.Counter[str] = collections.Counter()
    rules: collections.Counter[str] = collections.Counter()
    sizes: list[int] = []
    for _ in range(orders):
        ctx = domain.context(next(source), "R1", rng.choice(stations))
        t0 = time.perf_counter()
        out = planner(ctx, StopToken())
        latencies.append((time.perf_counter() - t0) * 1000)
        sizes.append(len(out))
        verdict = gate.check(out, len(out), ctx, ctx.version)
        modes[verdict.mode.value if verdict.mode else "passed"] += 1
        for v in {v.rule for v in verdict.violations}:
            rules[v] += 1
    ordered = sorted(latencies)
    return {
        "variant": variant,
        "path": "local llama-cpp-python" if base_url is None else "OpenAI-compatible HTTP",
        "decoding": "constrained" if constrained else "free",
        "orders": orders,
        "latency_ms_p50": round(statistics.median(ordered), 1),
        "latency_ms_p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "output_bytes_p50": int(statistics.median(sizes)),
        "share": {k: round(v / orders, 4) for k, v in sorted(modes.items())},
        "rules_broken": {k: round(v / orders, 4) for k, v in sorted(rules.items())},
    }


def human(doc: dict[str, Any]) -> str:
    out = [f"embedded model, {doc['orders']} orders per variant"]
    for r in doc["variants"]:
        out.append(
            f"  {r['variant']:9s} {r['decoding']:11s} p50 {r['latency_ms_p50']:7.0f} ms  p99 "
            f"{r['latency_ms_p99']:7.0f} ms  passed {r['share'].get('passed', 0):.1%}  {r['share']}"
        )
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--orders", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--variants", default=ALL, help=f"prompt:decoding, comma-separated ({ALL})")
    p.add_argument("--server", action="store_true", help="through llama_cpp.server over HTTP")
    args = p.parse_args()
    results = []
    with embedded_server() if args.server else contextlib.nullcontext() as base_url:
        for item in args.variants.split(","):
            variant, decoding = item.split(":")
            constrained = decoding == "constrained"
            results.append(
                run_variant(variant, constrained, args.orders, args.seed, args.threads, base_url)
            )
    doc = {
        "bench": "models",
        "machine": machine(),
        "orders": args.orders,
        "seed": args.seed,
        "model": "SmolLM2-135M-Instruct Q4_1 (embedded)",
        "variants": results,
    }
    emit(doc, args.json, human)


if __name__ == "__main__":
    main()
