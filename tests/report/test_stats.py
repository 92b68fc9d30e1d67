"""The statistics every document uses, defined once: intervals, percentiles, detection latency,
histogram bins and sample sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plansentry.report.stats import (
    detect_ms,
    latency_bin,
    percentile,
    ratio_interval,
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


def test_ratio_interval_agrees_with_the_log_interval_when_counts_are_large() -> None:
    """With thousands of events on both sides MOVER-R and the Katz log interval coincide."""
    x1, n1, x2, n2 = 3_600, 500_000, 250, 500_000
    lo, hi = ratio_interval(x1, n1, x2, n2)
    ratio = (x1 / n1) / (x2 / n2)
    se = math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
    assert lo == pytest.approx(ratio * math.exp(-1.96 * se), rel=1e-3)
    assert hi == pytest.approx(ratio * math.exp(1.96 * se), rel=1e-3)
    assert lo < ratio < hi


@pytest.mark.parametrize(
    ("x1", "x2", "lo_is", "hi_is"),
    [
        (3_600, 0, "finite", "inf"),  # no event below: a lower bound only
        (0, 40, "zero", "finite"),  # no event above: an upper bound only
        (0, 0, "zero", "inf"),  # nothing to say
    ],
)
def test_ratio_interval_without_events_on_one_side(x1, x2, lo_is, hi_is) -> None:
    """A zero count is a one-sided interval, never a division by zero."""
    n = 500_000
    lo, hi = ratio_interval(x1, n, x2, n)
    assert {"zero": lo == 0.0, "finite": 0.0 < lo < math.inf}[lo_is]
    assert {"inf": hi == math.inf, "finite": 0.0 < hi < math.inf}[hi_is]
    if lo_is == "finite" and hi_is == "inf":  # sqrt(l1 (2 p1 - l1)) / u2
        l1 = wilson(x1, n)[0]
        assert lo == pytest.approx(math.sqrt(l1 * (2 * x1 / n - l1)) / wilson(0, n)[1])


def test_ratio_interval_covers_the_true_ratio_about_95_percent_of_the_time() -> None:
    """2,000 seeded binomial pairs (p1 = 1 %, p2 = 0.2 %, n = 5,000 each): coverage near 95 %."""
    rng = np.random.default_rng(11)
    n, p1, p2 = 5_000, 0.01, 0.002
    xs1, xs2 = rng.binomial(n, p1, 2_000), rng.binomial(n, p2, 2_000)
    covered = sum(
        lo <= p1 / p2 <= hi
        for lo, hi in (ratio_interval(int(a), n, int(b), n) for a, b in zip(xs1, xs2, strict=True))
    )
    assert 0.93 <= covered / 2_000 <= 0.975


def test_replication_interval_is_students_t_over_the_seeds() -> None:
    from plansentry.report.stats import replication_interval

    lo, hi = replication_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    # mean 3, sd sqrt(2.5), t(0.975, 4) = 2.7764: half-width 1.9632
    assert (lo, hi) == pytest.approx((1.0368, 4.9632), abs=1e-4)
    assert replication_interval([2.0, 2.0]) == (2.0, 2.0)
    with pytest.raises(ValueError, match="at least two"):
        replication_interval([1.0])
