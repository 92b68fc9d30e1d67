"""The FMLI matrix's statistics: intervals, percentiles and the risk-reduction factor."""

from __future__ import annotations

import math

import pytest

from plansentry.report.fmli import percentile, risk_reduction, wilson
from plansentry.sim.fleet import Tally


def test_wilson_matches_the_textbook_values() -> None:
    lo, hi = wilson(7, 1000)  # 0.7 %
    assert lo == pytest.approx(0.003395, abs=1e-5) and hi == pytest.approx(0.014378, abs=1e-5)
    lo, hi = wilson(0, 100)
    assert lo == 0.0 and hi == pytest.approx(0.036995, abs=1e-5)
    assert wilson(0, 0) == (0.0, 1.0)


def test_percentile_is_nearest_rank() -> None:
    xs = [float(x) for x in range(1, 101)]
    assert percentile(xs, 0.5) == 50.0
    assert percentile(xs, 0.99) == 99.0
    assert percentile(xs[::-1], 1.0) == 100.0
    assert percentile([], 0.5) is None


def tally(cycles: int, halted: int) -> Tally:
    return Tally(cycles=cycles, halted_cycles=halted)


def test_risk_reduction_is_a_ratio_inf_or_none() -> None:
    assert risk_reduction(tally(1000, 7), tally(1000, 1)) == 7.0
    assert risk_reduction(tally(1000, 7), tally(1000, 0)) == "inf"
    assert risk_reduction(tally(1000, 0), tally(1000, 0)) is None
    assert risk_reduction(tally(0, 0), tally(1000, 0)) is None
    assert not math.isnan(risk_reduction(tally(2000, 7), tally(1000, 1)))
