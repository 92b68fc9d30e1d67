"""Fitting a model's behaviour from its decisions: fault rates with intervals, and its latency.

Generic over domains; a domain's command turns the fit into its simulator's profile (the
warehouse's ``plansentry fit``). Needs scipy (``pip install 'plansentry[fit]'``).

What a log shows of each request (:func:`observe`):

- an answer that arrived, in time or not (a ``late_answer`` record, or an output after the
  cut-off): its latency, from asking to arriving, exactly; its text, judged by the kit's gate as if
  it had come in time, is one observation for the fault rates (``classify`` names its fault);
- a failed call: one observation of the ``transport`` fault, and its latency (``transport_s``);
- a call the guard stopped waiting for, whose answer nobody saw: its latency is only known to
  exceed the wait (right-censored at the decision, from asking), and its text is unknown, so it is
  no observation for the fault rates (this assumes, as the simulator's profiles do, that a fault
  does not depend on how long the answer takes);
- a decision the breaker took without asking: nothing at all.

Rates (:func:`fit_rates`) are counts over the observed answers with a 95 % Wilson interval
(:func:`~plansentry.report.stats.wilson`) and a simultaneous one over all the rates (Bonferroni);
a rate the log is too small to estimate (none seen, or an interval wider than the rate) is named in
a warning. The latency (:func:`fit_latency`) is the profile's shape, a log-normal body with, if the
log has enough answers above a threshold, a Pareto tail above it, fitted by maximum likelihood on
the censored sample (scipy.stats ``CensoredData``, ``lognorm``, ``pareto``; the mixture's likelihood
maximised with scipy.optimize), the threshold chosen by AIC among upper quantiles. Goodness of
fit: a quantile table (Kaplan-Meier from ``scipy.stats.ecdf`` against the fit) and the
Kolmogorov-Smirnov distance (``scipy.stats.kstest`` when nothing is censored, with its p-value,
optimistic since the parameters come from the same sample; else the largest gap between the
Kaplan-Meier and fitted distributions, without a p-value).
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, final

import numpy as np
from scipy import optimize, special, stats  # type: ignore[import-untyped]

from plansentry.core.errors import InputError, KitError
from plansentry.core.gate import Gate
from plansentry.report.decisions import Answer, Section, answer_of, load_identity
from plansentry.report.stats import Z95, percent, percent_range, required_trials, wilson
from plansentry.report.stats import rounded as _r
from plansentry.runtime.config import GuardConfig
from plansentry.runtime.kit import DomainKit
from plansentry.telemetry.reader import Refused

#: The quantiles the goodness-of-fit table compares.
QUANTILES: Final = (0.5, 0.9, 0.95, 0.99)
#: Fewest answers above a threshold for a Pareto tail to be fitted there.
MIN_TAIL: Final = 10
#: Upper quantiles of the answered latencies tried as the tail's threshold (the tail's scale,
#: which the likelihood cannot move smoothly: the Pareto's support starts there).
TAIL_THRESHOLDS: Final = tuple(round(0.85 + i * 0.145 / 11, 4) for i in range(12))
#: A fitted Pareto tail steeper than this is no tail (a point mass at its threshold): dropped.
MAX_ALPHA: Final = 20.0
#: How much better (lower) a tail's AIC must be than the body's alone for the tail to be kept.
AIC_MARGIN: Final = 6.0
#: Most latencies the mixture's likelihood is maximised on (:func:`_thinned`).
MAX_MIXTURE_SAMPLE: Final = 20_000
#: Fewest exact latencies for a fit at all.
MIN_LATENCIES: Final = 5
GOOD: Final = ""

#: How an answer shows a fault: its fault kind, ``GOOD`` for a good plan, ``None`` for none of
#: the profile's kinds.
Classify = Callable[[Answer], str | None]


@final
@dataclass
class Observations:
    """What a set of decisions shows of the model (see the module docstring)."""

    exact_s: list[float] = field(default_factory=list)  # latencies of answers that came
    censored_s: list[float] = field(default_factory=list)  # latency only known to exceed these
    transport_s: list[float] = field(default_factory=list)  # latencies of failed calls
    kinds: collections.Counter[str] = field(default_factory=collections.Counter)
    answers: int = 0  # observations for the fault rates: judged outputs and failed calls
    unmapped: collections.Counter[str] = field(default_factory=collections.Counter)
    decisions: int = 0
    not_asked: int = 0
    reruns: int = 0
    notes: list[str] = field(default_factory=list)
    #: every line that could not be read or used, torn tails too, in the order met
    refused: list[Refused] = field(default_factory=list)


def observe(
    sections: Iterable[Section],
    classify: Classify,
    *,
    kits: Callable[[Any], DomainKit[Any, Any]] = load_identity,
) -> Observations:
    """Every request of ``sections``, as the module docstring says. Sections whose kit cannot be
    built (it judges late answers) raise :class:`InputError`."""
    obs = Observations()
    for section in sections:
        obs.refused.extend(section.refused)
        if not section.rows and section.kit is None:
            continue  # a log with no header that could be read: its lines are refused above
        if section.kit is None or section.config is None:
            raise InputError(
                f"{section.path}: no kit or guard configuration in it ({section.origin}): fit "
                "needs an audit log or a demo --json document"
            )
        try:
            kit = kits(section.kit)
        except (KitError, KeyError) as exc:
            raise InputError(f"{section.path}: cannot build its kit: {exc}") from None
        config = GuardConfig.from_json(section.config)
        gate = Gate(kit.domain, config.gate)
        for row in section.rows:
            ctx = None
            if row.context is not None:
                try:
                    ctx = kit.codec.context_from_json(row.context)
                except InputError as exc:
                    obs.refused.append(
                        Refused(section.path, row.line, f"a decision's context: {exc}")
                    )
                    continue
            obs.decisions += 1
            d = row.decision
            if ctx is None:
                continue
            answer, _why = answer_of(row, ctx, gate)
            if answer is None:
                if d.get("consulted") and d.get("asked_ns") is not None:
                    obs.censored_s.append((int(d["decided_ns"]) - int(d["asked_ns"])) / 1e9)
                else:
                    obs.not_asked += 1
                continue
            obs.reruns += answer.rerun
            latency = (answer.at_ns - answer.asked_ns) / 1e9
            obs.answers += 1
            if answer.text is None:
                obs.transport_s.append(latency)
                obs.kinds["transport"] += 1
                continue
            obs.exact_s.append(latency)
            kind = classify(answer)
            if kind is None:
                why = f"{answer.mode}: {', '.join(sorted(answer.rules)) or 'no rule'}"
                obs.unmapped[why] += 1
            else:
                obs.kinds[kind] += 1
    return obs


@final
@dataclass(frozen=True, slots=True)
class RateFit:
    """One fault's rate: ``count`` of ``n`` observed answers, 95 % intervals (its own and the
    simultaneous one over every rate fitted), and why the log cannot estimate it (empty if it can)."""

    kind: str
    count: int
    n: int
    rate: float
    ci95: tuple[float, float]
    simultaneous_ci95: tuple[float, float]
    too_small: str = ""
    seen_share: float = 1.0  # the share of this fault that shows (rate and intervals divided by it)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "seen_share": _r(self.seen_share, 4),
            "count": self.count,
            "n": self.n,
            "rate": _r(self.rate, 6),
            "ci95": [_r(self.ci95[0], 6), _r(self.ci95[1], 6)],
            "simultaneous_ci95": [
                _r(self.simultaneous_ci95[0], 6),
                _r(self.simultaneous_ci95[1], 6),
            ],
            "too_small": self.too_small,
        }


def bonferroni_z(k: int, level: float = 0.95) -> float:
    """The two-sided normal quantile for ``k`` simultaneous intervals at ``level`` together."""
    return float(stats.norm.ppf(1 - (1 - level) / (2 * max(1, k))))


def fit_rates(obs: Observations, kinds: Sequence[str], *, also: int = 0) -> list[RateFit]:
    """The rate of each of ``kinds`` over the observed answers, its simultaneous interval over
    ``len(kinds) + also`` rates (``also``: rates the caller fits elsewhere, the stall share)."""
    z = bonferroni_z(len(kinds) + also)
    return [rate_fit(kind, obs.kinds.get(kind, 0), obs.answers, z=z) for kind in kinds]


def rate_fit(kind: str, count: int, n: int, *, z: float) -> RateFit:
    """``count`` of ``n``, with its 95 % Wilson interval, its interval at ``z`` (simultaneous),
    and why the log is too small to estimate it (none seen, or an interval wider than the rate)."""
    lo, hi = wilson(count, n)
    slo, shi = wilson(count, n, z)
    rate = count / n if n else 0.0
    why = ""
    if n == 0:
        why = "no answer was observed"
    elif count == 0:
        why = f"0 of {n}: only an upper bound ({percent(hi)} at 95 %)"
    elif (hi - lo) / 2 > 0.5 * rate:
        need = required_trials(rate, 0.5, Z95)
        why = (
            f"{count} of {n}: 95 % interval {percent_range((lo, hi), rate)}, wider than the rate; about "
            f"{need:,} would give +-50 %"
        )
    return RateFit(kind, count, n, rate, (lo, hi), (slo, shi), why)


@final
@dataclass(frozen=True, slots=True)
class LatencyFit:
    """The fitted latency (seconds): log-normal body (``median_s``, ``sigma``) and, with
    probability ``tail_p``, ``tail_min_s`` times a Pareto(``tail_alpha``) variate; ``stall_p``, the
    share of calls that never answered (beyond what that latency explains of the censored ones);
    how well it fits; and what the sample could not support (``warnings``).

    ``quantiles``: ``(q, empirical, fitted)`` of every call's latency, a stall counting as never
    (Kaplan-Meier against the fit), for the goodness of fit; :meth:`quantile` is the latency of a
    call that answers (the profile's).
    """

    median_s: float
    sigma: float
    tail_p: float
    tail_min_s: float
    tail_alpha: float
    stall_p: float
    n_exact: int
    n_censored: int
    aic: float
    quantiles: tuple[tuple[float, float | None, float | None], ...] = ()
    ks_statistic: float = 0.0
    ks_pvalue: float | None = None
    warnings: tuple[str, ...] = ()

    def cdf(self, x: Any) -> Any:
        """The latency's distribution function, for calls that answer."""
        body = stats.lognorm(s=self.sigma, scale=self.median_s)
        tail = stats.pareto(b=self.tail_alpha, scale=self.tail_min_s)
        return (1 - self.tail_p) * body.cdf(x) + self.tail_p * tail.cdf(x)

    def quantile(self, q: float) -> float:
        """The latency's ``q`` quantile (seconds), for calls that answer."""
        return _quantile(self.cdf, q, self.median_s)

    def to_json(self) -> dict[str, Any]:
        return {
            "median_s": _r(self.median_s, 6),
            "sigma": _r(self.sigma, 6),
            "tail_p": _r(self.tail_p, 6),
            "tail_min_s": _r(self.tail_min_s, 6),
            "tail_alpha": _r(self.tail_alpha, 6),
            "stall_p": _r(self.stall_p, 8),
            "n_exact": self.n_exact,
            "n_censored": self.n_censored,
            "aic": _r(self.aic, 3),
            "p50_s": _r(self.quantile(0.5), 4),
            "p90_s": _r(self.quantile(0.9), 4),
            "p99_s": _r(self.quantile(0.99), 4),
            "goodness_of_fit": {
                "quantiles": [
                    {"q": q, "empirical_s": _r(e, 4), "fitted_s": _r(f, 4)}
                    for q, e, f in self.quantiles
                ],
                "ks_statistic": _r(self.ks_statistic, 4),
                "ks_pvalue": _r(self.ks_pvalue, 4),
            },
            "warnings": list(self.warnings),
        }


def _quantile(cdf: Callable[[float], float], q: float, scale: float) -> float:
    hi = max(scale, 1e-6)
    while cdf(hi) < q and hi < 1e12:
        hi *= 2
    return float(optimize.brentq(lambda x: cdf(x) - q, 0.0, hi, xtol=1e-9))


def fit_latency(exact_s: Sequence[float], censored_s: Sequence[float] = ()) -> LatencyFit:
    """Fit the profile's latency shape, and the share of calls that never answer, to ``exact_s``
    (answers that came) and ``censored_s`` (latency known only to exceed these); see the module
    docstring. :class:`InputError` if fewer than :data:`MIN_LATENCIES` answers came."""
    exact = np.asarray([x for x in exact_s if x > 0], dtype=float)
    cens = np.asarray([c for c in censored_s if c > 0], dtype=float)
    if len(exact) < MIN_LATENCIES:
        raise InputError(
            f"{len(exact)} answers with a known latency: too few to fit one (at least "
            f"{MIN_LATENCIES}; a log whose stopped calls have late_answer records shows more)"
        )
    data = stats.CensoredData(uncensored=exact, right=cens) if len(cens) else exact
    shape, _loc, scale = stats.lognorm.fit(data, floc=0)
    start = _Start(float(scale), float(shape))
    sub_exact, sub_cens = _thinned(exact, cens)
    best = _maximise(sub_exact, sub_cens, start, None)
    warnings = []
    tried = False
    for q in TAIL_THRESHOLDS:
        u = float(np.quantile(exact, q))
        above = exact[exact > u]
        if len(above) < MIN_TAIL or u <= 0:
            continue
        tried = True
        fitted = _maximise(sub_exact, sub_cens, start, (u, above))
        # A tail is kept only if it is one (alpha below MAX_ALPHA: larger is a point mass at its
        # threshold) and the likelihood says so clearly (AIC better by more than AIC_MARGIN).
        if fitted.tail_alpha < MAX_ALPHA and fitted.aic < best.aic - AIC_MARGIN:
            best = fitted
    if tried and best.tail_p == 0.0:
        warnings.append("tail: no Pareto tail fits better than the log-normal alone (tail_p = 0)")
    if not tried:
        warnings.append(
            f"tail: fewer than {MIN_TAIL} answers above the latency's upper quantiles: the log "
            "is too small to estimate a tail (tail_p = 0, a log-normal alone)"
        )
    quantiles, ks, pvalue = _goodness(best, exact, cens)
    for q, emp, _f in quantiles:
        if emp is None:
            warnings.append(
                f"p{q * 100:g}: not in the sample: the answered calls never reach it (censoring, "
                "stalls)"
            )
    return LatencyFit(
        best.median_s,
        best.sigma,
        best.tail_p,
        best.tail_min_s,
        best.tail_alpha,
        best.stall_p,
        len(exact),
        len(cens),
        best.aic,
        quantiles,
        ks,
        pvalue,
        tuple(warnings),
    )


@final
@dataclass(frozen=True, slots=True)
class _Start:
    median_s: float
    sigma: float


def _thinned(exact: Any, cens: Any) -> tuple[Any, Any]:
    """At most :data:`MAX_MIXTURE_SAMPLE` latencies, exact and censored in proportion, drawn
    with a fixed seed: what the likelihood is maximised on (its cost grows with the sample; a
    body and a tail are as well determined by 20,000 answers as by a million)."""
    total = len(exact) + len(cens)
    if total <= MAX_MIXTURE_SAMPLE:
        return exact, cens
    rng = np.random.default_rng(0)
    keep = MAX_MIXTURE_SAMPLE / total
    n_exact = max(1, round(len(exact) * keep))
    n_cens = round(len(cens) * keep)
    return (
        rng.choice(exact, n_exact, replace=False),
        rng.choice(cens, n_cens, replace=False) if n_cens else cens[:0],
    )


def _maximise(exact: Any, cens: Any, start: _Start, tail: tuple[float, Any] | None) -> LatencyFit:
    """The maximum-likelihood latency (body; a Pareto tail above ``tail[0]`` if given; a stall
    share if anything is censored), with its AIC, by scipy.optimize over scipy.stats densities."""
    stalls = len(cens) > 0
    u = tail[0] if tail is not None else 1.0
    theta0 = [math.log(start.median_s), math.log(start.sigma)]
    if tail is not None:
        above = tail[1]
        alpha0 = float(stats.pareto.fit(above, floc=0, fscale=u)[0])
        body0 = stats.lognorm(s=start.sigma, scale=start.median_s)
        share = len(above) / (len(exact) + len(cens))
        p0 = min(0.5, max(1.0 / len(exact), share - float(body0.sf(u))))
        theta0 += [float(special.logit(p0)), math.log(min(alpha0, MAX_ALPHA))]
    if stalls:
        explained = float(stats.lognorm(s=start.sigma, scale=start.median_s).sf(cens).sum())
        s0 = (len(cens) - explained) / (len(exact) + len(cens))
        theta0.append(float(special.logit(min(0.5, max(1e-6, s0)))))

    def unpack(theta: Any) -> tuple[float, float, float, float, float]:
        mu, log_sigma = theta[0], theta[1]
        p, alpha = (_share(theta[2]), math.exp(theta[3])) if tail else (0.0, 1.0)
        s = _share(theta[-1]) if stalls else 0.0
        return math.exp(mu), math.exp(log_sigma), p, alpha, s

    def nll(theta: Any) -> float:
        median, sigma, p, alpha, s = unpack(theta)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            logf = stats.lognorm.logpdf(exact, sigma, scale=median)
            if tail is not None:
                logf = np.logaddexp(
                    math.log1p(-p) + logf, math.log(p) + stats.pareto.logpdf(exact, alpha, scale=u)
                )
            ll = float(logf.sum()) + len(exact) * math.log1p(-s)
            if stalls:
                logsf = stats.lognorm.logsf(cens, sigma, scale=median)
                if tail is not None:
                    logsf = np.logaddexp(
                        math.log1p(-p) + logsf,
                        math.log(p) + stats.pareto.logsf(cens, alpha, scale=u),
                    )
                ll += float(np.logaddexp(math.log(s), math.log1p(-s) + logsf).sum())
        return -ll if math.isfinite(ll) else 1e300

    if tail is None and not stalls:  # the log-normal's own maximum-likelihood fit
        best, value = theta0, nll(theta0)
    else:
        res = optimize.minimize(nll, theta0, method="L-BFGS-B")
        best, value = res.x, float(res.fun)
    median, sigma, p, alpha, s = unpack(best)
    k = len(theta0)
    return LatencyFit(median, sigma, p, u, alpha, s, len(exact), len(cens), 2 * value + 2 * k)


def _share(logit: float) -> float:
    """A probability from its logit, kept off 0 and 1 (whose logarithms the likelihood takes)."""
    return min(1 - 1e-12, max(1e-12, float(special.expit(logit))))


def _goodness(
    fit: LatencyFit, exact: Any, cens: Any
) -> tuple[tuple[tuple[float, float | None, float | None], ...], float, float | None]:
    """The quantile table and the Kolmogorov-Smirnov distance (module docstring), of every
    call's latency: the fitted distribution is ``(1 - stall_p) * cdf``."""
    sample = stats.CensoredData(uncensored=exact, right=cens) if len(cens) else exact
    km = stats.ecdf(sample).cdf
    xs, ps = km.quantiles, km.probabilities
    answered = 1 - fit.stall_p

    def every_call(x: Any) -> Any:
        return answered * fit.cdf(x)

    table: list[tuple[float, float | None, float | None]] = []
    for q in QUANTILES:
        reached = np.nonzero(ps >= q - 1e-12)[0]
        emp = float(xs[reached[0]]) if len(reached) else None
        table.append((q, emp, fit.quantile(q / answered) if q < answered else None))
    if not len(cens):
        res = stats.kstest(exact, every_call)
        return tuple(table), float(res.statistic), float(res.pvalue)
    fitted = every_call(xs)
    before = np.concatenate([[0.0], ps[:-1]])  # the Kaplan-Meier value just below each jump
    gap = float(max(np.max(np.abs(ps - fitted)), np.max(np.abs(before - fitted))))
    return tuple(table), gap, None


def transport_latency_s(obs: Observations) -> float | None:
    """The median latency of failed calls (seconds), or ``None`` if none failed."""
    if not obs.transport_s:
        return None
    return max(1e-3, float(np.median(obs.transport_s)))
