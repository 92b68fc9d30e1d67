"""Fitting a model from its decisions (report/fit.py): latency with scipy.stats on censored
samples, fault rates with simultaneous intervals, and warnings for what a log cannot show.
Samples are drawn with seeded numpy generators."""

from __future__ import annotations

import numpy as np
import pytest

from plansentry.core.errors import InputError
from plansentry.report.fit import (
    MIN_LATENCIES,
    LatencyFit,
    Observations,
    bonferroni_z,
    fit_latency,
    fit_rates,
)
from plansentry.report.stats import Z95

PILOT = {"median_s": 0.9, "sigma": 0.45, "tail_p": 0.005, "tail_min_s": 2.5, "tail_alpha": 1.6}


def profile_sample(n: int, seed: int, **kw: float) -> np.ndarray:
    """Latencies as the simulator's synthetic model draws them: log-normal, Pareto tail."""
    p = {**PILOT, **kw}
    rng = np.random.default_rng(seed)
    body = rng.lognormal(np.log(p["median_s"]), p["sigma"], n)
    tail = p["tail_min_s"] * (1 + rng.pareto(p["tail_alpha"], n))
    return np.where(rng.random(n) < p["tail_p"], tail, body)


def truth_quantile(q: float, **kw: float) -> float:
    """The profile's own latency quantile (its distribution, not a sample)."""
    p = {**PILOT, **kw}
    return LatencyFit(**p, stall_p=0.0, n_exact=0, n_censored=0, aic=0.0).quantile(q)


@pytest.fixture(scope="module")
def pilot_fit() -> LatencyFit:
    return fit_latency(profile_sample(50_000, 1).tolist())


@pytest.mark.parametrize("q", [0.5, 0.9, 0.99])
def test_uncensored_sample_recovers_the_profile_quantiles(pilot_fit, q: float) -> None:
    """50,000 pilot latencies: the fitted p50, p90 and p99 within 5 % of the profile's."""
    assert pilot_fit.quantile(q) == pytest.approx(truth_quantile(q), rel=0.05)


def test_heavy_tail_is_found_and_fitted() -> None:
    """A 2 % Pareto tail (alpha 1.3) above 2 s: a tail is kept, its alpha within 25 %."""
    x = profile_sample(50_000, 2, tail_p=0.02, tail_min_s=2.0, tail_alpha=1.3)
    fit = fit_latency(x.tolist())
    assert fit.tail_p > 0
    assert fit.tail_alpha == pytest.approx(1.3, rel=0.25)
    assert fit.quantile(0.99) == pytest.approx(
        truth_quantile(0.99, tail_p=0.02, tail_min_s=2.0, tail_alpha=1.3), rel=0.1
    )


def test_censored_calls_and_stalls_are_told_apart() -> None:
    """Answers censored at a wait drawn from 5-60 s, and 1 % of calls that never answer: the
    stall share is found (within 30 %) and the latency's median within 3 %."""
    rng = np.random.default_rng(3)
    x = profile_sample(40_000, 4)
    x = np.where(rng.random(len(x)) < 0.01, np.inf, x)
    wait = rng.uniform(5, 60, len(x))
    seen = x <= wait
    fit = fit_latency(x[seen].tolist(), wait[~seen].tolist())
    assert fit.stall_p == pytest.approx(0.01, rel=0.3)
    assert fit.quantile(0.5) == pytest.approx(PILOT["median_s"], rel=0.03)
    assert fit.ks_pvalue is None  # no p-value under censoring: the distance only


def test_nothing_censored_means_no_stall() -> None:
    """Every answer seen: the stall share is exactly 0 (nothing to explain)."""
    assert fit_latency(profile_sample(2_000, 5).tolist()).stall_p == 0.0


def test_small_sample_has_no_tail_and_says_so() -> None:
    """25 latencies: a log-normal alone, and a warning that the log is too small for a tail."""
    fit = fit_latency(profile_sample(25, 6).tolist())
    assert fit.tail_p == 0.0
    assert any("too small to estimate a tail" in w for w in fit.warnings)


def test_goodness_of_fit_flags_a_wrong_shape() -> None:
    """A uniform sample is no log-normal: the Kolmogorov-Smirnov p-value is below 1 %, while a
    log-normal sample of the same size passes at 1 %."""
    rng = np.random.default_rng(7)
    bad = fit_latency(rng.uniform(0.5, 5.0, 5_000).tolist())
    good = fit_latency(rng.lognormal(0.0, 0.5, 5_000).tolist())
    assert bad.ks_pvalue is not None and bad.ks_pvalue < 0.01
    assert good.ks_pvalue is not None and good.ks_pvalue > 0.01


def test_too_few_latencies_is_an_input_error() -> None:
    """Fewer answers than MIN_LATENCIES: no fit, one message saying why."""
    with pytest.raises(InputError, match="too few"):
        fit_latency([1.0] * (MIN_LATENCIES - 1))


def test_quantile_table_compares_sample_and_fit() -> None:
    """The table's p50 row: the sample's median and the fit's, both near 0.9 s."""
    fit = fit_latency(profile_sample(10_000, 8).tolist())
    q, empirical, fitted = fit.quantiles[0]
    assert q == 0.5
    assert empirical == pytest.approx(0.9, rel=0.03) and fitted == pytest.approx(0.9, rel=0.03)


def _observed(kinds: dict[str, int], answers: int) -> Observations:
    obs = Observations(answers=answers)
    obs.kinds.update(kinds)
    return obs


def test_bonferroni_widens_with_the_number_of_rates() -> None:
    """One rate: the plain 95 % quantile; eight: wider."""
    assert bonferroni_z(1) == pytest.approx(Z95)
    assert bonferroni_z(8) > bonferroni_z(2) > Z95


def test_rates_carry_both_intervals() -> None:
    """100 of 10,000: 1 %, its Wilson interval inside the simultaneous one."""
    (r,) = fit_rates(_observed({"malformed": 100}, 10_000), ["malformed"], also=7)
    assert r.rate == pytest.approx(0.01)
    assert r.simultaneous_ci95[0] < r.ci95[0] < 0.01 < r.ci95[1] < r.simultaneous_ci95[1]
    assert r.too_small == ""


@pytest.mark.parametrize(
    ("count", "n", "needle"),
    [(0, 500, "only an upper bound"), (2, 500, "wider than the rate"), (0, 0, "no answer")],
    ids=["none-seen", "wide", "no-answers"],
)
def test_rates_the_log_cannot_estimate_say_why(count: int, n: int, needle: str) -> None:
    """A rate never seen, or with an interval wider than itself, is named with the reason."""
    (r,) = fit_rates(_observed({"stale": count}, n), ["stale"])
    assert needle in r.too_small
