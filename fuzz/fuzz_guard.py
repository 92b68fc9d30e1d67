"""Coverage-guided fuzzing of the gate and the guard with atheris (libFuzzer for Python).

An input is three header bytes and a body:

- byte 0: which of ``N_CONTEXTS`` picking contexts (orders, closures, robots, starts) it answers;
- byte 1: the model's latency: values 0-223 arrive by the cut-off (0 to the point where the runtime
  stops waiting), 224-255 after it (up to 4 budgets);
- byte 2: bits 0-1 the body's kind (3: raw, else structured); bits 2-4 all set: the runtime stopped
  reading at the byte cap (the gate is told a true size over it);
- the body. *Raw*: the model's output, byte for byte. *Structured*: choices (an
  :class:`atheris.FuzzedDataProvider` reads them) that turn the classical planner's plan for the
  context into the model's output: picks reordered, dropped, repeated, re-binned or re-counted; a
  speed (kept, a zone's limit, just over one, any float, a crawl); via-points (free cells or any
  coordinates); the end; the ids; the wrapping (bare, fenced, prose, trailing comma, duplicate key).
  An exhausted body means "change nothing", so most structured inputs are plans that pass the gate:
  the safety property below is about plans that are really accepted, not about refusals.

The properties checked on every input (a failure is an uncaught exception: libFuzzer writes the
input to ``crash-*``):

1. no exception escapes the gate or the guard;
2. the gate's verdict is consistent: a plan exactly when there is no failure mode, a named
   violation otherwise;
3. every plan the gate accepts passes the independent safety checker
   (``domains/warehouse/safety.py``, which walks the cells the robot would drive and shares no rule
   code with the gate);
4. the guard, reset before each input (NOMINAL, breaker closed: the model is asked every time),
   executes the model's plan exactly when that plan arrived by the cut-off and passed the gate;
   whatever it executes (the model's plan or a fallback's) passes the domain's rules and the
   safety checker (that it decides on time is not checked here: in virtual time, with no fallback
   compute time, it cannot be late; the real-time tests check deadlines);
5. memory stays bounded: libFuzzer's ``-rss_limit_mb`` stops the run if it is not (and
   ``-malloc_limit_mb`` on any single allocation).

The target counts what it saw and prints it to stderr (``plansentry-fuzz: ...``): how many inputs
were structured, how many plans the gate accepted, how many the guard executed. It prints at inputs
1,024, 2,048, 4,096, ..., every 30 s, and at exit when ``-atheris_runs`` ends the run (a run ended by
``-max_total_time`` exits inside libFuzzer, which skips that: its last line is at most 30 s old).

Run (docs/RELIABILITY.md has the figures of a run):

    .venv/bin/python fuzz/fuzz_guard.py fuzz/corpus -max_total_time=600 -rss_limit_mb=1024

``fuzz/corpus`` starts from ``fuzz/seeds`` (structured inputs for several contexts; raw valid plans
and near misses); ``-atheris_runs=N`` stops after N inputs. ``--break-rule=NAME`` (before the
corpus) drops one rule's violations from the domain, to show that the fuzzer finds a broken rule.
``tests/test_fuzz.py`` runs the target on every CI run, and shows it finding broken rules.
"""

from __future__ import annotations

import atexit
import math
import os
import random
import sys
import time
from typing import Any, Final

import atheris
import msgspec

# atheris instruments Python bytecode, which the compiled build (plansentry._native) has none of:
# fuzz the pure-Python build, the same code, unless told otherwise (PLANSENTRY_PURE=0).
os.environ.setdefault("PLANSENTRY_PURE", "1")

# Coverage of plansentry's own code guides the fuzzer; instrumenting the standard library and the
# other packages it imports too would only slow the start (about 30 s instead of 6 s here).
with atheris.instrument_imports(include=["plansentry"]):
    from plansentry.core.decision import SafeMove
    from plansentry.core.failures import FailureMode, Violation
    from plansentry.domains.warehouse.classical import ClassicalPlanner
    from plansentry.domains.warehouse.examples import (
        DEFAULT_ROBOT,
        DEFAULT_START_STATION,
        default_order,
    )
    from plansentry.domains.warehouse.kit import make_guard
    from plansentry.domains.warehouse.map import default_map
    from plansentry.domains.warehouse.order import PickContext, make_order
    from plansentry.domains.warehouse.rules import RULES, WarehouseDomain
    from plansentry.domains.warehouse.safety import unsafe_reasons
    from plansentry.domains.warehouse.schema import Plan
    from plansentry.runtime.virtual import VirtualRuntime

N_CONTEXTS: Final = 16
LATE_FROM: Final = 224  # latency byte: below, the answer arrives by the cut-off
RAW: Final = 3  # kind bits of byte 2

WH = default_map()
DOMAIN = WarehouseDomain(WH)
CLASSICAL = ClassicalPlanner(DOMAIN.router)
GUARD = make_guard(domain=DOMAIN)
RUNTIME = VirtualRuntime(GUARD)
BUDGET_NS = GUARD.config.budget_ns
CUTOFF_MS = (BUDGET_NS - RUNTIME.early_wake_ns) / 1e6  # where the runtime stops waiting
STEP_NS = 10 * BUDGET_NS  # decision points far apart

BINS: Final = sorted(WH.bins)
STATIONS: Final = sorted(WH.pack_stations)
FREE_XY: Final = [WH.xy(c) for c in sorted(WH.free)]
LIMITS: Final = sorted(
    {WH.max_speed_mps} | {z.speed_limit_mps for z in WH.zones.values() if z.speed_limit_mps}
)


def _contexts() -> tuple[list[PickContext], list[Plan | None]]:
    """The example order, then orders drawn (seeded) with closures, robots and starts; the classical
    plan of each (``None`` where a closure blocks the order: no plan can pass there)."""
    ctxs = [
        DOMAIN.context(default_order(WH), DEFAULT_ROBOT, WH.pack_stations[DEFAULT_START_STATION])
    ]
    rng = random.Random(11)
    closable = sorted(z.name for z in WH.zones.values() if z.kind == "closable")
    blocked = 0
    while len(ctxs) < N_CONTEXTS:
        lines = [
            (f"SKU-{i}", b, rng.randint(1, 4))
            for i, b in enumerate(rng.sample(BINS, rng.randint(1, 8)))
        ]
        closed = rng.sample(closable, rng.randint(0, 2))
        order = make_order(f"F-{len(ctxs)}", lines, WH, closed_zones=closed)
        ctx = DOMAIN.context(order, f"R{rng.randint(1, 4)}", WH.pack_stations[rng.choice(STATIONS)])
        if CLASSICAL.plan(ctx).plan is None:
            if blocked == 2:  # two contexts no plan can serve are enough
                continue
            blocked += 1
        ctxs.append(ctx)
    return ctxs, [CLASSICAL.plan(c).plan for c in ctxs]


CONTEXTS, BASES = _contexts()

# What the run saw (printed at powers of two, every REPORT_EVERY_S and at exit).
REPORT_EVERY_S: Final = 30.0
NEXT_REPORT = [time.monotonic() + REPORT_EVERY_S]
COUNTS: dict[str, int] = dict.fromkeys(
    ("inputs", "structured", "gate_accepted", "structured_gate_accepted", "executed_model"), 0
)


def _report() -> None:
    n = COUNTS["inputs"]
    if not n:
        return
    s, g = COUNTS["structured"], COUNTS["gate_accepted"]
    print(
        f"plansentry-fuzz: inputs {n}, structured {s} ({s / n:.1%}), "
        f"gate accepted {g} ({g / n:.1%}; structured {COUNTS['structured_gate_accepted']}), "
        f"model plan executed {COUNTS['executed_model']} ({COUNTS['executed_model'] / n:.1%})",
        file=sys.stderr,
        flush=True,
    )


def _structured(fdp: atheris.FuzzedDataProvider, i: int) -> bytes:
    """The model's output: the context's classical plan, changed as the choices say."""
    ctx, base = CONTEXTS[i], BASES[i]
    if base is not None:
        picks = [[p.bin, p.sku, p.qty] for p in base.picks]
        speed, end = base.speed_mps, base.end
    else:
        picks = [[line.bin, line.sku, line.qty] for line in ctx.order.lines]
        speed, end = 0.5, STATIONS[0]
    for _ in range(fdp.ConsumeIntInRange(0, 3)):  # reorder
        a, b = fdp.ConsumeIntInRange(0, len(picks) - 1), fdp.ConsumeIntInRange(0, len(picks) - 1)
        picks[a], picks[b] = picks[b], picks[a]
    edit, k = fdp.ConsumeIntInRange(0, 15), fdp.ConsumeIntInRange(0, len(picks) - 1)
    if edit == 10 and len(picks) > 1:
        del picks[k]
    elif edit == 11:
        picks.append(list(picks[k]))
    elif edit == 12:
        picks[k][2] = fdp.ConsumeIntInRange(-1, 5)
    elif edit == 13:
        picks[k][0] = fdp.PickValueInList(BINS)
    elif edit == 14:
        picks.append([fdp.PickValueInList(BINS), "SKU-X", 1])
    elif edit == 15:
        picks[k][1] = "SKU-Y"
    choice = fdp.ConsumeIntInRange(0, 7)
    if choice == 4:
        speed = fdp.PickValueInList(LIMITS)
    elif choice == 5:
        speed = math.nextafter(fdp.PickValueInList(LIMITS), math.inf)
    elif choice == 6:
        speed = fdp.ConsumeFloatInRange(0.0001, 2.0)
    elif choice == 7:
        speed = fdp.ConsumeFloat()  # anything, NaN and infinities included
    via: list[list[int]] = []
    n_via = fdp.ConsumeIntInRange(0, 7)
    n_via = 0 if n_via >= 4 else fdp.ConsumeIntInRange(0, 40) if n_via == 3 else n_via
    for _ in range(n_via):
        if fdp.ConsumeIntInRange(0, 3) < 3:
            via.append(list(FREE_XY[fdp.ConsumeIntInRange(0, len(FREE_XY) - 1)]))
        else:
            via.append([fdp.ConsumeIntInRange(-2, WH.width + 1), fdp.ConsumeIntInRange(-2, 40)])
    choice = fdp.ConsumeIntInRange(0, 7)
    if choice == 6:
        end = fdp.PickValueInList(STATIONS)
    elif choice == 7:
        end = fdp.PickValueInList([*BINS[:4], "PACK-9", ""])
    ids = fdp.ConsumeIntInRange(0, 15)
    plan: dict[str, Any] = {
        "order_id": "EX-2" if ids == 15 else ctx.order.order_id,
        "robot_id": "R9" if ids == 14 else ctx.robot_id,
        "picks": [{"bin": b, "sku": s, "qty": q} for b, s, q in picks],
        "speed_mps": speed,
        "end": end,
    }
    if via:
        plan["via"] = via
    text = msgspec.json.encode(plan)
    wrap = fdp.ConsumeIntInRange(0, 7)
    if wrap == 4:
        return b"```json\n" + text + b"\n```"
    if wrap == 5:
        return b"Here is the plan: " + text + b" Drive safely."
    if wrap == 6:
        return text[:-1] + b",}"  # trailing comma: the repair step's
    if wrap == 7:
        return text[:-1] + b',"end":"PACK-1"}'  # a key given twice
    return text


def test_one_input(data: bytes) -> None:
    n = COUNTS["inputs"] = COUNTS["inputs"] + 1
    i = data[0] % N_CONTEXTS if data else 0
    lat = data[1] if len(data) > 1 else 0
    flags = data[2] if len(data) > 2 else 0
    ctx = CONTEXTS[i]
    if lat < LATE_FROM:
        latency_ms = lat * CUTOFF_MS / (LATE_FROM - 1)
    else:
        latency_ms = CUTOFF_MS + (lat - LATE_FROM + 1) * (4 * BUDGET_NS / 1e6 - CUTOFF_MS) / 32
    capped = (flags >> 2) & 7 == 7
    structured = flags & 3 != RAW
    if structured:
        COUNTS["structured"] += 1
        output = _structured(atheris.FuzzedDataProvider(data[3:]), i)
    else:
        output = data[3:]
    size = len(output) + (10**6 if capped else 0)

    verdict = GUARD.gate.check(output, size, ctx, ctx.version)
    if verdict.ok:
        assert verdict.plan is not None and not verdict.violations, verdict
        unsafe = unsafe_reasons(verdict.plan, ctx, WH, DOMAIN.router)
        assert not unsafe, (
            f"input {n}: the gate accepted a plan the safety checker refuses: {unsafe}"
        )
        COUNTS["gate_accepted"] += 1
        COUNTS["structured_gate_accepted"] += structured
    else:
        assert verdict.plan is None and verdict.violations, verdict
        assert not capped or verdict.mode is FailureMode.OVERSIZE, verdict

    GUARD.reset("fuzz input")  # NOMINAL, breaker closed: the model is asked for every input
    # the guard is handed the output at its true size (over the cap when capped), as the direct
    # call above was told
    handed = output + b" " * 10**6 if capped else output
    d = RUNTIME.decide(ctx, now_ns=n * STEP_NS, output=handed, latency_ms=latency_ms)
    expected = verdict.ok and latency_ms <= CUTOFF_MS
    assert d.accepted == expected, f"input {n}: accepted {d.accepted}, expected {expected}"
    if d.accepted:
        assert d.failure_mode is None, d
        COUNTS["executed_model"] += 1
    if not isinstance(d.plan, SafeMove):
        assert not list(DOMAIN.check_rules(d.plan, ctx)), d.plan
        unsafe = unsafe_reasons(d.plan, ctx, WH, DOMAIN.router)
        assert not unsafe, (
            f"input {n}: the guard executes a plan the safety checker refuses: {unsafe}"
        )
    if (n >= 1024 and n & (n - 1) == 0) or time.monotonic() >= NEXT_REPORT[0]:
        NEXT_REPORT[0] = time.monotonic() + REPORT_EVERY_S
        _report()


def break_rule(rule: str) -> None:
    """Drop ``rule``'s violations from the domain the gate and the guard use: a rule broken on
    purpose, to show the fuzzer finds it (``--break-rule=NAME``; ``tests/test_fuzz.py``)."""
    if rule not in RULES:
        raise SystemExit(
            f"--break-rule: no rule {rule!r}; the rules are {', '.join(sorted(RULES))}"
        )
    check_rules = DOMAIN.check_rules

    def broken(plan: Plan, ctx: PickContext) -> list[Violation]:
        return [v for v in check_rules(plan, ctx) if v.rule != rule]

    DOMAIN.check_rules = broken  # type: ignore[method-assign]


def main() -> None:
    argv = []
    for arg in sys.argv:
        if arg.startswith("--break-rule="):
            break_rule(arg.removeprefix("--break-rule="))
        else:
            argv.append(arg)
    atexit.register(_report)  # runs when -atheris_runs ends the run (libFuzzer's own exits skip it)
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
