"""The energy model: the estimate by hand, the reserve, and coefficients that cannot work."""

from __future__ import annotations

import math

import pytest
from plansentry_drone import EnergyModel

from plansentry.core.errors import ConfigError


def test_the_estimate_adds_distance_climb_hover_and_landing() -> None:
    """Up 60 m, 300 m east, down 20 m: flown 60 + 300 + 20 m, climbed 60 m, two points, landing."""
    model = EnergyModel(
        cruise_wh_per_m=0.01, climb_wh_per_m=0.1, hover_wh_per_point=2.0, landing_wh=3.0
    )
    waypoints = [(0.0, 0.0, 60.0), (300.0, 0.0, 60.0), (300.0, 0.0, 40.0)]
    got = model.estimate_wh((0.0, 0.0, 0.0), waypoints, hover_points=2)
    assert got == pytest.approx(0.01 * 380 + 0.1 * 60 + 2 * 2.0 + 3.0)


def test_a_sloped_leg_counts_its_length_and_its_climb() -> None:
    """A 3-4-5 leg rising 4 m: 5 m flown and 4 m climbed."""
    model = EnergyModel(cruise_wh_per_m=1.0, climb_wh_per_m=10.0, landing_wh=0.0)
    assert model.estimate_wh((0.0, 0.0, 20.0), [(3.0, 0.0, 24.0)], hover_points=0) == 45.0


def test_the_reserve_is_a_fraction_of_the_estimate() -> None:
    """80 Wh with a 25 % reserve needs 100 Wh."""
    assert EnergyModel(reserve_fraction=0.25).with_reserve_wh(80.0) == 100.0


@pytest.mark.parametrize(
    ("name", "value"),
    [("cruise_wh_per_m", -0.1), ("landing_wh", math.nan), ("reserve_fraction", 1.5)],
)
def test_a_coefficient_that_cannot_work_is_refused_naming_it(name: str, value: float) -> None:
    """Negative, NaN or a reserve over 100 %: ConfigError naming the coefficient."""
    with pytest.raises(ConfigError, match=name):
        EnergyModel(**{name: value})
