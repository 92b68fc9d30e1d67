"""The FMLI matrix: the risk-reduction factor."""

from __future__ import annotations

import math

from plansentry.report.fmli import risk_reduction
from plansentry.report.tally import Tally


def tally(cycles: int, halted: int) -> Tally:
    return Tally(cycles=cycles, halted_cycles=halted)


def test_risk_reduction_is_a_ratio_inf_or_none() -> None:
    assert risk_reduction(tally(1000, 7), tally(1000, 1)) == 7.0
    assert risk_reduction(tally(1000, 7), tally(1000, 0)) == "inf"
    assert risk_reduction(tally(1000, 0), tally(1000, 0)) is None
    assert risk_reduction(tally(0, 0), tally(1000, 0)) is None
    assert not math.isnan(risk_reduction(tally(2000, 7), tally(1000, 1)))
