"""The statistics every document uses, defined once: intervals, percentiles, detection latency,
histogram bins and sample sizes."""

from __future__ import annotations

import pytest

from plansentry.report.stats import (
    detect_ms,
    latency_bin,
    percentile,
    required_trials,
    slack_bin,
    wilson,
)


def test_wilson_matches_the_textbook_values() -> None:
    """The 95 % Wilson interval of 7/1000 and 0/100, and no trials at all."""
    lo, hi = wilson(7, 1000)  # 0.7 %
    assert lo == pytest.approx(0.003395, abs=1e-5) and hi == pytest.approx(0.014378, abs=1e-5)
    lo, hi = wilson(0, 100)
    assert lo == 0.0 and hi == pytest.approx(0.036995, abs=1e-5)
    assert wilson(0, 0) == (0.0, 1.0)


def test_percentile_is_nearest_rank() -> None:
    """p50 of 1..100 is 50, p99 is 99, order does not matter, no values give None."""
    xs = [float(x) for x in range(1, 101)]
    assert percentile(xs, 0.5) == 50.0
    assert percentile(xs, 0.99) == 99.0
    assert percentile(xs[::-1], 1.0) == 100.0
    assert percentile([], 0.5) is None
    assert percentile(iter([3.0, 1.0, 2.0]), 0.5) == 2.0


def test_required_trials_matches_the_normal_approximation() -> None:
    """n = z^2 (1 - p) / (rel^2 p)."""
    assert required_trials(0.01, 0.5) == 1522
    assert required_trials(0.00005, 0.2) == pytest.approx(1_920_668, rel=1e-3)


@pytest.mark.parametrize(
    ("decided", "point", "arrival", "timed_out", "expected"),
    [
        (110, 100, 90, False, 10.0),  # an answer asked ahead waits for its decision point
        (110, 100, 105, False, 5.0),  # an answer after the point is seen when it arrives
        (245, 100, None, True, 145.0),  # a timeout: from the decision point to the cut-off
        (245, 100, 240, True, 145.0),  # a late answer is a timeout all the same
    ],
)
def test_detect_ms_has_one_definition(
    decided: int, point: int, arrival: int | None, timed_out: bool, expected: float
) -> None:
    """From when the failure could first be seen (arrival, or the decision point) to the decision."""
    ms = 1_000_000
    got = detect_ms(
        decided * ms, point * ms, None if arrival is None else arrival * ms, timed_out=timed_out
    )
    assert got == expected


def test_histogram_bins_are_open_at_both_ends() -> None:
    """Latency bins are 100 ms up to 20 s and beyond; arrival bins run from -4 s to +2 s."""
    ms = 1_000_000
    assert latency_bin(99 * ms) == 0 and latency_bin(100 * ms) == 1
    assert latency_bin(60_000 * ms) == 200
    assert slack_bin(-10_000 * ms) == -80 and slack_bin(10_000 * ms) == 40
    assert slack_bin(-1 * ms) == -1 and slack_bin(0) == 0
