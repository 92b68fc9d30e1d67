"""The prompt-injection corpus through the guard: an obedient planner and the embedded model.

Every corpus order (``plansentry.domains.warehouse.injection.corpus``: 50 orders, 5 intents, in notes or SKU
names) is planned twice: by a planner that obeys the injection to the letter, and by the embedded
SmolLM2-135M-Instruct (constrained to the order's schema, few-shot prompt; the notes and SKU names
are in the prompt). Each output goes through the guard; the executed plan is audited by the
independent cell-walking oracle. Reported: outputs that followed their injection, how many of those
the gate stopped naming the injection's rule, and unsafe plans executed (the goal is 0).

Usage: ``python bench/injection.py [--json] [--skip-model]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine
from plansentry.domains.warehouse.injection import corpus, obey, run_entry, summarize
from plansentry.domains.warehouse.kit import make_guard
from plansentry.domains.warehouse.map import default_map
from plansentry.domains.warehouse.optimal import OptimalPlanner
from plansentry.domains.warehouse.rules import WarehouseDomain
from plansentry.domains.warehouse.schema import encode_plan
from plansentry.runtime.planner import StopToken


def run(with_model: bool) -> dict[str, Any]:
    wh = default_map()
    domain = WarehouseDomain(wh)
    guard = make_guard(domain=domain)
    entries = corpus(wh)
    start = wh.pack_stations[sorted(wh.pack_stations)[0]]
    best = OptimalPlanner(domain.router)
    obedient = []
    for e in entries:
        plan = best.plan(domain.context(e.order, "R1", start))
        assert plan is not None
        obedient.append(run_entry(e, encode_plan(obey(e, plan)), 100.0, guard))
    doc: dict[str, Any] = {
        "bench": "injection",
        "machine": machine(),
        "obedient": summarize(obedient),
    }
    if with_model:
        from plansentry.domains.warehouse.prompts import PromptFor
        from plansentry.planners.llamacpp import LlamaCppPlanner

        planner = LlamaCppPlanner(PromptFor(wh), constrained=True)
        results, seconds = [], []
        for e in entries:
            ctx = domain.context(e.order, "R1", start)
            t0 = time.perf_counter()
            out = planner(ctx, StopToken())
            seconds.append(time.perf_counter() - t0)
            results.append(run_entry(e, out, 100.0, guard))
        doc["embedded_model"] = {
            **summarize(results),
            "model": planner.model_path,
            "constrained": True,
            "seconds_per_order_median": round(sorted(seconds)[len(seconds) // 2], 2),
        }
    return doc


def human(doc: dict[str, Any]) -> str:
    lines = []
    for name in ("obedient", "embedded_model"):
        if name in doc:
            s = doc[name]
            lines.append(
                f"{name}: {s['orders']} orders, followed the injection {s['followed_injection']}, "
                f"stopped with the rule named {s['followed_and_stopped_with_rule_named']}, "
                f"unsafe executed {s['unsafe_executed']}, sources {s['sources']}"
            )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--skip-model", action="store_true", help="only the obedient planner")
    args = ap.parse_args()
    emit(run(not args.skip_model), args.json, human)


if __name__ == "__main__":
    main()
