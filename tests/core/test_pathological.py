"""Hostile outputs: each refused with the right failure mode, quickly, without crashing the gate
(on the toy domain: the modes hold for any plan that is a JSON object)."""

from __future__ import annotations

import time

import pytest

from plansentry.core.gate import Gate
from plansentry.testing.hostile import hostile_outputs

CASES = hostile_outputs()


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_output_is_refused_fast(domain, ctx, name: str) -> None:
    """Right failure mode, well inside the budget."""
    raw, mode = CASES[name]
    gate = Gate(domain)
    t0 = time.perf_counter()
    verdict = gate.check(raw, len(raw), ctx, domain.version(ctx))
    elapsed_ms = (time.perf_counter() - t0) * 1000
    assert verdict.mode is mode, verdict.violations
    assert elapsed_ms < 100, f"{elapsed_ms:.1f} ms"
