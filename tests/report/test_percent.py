"""One formatter of a rate: as precise as it is known."""

from __future__ import annotations

import pytest

from plansentry.report.stats import percent, percent_range, wilson


def test_the_pilots_rates_read_as_the_story_tells_them() -> None:
    assert percent(0.007) == "0.70 %"
    assert percent(0.0005) == "0.050 %"
    assert percent(0.0071) == "0.71 %"


def test_the_interval_gets_places_until_its_ends_differ() -> None:
    assert percent(0.0017, (0.0012, 0.0024)) == "0.17 % (0.12-0.24 %)"
    assert percent(0.0071, (0.00708, 0.00712)) == "0.710 % (0.708-0.712 %)"


@pytest.mark.parametrize(("x", "n"), [(34, 20_000), (142, 20_000), (1, 2_000), (0, 500)])
def test_a_pilot_sized_count_never_prints_as_a_whole_percent_of_zero(x: int, n: int) -> None:
    lo, hi = wilson(x, n)
    text = percent(x / n, (lo, hi))
    assert not text.startswith("0 %") or x == 0
    ends = text.split("(")[1].rstrip(" %)").split("-")
    assert ends[0] != ends[1]


def test_none_seen_is_a_plain_zero_beside_its_upper_bound() -> None:
    lo, hi = wilson(0, 4_000)
    assert percent(0.0, (lo, hi)) == "0 % (0-0.096 %)"
    assert percent(0.0) == "0 %"


def test_a_range_alone_has_the_places_of_its_rate() -> None:
    assert percent_range((0.0012, 0.0024), 0.0017) == "0.12-0.24 %"
    assert percent_range((0.00708, 0.00712), 0.0071) == "0.708-0.712 %"
