"""Statistics, defined once: the simulator, the demo, the sweep, the FMLI matrix and the report use
these and nothing else.

- :func:`wilson`: the 95 % Wilson score interval of a proportion (every rate in every document);
- :func:`percentile`: nearest-rank percentiles (every p50 and p99);
- :func:`detect_ms`: the detection latency of a failure, in one definition for every source;
- :func:`latency_bin`, :func:`slack_bin`, :func:`histogram_json`: the fixed-bin histograms the
  report draws;
- :func:`required_trials`: how many trials a rate needs for an interval of a given relative width;
- :func:`ratio_interval`: the 95 % interval of a ratio of two proportions (a risk reduction).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

#: The two-sided 95 % normal quantile.
Z95: Final = 1.959963984540054
#: Model latency histogram: bins of this width (ms); the last bin (200, 20 s) is open-ended.
LATENCY_BIN_MS: Final = 100
#: Arrival minus decision point: bins of this width (ms) from -4 s (bin -80) to +2 s (bin 40),
#: both ends open.
SLACK_BIN_MS: Final = 50


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (95 % by default); ``(0, 1)`` for no trials."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    denom = 1 + z**2 / trials
    centre = (p + z**2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == trials else min(1.0, centre + half)
    return (lo, hi)


def replication_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Student's t interval of the mean of independent replications (one figure per seed):
    the interval for a rate whose trials are correlated within a run (a fleet's steps), where a
    binomial interval over the trials would be too narrow. Needs two values or more (scipy)."""
    if len(values) < 2:
        raise ValueError("a replication interval needs at least two replications")
    from scipy import stats as scipy_stats  # type: ignore[import-untyped]

    n = len(values)
    mean = math.fsum(values) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(scipy_stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


def percentile(values: Iterable[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in [0, 1]) of unsorted values; ``None`` if there are none."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def detect_ms(
    decided_ns: int, point_ns: int, arrival_ns: int | None = None, *, timed_out: bool = False
) -> float:
    """How long a failure took to act on: from when it could first be seen to the decision.

    An output that arrived is first seen at its arrival, or at the decision point if it came
    earlier (a plan asked ahead waits for its decision point); a timeout, at the decision point
    (``point_ns``: the deadline minus the budget), since from then on the robot needs the plan.
    """
    seen = point_ns if arrival_ns is None or timed_out else max(arrival_ns, point_ns)
    return max(0.0, (decided_ns - seen) / 1e6)


def latency_bin(latency_ns: int) -> int:
    """Histogram bin of a model latency (``LATENCY_BIN_MS`` wide; the last, 200, is open-ended)."""
    return int(min(latency_ns // (LATENCY_BIN_MS * 1_000_000), 200))


def slack_bin(slack_ns: int) -> int:
    """Histogram bin of an answer's arrival minus its decision point (``SLACK_BIN_MS`` wide; -80
    and 40, 4 s early and 2 s late, are open-ended)."""
    return max(-80, min(40, math.floor(slack_ns / 1e6 / SLACK_BIN_MS)))


def histogram_json(bin_ms: int, counts: Mapping[int, int]) -> dict[str, Any]:
    """A fixed-bin histogram as JSON: the bin width, and ``[low_ms, count]`` per non-empty bin."""
    return {"bin_ms": bin_ms, "bins": [[k * bin_ms, n] for k, n in sorted(counts.items())]}


def required_trials(rate: float, rel: float, z: float = Z95) -> int:
    """Trials at which a normal interval around ``rate`` has half-width ``rel * rate``."""
    return math.ceil(z**2 * (1 - rate) / (rel**2 * rate))


def ratio_interval(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float]:
    """95 % interval of ``(x1 / n1) / (x2 / n2)``, the ratio of two independent proportions.

    MOVER-R (the method of variance estimates recovery for a ratio: Donner and Zou, Statistical
    Methods in Medical Research 21(4), 2012, eq. 9) on the two :func:`wilson` intervals, the
    "MOVER-R Wilson" interval of Fagerland, Lydersen and Laake (Statistical Analysis of
    Contingency Tables, ch. 4): the limits solve ``p1 - R p2 = 0`` at the recovered variances.
    Unlike the log (Katz) interval it needs no event on either side: with ``x2 = 0`` the upper
    limit is ``inf`` and the lower one finite, ``sqrt(l1 (2 p1 - l1)) / u2``; with ``x1 = 0``
    the lower limit is 0. ``(0, inf)`` when nothing can be said (no events at all, or
    no trials).
    """
    if n1 == 0 or n2 == 0 or (x1 == 0 and x2 == 0):
        return (0.0, math.inf)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    lo = _mover_root(p1, p2, l1, u2, lower=True)
    hi = _mover_root(p1, p2, u1, l2, lower=False)
    return (lo, hi)


def _mover_root(p1: float, p2: float, a: float, b: float, *, lower: bool) -> float:
    """The root of ``R^2 b (2 p2 - b) - 2 R p1 p2 + a (2 p1 - a) = 0`` that is MOVER-R's lower
    (``a = l1``, ``b = u2``) or upper (``a = u1``, ``b = l2``) limit."""
    quad = b * (2 * p2 - b)
    const = a * (2 * p1 - a)
    if lower and a == 0:
        return 0.0
    if not lower and b == 0:
        return math.inf
    if abs(quad) < 1e-300:  # linear: -2 R p1 p2 + const = 0
        return const / (2 * p1 * p2) if p1 * p2 else (0.0 if lower else math.inf)
    root = math.sqrt(max(0.0, (p1 * p2) ** 2 - quad * const))
    return (p1 * p2 - root) / quad if lower else (p1 * p2 + root) / quad


def rounded(x: float | None, digits: int = 4) -> float | None:
    """``x`` rounded for a document, ``None`` kept."""
    return None if x is None else round(x, digits)


def percent(rate: float, ci95: Sequence[float] | None = None, *, max_places: int = 6) -> str:
    """A rate as a percentage, as precisely as it is known: two significant figures of the rate
    (``0.71 %``, ``0.050 %``) and, with its interval, more decimal places until the interval's ends
    differ (``0.17 % (0.12-0.24 %)``). The one formatter of a rate that every command and the report
    print, so that no rate reads ``0 %`` when it is 0.17 %. An exact zero is ``0`` (``0 % (0-0.096
    %)``): none was seen, to no number of places."""
    places = _rate_places(rate, ci95, max_places)
    text = f"{_fixed(rate, places)} %"
    if ci95 is None:
        return text
    lo, hi = ci95
    return f"{text} ({_fixed(lo, places)}-{_fixed(hi, places)} %)"


def percent_range(ci95: Sequence[float], rate: float, *, max_places: int = 6) -> str:
    """An interval of ``rate`` alone (``0.12-0.24 %``), to the places :func:`percent` gives them,
    for a table that prints the rate and its interval in columns of their own."""
    places = _rate_places(rate, ci95, max_places)
    lo, hi = ci95
    return f"{_fixed(lo, places)}-{_fixed(hi, places)} %"


def _fixed(fraction: float, places: int) -> str:
    return "0" if fraction == 0 else f"{100 * fraction:.{places}f}"


def _rate_places(rate: float, ci95: Sequence[float] | None, max_places: int) -> int:
    values = [rate, *(ci95 or ())]
    places = _places(rate if rate > 0 else max(values))
    if ci95 is not None:
        lo, hi = ci95
        while (
            places < max_places
            and lo != hi
            and f"{100 * lo:.{places}f}" == f"{100 * hi:.{places}f}"
        ):
            places += 1
    return places


def _places(rate: float) -> int:
    """Decimal places that give ``rate`` (a fraction) two significant figures as a percentage."""
    if not rate > 0 or not math.isfinite(rate):
        return 0
    return max(0, 1 - math.floor(math.log10(100 * rate)))
