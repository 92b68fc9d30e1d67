"""Coverage-guided fuzzing of the gate and the guard with atheris (libFuzzer for Python).

Each input is a latency (its first byte), whether the runtime stopped reading the output at the byte
cap (its second byte), and the model's output (the rest). The properties checked on every input:

1. no exception escapes the gate or the guard;
2. the gate's verdict is consistent: a plan exactly when there is no failure mode, and a violation
   naming the rule otherwise;
3. the guard's decision is on time (virtual time: decided by the deadline);
4. every plan the guard would execute passes every safety rule, judged by the independent
   cell-walking oracle (``sim/oracle.py``) and by the domain's rules;
5. memory stays bounded: libFuzzer's ``-rss_limit_mb`` stops the run if it is not (and
   ``-malloc_limit_mb`` on any single allocation).

Run (docs/RELIABILITY.md has the figures of a run):

    .venv/bin/python fuzz/fuzz_guard.py fuzz/corpus -max_total_time=600 -rss_limit_mb=1024

``fuzz/corpus`` starts from ``fuzz/seeds`` (valid plans and near misses); ``-atheris_runs=N`` stops
after N inputs. A crash writes ``crash-*`` with the input; ``tests/test_fuzz.py`` runs the target
briefly on every CI run.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from plansentry.core.decision import SafeMove
    from plansentry.domains.warehouse.examples import (
        DEFAULT_ROBOT,
        DEFAULT_START_STATION,
        default_order,
    )
    from plansentry.domains.warehouse.kit import make_guard
    from plansentry.domains.warehouse.map import default_map
    from plansentry.domains.warehouse.rules import WarehouseDomain
    from plansentry.domains.warehouse.safety import unsafe_reasons
    from plansentry.runtime.virtual import VirtualRuntime

WH = default_map()
DOMAIN = WarehouseDomain(WH)
CTX = DOMAIN.context(default_order(WH), DEFAULT_ROBOT, WH.pack_stations[DEFAULT_START_STATION])
GUARD = make_guard(domain=DOMAIN)
RUNTIME = VirtualRuntime(GUARD)
BUDGET_NS = GUARD.config.budget_ns
STEP_NS = 10 * BUDGET_NS  # decision points far apart
_n = 0


def test_one_input(data: bytes) -> None:
    global _n
    # Byte 0: latency (x 2 ms, 0-510 ms: before, around and after the cut-off); byte 1, bit 0: the
    # runtime stopped reading (true size over the cap); the rest: the model's output.
    latency_ms = 2 * data[0] if data else 0
    capped = len(data) > 1 and bool(data[1] & 1)
    output = data[2:]
    size = len(output) + (10**6 if capped else 0)

    verdict = GUARD.gate.check(output, size, CTX, CTX.version)
    if verdict.ok:
        assert verdict.plan is not None and not verdict.violations
    else:
        assert verdict.plan is None and verdict.violations, verdict

    _n += 1
    now = _n * STEP_NS
    d = RUNTIME.decide(CTX, now_ns=now, output=output, latency_ms=float(latency_ms))
    assert d.on_time, d
    if not isinstance(d.plan, SafeMove):
        assert not list(DOMAIN.check_rules(d.plan, CTX)), d.plan
        assert not unsafe_reasons(d.plan, CTX, WH, DOMAIN.router), d.plan
    if d.accepted:
        assert d.failure_mode is None


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
