"""The real embedded model (SmolLM2-135M-Instruct through llama.cpp, plansentry's ``llm`` extra)
planning rware-tiny fetches: what it writes, how long it takes, and how the kit's gate judges it.

For ``--contexts`` seeded random moments on the tiny floor (``random_context``, 4 robots, 2
requests), it asks the model with the kit's prompt (constrained to the prompt's narrowed JSON
Schema unless ``--free``), times each answer, and judges it with the gate: accepted, or the
failure mode and the rules broken. Needs the project's ``.venv`` (``scripts/test.sh`` installs
llama-cpp-python and the model's wheel).

    .venv/bin/python kits/plansentry-rware/bench/embedded_model.py [--contexts 10] [--seed 1]
        [--free] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from typing import Any

from plansentry_rware import random_context, rware_kit, sized_layout

from plansentry.core.gate import Gate
from plansentry.planners.llamacpp import LlamaCppPlanner
from plansentry.runtime.planner import StopToken


def measure(contexts: int, seed: int, free: bool) -> dict[str, Any]:
    """Every figure the script prints, as one document (the text output is made from it)."""
    kit = rware_kit()
    assert kit.prompt is not None
    gate = Gate(kit.domain)
    planner = LlamaCppPlanner(kit.prompt, constrained=not free, n_ctx=4096)
    rng = random.Random(seed)
    layout = sized_layout("tiny")
    verdicts: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    answers: list[dict[str, Any]] = []
    for i in range(contexts):
        ctx = random_context(rng, layout, robots=4, requests=2, seq=i)
        t0 = time.perf_counter()
        text = planner(ctx, StopToken())
        seconds = time.perf_counter() - t0
        v = gate.check(text, len(text), ctx, ctx.version)
        verdict = v.mode.value if v.mode else "accepted"
        verdicts[verdict] += 1
        broken = sorted({x.rule for x in v.violations})
        rules.update(broken)
        answers.append(
            {
                "moment": i,
                "seconds": seconds,
                "verdict": verdict,
                "rules": broken,
                "shown": text[:160].decode(errors="replace").replace("\n", " "),
            }
        )
    all_seconds = [a["seconds"] for a in answers]
    return {
        "bench": "rware-embedded-model",
        "model": str(planner.model_path),
        "constrained": not free,
        "contexts": contexts,
        "seed": seed,
        "answers": answers,
        "verdicts": dict(verdicts),
        "rules": dict(rules),
        "seconds_min": min(all_seconds) if all_seconds else None,
        "seconds_max": max(all_seconds) if all_seconds else None,
    }


def text(doc: dict[str, Any]) -> str:
    """The text output: the document's figures, as the script always printed them."""
    out = [
        f"{a['moment']}: {a['seconds']:.1f} s, {a['verdict']}: {a['shown']}" for a in doc["answers"]
    ]
    out.append(f"\nmodel: {doc['model']}, constrained: {doc['constrained']}")
    out.append(f"verdicts: {doc['verdicts']}")
    out.append(f"rules broken (outputs breaking each): {doc['rules']}")
    if doc["answers"]:
        out.append(
            f"seconds per answer: min {doc['seconds_min']:.1f}, max {doc['seconds_max']:.1f}"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contexts", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--free", action="store_true", help="no grammar: the model writes freely")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")
    args = parser.parse_args()
    doc = measure(args.contexts, args.seed, args.free)
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(text(doc))


if __name__ == "__main__":
    main()
