"""The guard's uplift per quarter, as the pilot put it (report/fmli.py: Fleet, quarterly_uplift)."""

from __future__ import annotations

import pytest

from plansentry.core.errors import ConfigError
from plansentry.report.fmli import (
    PILOT_CLAIM_PER_QUARTER,
    Economics,
    Fleet,
    cost_per_decision,
    quarterly_uplift,
)
from plansentry.report.tally import Tally

FLEET = Fleet(robots=2, cycle_s=6.0, items_per_cycle=5.0)
MONEY = Economics(item_value=2.0, downtime_cost_per_hour=120.0)


def _tally(cycles: int, downtime_s: float, items_lost: int) -> Tally:
    return Tally(cycles=cycles, downtime_s=downtime_s, items_lost=items_lost)


def test_cost_per_decision_prices_standing_still_and_lost_items() -> None:
    """0.1 robot-hours standing (120 an hour plus 3,000 items an hour not picked at 2) and 10
    items lost, over 1,000 decisions: (0.1 * 6,120 + 20) / 1,000."""
    cost = cost_per_decision(_tally(1000, 360.0, 10), money=MONEY, fleet=FLEET)
    assert cost == pytest.approx(0.632)


def test_uplift_per_quarter_and_the_fleet_the_claim_implies() -> None:
    """0.632 a decision saved, 600 decisions an hour, 1,040 hours a quarter, 2 robots; the pilot's
    3M needs ceil(3e6 / 394,368) = 8 robots."""
    out = quarterly_uplift(_tally(1000, 360.0, 10), _tally(1000, 0.0, 0), money=MONEY, fleet=FLEET)
    assert out["uplift_per_robot_hour"] == pytest.approx(379.2)
    assert out["uplift_per_quarter"] == pytest.approx(788_736, abs=1)
    assert out["robots_for_claim"] == 8
    assert out["claim_per_quarter"] == PILOT_CLAIM_PER_QUARTER


def test_no_saving_implies_no_fleet() -> None:
    """When the guard saves nothing, no fleet reaches the claim: None, not a huge number."""
    same = _tally(100, 5.0, 0)
    out = quarterly_uplift(same, same, money=MONEY, fleet=FLEET)
    assert out["robots_for_claim"] is None and out["uplift_per_quarter"] == 0


@pytest.mark.parametrize(
    "kw",
    [
        {"robots": 0},
        {"robots": True},
        {"hours_per_shift": 0.0},
        {"shifts_per_day": 4.0, "hours_per_shift": 8.0},
        {"days_per_week": 8.0},
        {"cycle_s": float("nan")},
        {"items_per_cycle": -1.0},
    ],
    ids=["no-robots", "bool", "zero-shift", "30-hour-day", "8-day-week", "nan-cycle", "negative"],
)
def test_fleet_refuses_impossible_settings(kw) -> None:
    """A fleet that cannot exist is a ConfigError at construction, naming the setting."""
    with pytest.raises(ConfigError):
        Fleet(**kw)
