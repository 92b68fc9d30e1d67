"""``plansentry fit LOG... -o profile.yaml``: a fleet-simulator profile fitted from real decisions.

Reads audit logs and ``demo --json`` documents (:func:`plansentry.report.decisions.read_sections`),
fits the fault rates and the latency (:mod:`plansentry.report.fit`), and writes a profile that
``plansentry simulate --profile`` loads, its fit summarised in comments at the top. What the gate
saw maps onto the profile's fault kinds (:data:`MAPPING`, printed with every fit); the kinds are
read from the simulator at run time, so a kind added there is fitted here when the gate shows it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Final

import yaml
from rich.console import Console
from rich.table import Table

from plansentry.core.errors import ConfigError
from plansentry.core.failures import FailureMode
from plansentry.core.gate import Gate, GateConfig
from plansentry.domains.warehouse.rules import BIN_EXISTS, COVERAGE
from plansentry.domains.warehouse.sim.profiles import FAULTS, Profile, ProfileError
from plansentry.report.decisions import Answer, read_sections
from plansentry.report.stats import wilson

#: How each thing the gate can see becomes a fault of the simulator's profile.
MAPPING: Final = (
    "malformed, empty and oversize output, and output the gate could use only after taking it out "
    "of a code fence or prose or repairing it (a bare JSON parser refuses it) -> malformed; "
    "invalid naming a bin the map lacks (bin_exists) -> hallucinated_bin; invalid with an order "
    "line missing, repeated or changed (coverage) -> incomplete; a failed call -> transport; any "
    "other mode named like a profile fault (schema, unsafe, stale, ...) -> that fault. Latency: "
    "an answer that came, in time or after (a late_answer record, or a prompt re-run after the "
    "fact), gives its latency from asking and its text, judged like any other; a call the guard "
    "stopped whose answer nobody saw is censored (its latency exceeds the wait; no text, so no "
    "observation for the rates); stall -> the share of calls that never answered, beyond what "
    "the fitted latency explains of the censored ones (stall_s: never); a decision the breaker "
    "took without asking the model -> nothing. A fault the simulator injects is not always what "
    "the gate sees (a slow detour the cycle-time rule accepts passes as a good plan): each rate "
    "is divided by the share of that fault the gate shows, measured by drawing synthetic outputs "
    "through the gate"
)
_STALL: Final = "stall"
_DEFAULT: Final = Profile(name="defaults")  # what a log cannot tell keeps the profile's default
#: Faults the synthetic model writes as text (the others fail or delay the call).
_DRAWN: Final = frozenset(FAULTS) - {"stall", "transport"}
#: Synthetic outputs drawn per fault to measure the share the gate sees (:func:`detection_shares`).
DETECTION_DRAWS: Final = 1000


def fault_of(answer: Answer) -> str | None:
    """The profile fault an answer shows (:data:`MAPPING`): ``""`` for a good plan, ``None`` when
    no fault kind of the profile matches it."""
    mode = answer.mode
    if mode is None:
        bare = answer.extraction in ("", "bare") and not answer.repaired
        return "" if bare else "malformed"
    if mode in (FailureMode.EMPTY.value, FailureMode.OVERSIZE.value):
        return "malformed" if "malformed" in FAULTS else None
    if mode == FailureMode.INVALID.value:
        if BIN_EXISTS in answer.rules and "hallucinated_bin" in FAULTS:
            return "hallucinated_bin"
        if COVERAGE in answer.rules and "incomplete" in FAULTS:
            return "incomplete"
    return mode if mode in FAULTS else None


def detection_shares(
    kinds: Iterable[str], *, draws: int = DETECTION_DRAWS, seed: int = 0
) -> dict[str, tuple[int, int]]:
    """For each fault of ``kinds`` the synthetic model can write, how many of ``draws`` of its
    outputs the gate shows as that fault (:func:`fault_of`): ``(seen, draws)``. Not every injected
    fault is what the gate sees (a ``slow`` detour the cycle-time rule accepts passes as a good
    plan), and a profile whose simulation reproduces a log must inject what the log saw divided
    by that share. Seeded, so the same kinds give the same shares."""
    from plansentry.domains.warehouse.sim.config import SimConfig
    from plansentry.domains.warehouse.sim.synthetic import SyntheticModel
    from plansentry.domains.warehouse.sim.world import World

    world = World(SimConfig(profile=_DEFAULT, cycles=1))
    gate = Gate(world.domain, GateConfig())
    stations = sorted(world.wh.pack_stations)
    out = {}
    for kind in kinds:
        model = SyntheticModel(Profile(name=kind, faults={kind: 1.0}), world.router)
        rng = random.Random(seed)
        orders = world.orders(random.Random(seed + 1), "D")
        seen = n = 0
        while n < draws:
            order = next(orders)
            ctx = world.domain.context(order, "R1", world.wh.pack_stations[rng.choice(stations)])
            best = world.best(ctx)
            if best is None:
                continue
            call = model.call(ctx, best, None, rng)
            n += 1
            if call.text is None:
                continue
            v = gate.check(call.text, len(call.text), ctx, ctx.version)
            answer = Answer(
                call.text,
                v.mode.value if v.mode is not None else None,
                frozenset(x.rule for x in v.violations),
                bool(v.repairs),
                v.extraction or "bare",
                0,
                0,
            )
            seen += fault_of(answer) == kind
        out[kind] = (seen, n)
    return out


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("logs", nargs="+", metavar="LOG", help="audit logs or demo --json documents")
    p.add_argument("-o", "--out", required=True, metavar="PROFILE", help="the YAML file to write")
    p.add_argument("--name", help="the profile's name (default: the output file's stem)")
    p.add_argument("--json", action="store_true", help="print the fit as one JSON document")


def run(args: argparse.Namespace, out: IO[str]) -> int:
    try:
        from plansentry.report.fit import (
            bonferroni_z,
            fit_latency,
            fit_rates,
            observe,
            rate_fit,
            transport_latency_s,
        )
    except ImportError as exc:
        raise ConfigError(f"fit needs scipy: pip install 'plansentry[fit]' ({exc})") from None
    sections = [s for path in args.logs for s in read_sections(path)]
    obs = observe(sections, fault_of)
    latency = fit_latency(obs.exact_s, obs.censored_s)
    kinds = [k for k in FAULTS if k != _STALL]
    rates = fit_rates(obs, kinds, also=1)
    calls = latency.n_exact + latency.n_censored
    stall = rate_fit(_STALL, round(latency.stall_p * calls), calls, z=bonferroni_z(len(kinds) + 1))
    shares = detection_shares([r.kind for r in rates if r.count and r.kind in _DRAWN])
    rates = [_injected(r, shares.get(r.kind)) for r in rates]
    answered = 1 - latency.stall_p  # the rates are of answered calls; the profile's of every call
    faults = {r.kind: round(r.rate * answered, 8) for r in rates if r.count}
    if latency.stall_p > 0:
        faults[_STALL] = round(latency.stall_p, 8)
    transport = transport_latency_s(obs)
    name = args.name or Path(args.out).stem
    tail = latency.tail_p > 0
    try:
        profile = Profile(
            name=name,
            description=f"fitted by plansentry fit from {', '.join(args.logs)}",
            faults=faults,
            median_s=round(latency.median_s, 6),
            sigma=round(latency.sigma, 6),
            tail_p=round(latency.tail_p, 8),
            tail_min_s=round(latency.tail_min_s, 6) if tail else _DEFAULT.tail_min_s,
            tail_alpha=round(latency.tail_alpha, 6) if tail else _DEFAULT.tail_alpha,
            stall_s=None,
            transport_s=round(transport, 6) if transport else _DEFAULT.transport_s,
        )
    except ProfileError as exc:
        raise ConfigError(f"the fit is no usable profile: {exc}") from None
    warnings = _warnings(obs, rates, stall, latency, transport)
    doc = {
        "kind": "fit",
        "profile": profile.to_json(),
        "mapping": MAPPING,
        "decisions": obs.decisions,
        "answers": obs.answers,
        "censored": len(obs.censored_s),
        "not_asked": obs.not_asked,
        "reruns": obs.reruns,
        "unmapped": dict(obs.unmapped),
        "rates": [r.to_json() for r in rates],
        "stall": {**stall.to_json(), "rate": latency.stall_p},
        "latency": latency.to_json(),
        "transport_s": transport,
        "warnings": warnings,
    }
    Path(args.out).write_text(_yaml(profile, doc), encoding="utf-8")
    if args.json:
        out.write(json.dumps(doc, indent=2) + "\n")
        return 0
    console = Console(file=out, highlight=False)
    _print(console, doc, args.out)
    return 0


def _injected(r: Any, share: tuple[int, int] | None) -> Any:
    """``r`` as the rate the synthetic model must inject for the gate to see ``r``: divided by
    the share the gate sees (its interval widened by that share's own 95 % interval)."""
    if share is None or share[0] == share[1]:
        return r
    seen, n = share
    if seen == 0:
        return dataclasses.replace(r, too_small=f"the gate never shows a synthetic {r.kind} fault")
    d = seen / n
    d_lo, d_hi = wilson(seen, n)
    return dataclasses.replace(
        r,
        rate=min(1.0, r.rate / d),
        ci95=(r.ci95[0] / d_hi, min(1.0, r.ci95[1] / d_lo)),
        simultaneous_ci95=(r.simultaneous_ci95[0] / d_hi, min(1.0, r.simultaneous_ci95[1] / d_lo)),
        seen_share=d,
    )


def _warnings(obs: Any, rates: Any, stall: Any, latency: Any, transport: float | None) -> list[str]:
    out = [
        f"faults.{r.kind}: the log is too small to estimate it: {r.too_small}"
        for r in [*rates, stall]
        if r.too_small and (r is not stall or latency.n_censored)
    ]
    if latency.n_censored == 0:
        out.append("faults.stall: nothing was censored (every call's answer was seen)")
    out += [f"latency {w}" for w in latency.warnings]
    if transport is None:
        out.append(
            "transport_s: no failed call: the log is too small to estimate it (the default kept)"
        )
    out.append("route_noise: a log does not show how far a good plan is from the best (default)")
    for why, n in obs.unmapped.items():
        out.append(f"{n} answers ({why}) match no fault of the profile: they count as good plans")
    return out


def _yaml(profile: Profile, doc: dict[str, Any]) -> str:
    lat = doc["latency"]
    lines = [
        f"# plansentry fit: {doc['decisions']} decisions, {doc['answers']} answers observed "
        f"({doc['reruns']} by re-running a prompt), {doc['censored']} censored, "
        f"{doc['not_asked']} not asked.",
        "# Fault rates (count/n, 95 % interval; simultaneous 95 % over all rates):",
    ]
    for r in [*doc["rates"], doc["stall"]]:
        lo, hi = r["ci95"]
        slo, shi = r["simultaneous_ci95"]
        lines.append(
            f"#   {r['kind']}: {r['count']}/{r['n']} = {r['rate']:.4%} "
            f"({lo:.4%}-{hi:.4%}; {slo:.4%}-{shi:.4%})"
            + (f"; the gate sees {r['seen_share']:.1%} of it" if r["seen_share"] < 1 else "")
        )
    lines.append(
        f"# Latency: p50 {lat['p50_s']} s, p90 {lat['p90_s']} s, p99 {lat['p99_s']} s; "
        f"Kolmogorov-Smirnov {lat['goodness_of_fit']['ks_statistic']}"
        + (
            f" (p {lat['goodness_of_fit']['ks_pvalue']})"
            if lat["goodness_of_fit"]["ks_pvalue"] is not None
            else ""
        )
    )
    lines += [f"# warning: {w}" for w in doc["warnings"]]
    data = {k: v for k, v in profile.to_json().items() if v is not None}
    return "\n".join(lines) + "\n" + yaml.safe_dump(data, sort_keys=False)


def _print(console: Console, doc: dict[str, Any], path: str) -> None:
    console.print(
        f"[bold]plansentry fit[/]: {doc['decisions']} decisions, {doc['answers']} answers "
        f"observed ({doc['reruns']} by re-running a prompt), {doc['censored']} censored, "
        f"{doc['not_asked']} not asked; wrote {path}"
    )
    console.print(f"Mapping: {doc['mapping']}.")
    t = Table(title="Fault rates, of answered calls (simulator's)", title_justify="left")
    t.add_column("fault")
    t.add_column("count", justify="right")
    t.add_column("rate", justify="right")
    t.add_column("95 % CI", justify="right")
    t.add_column("simultaneous", justify="right")
    t.add_column("seen", justify="right")
    for r in [*doc["rates"], doc["stall"]]:
        lo, hi = r["ci95"]
        slo, shi = r["simultaneous_ci95"]
        t.add_row(
            r["kind"],
            f"{r['count']}/{r['n']}",
            f"{r['rate']:.2%}",
            f"{lo:.2%}-{hi:.2%}",
            f"{slo:.2%}-{shi:.2%}",
            f"{r['seen_share']:.0%}" if r["seen_share"] < 1 else "",
        )
    console.print(t)
    lat = doc["latency"]
    q = Table(title="Latency (s): sample, fit", title_justify="left")
    q.add_column("quantile")
    q.add_column("sample", justify="right")
    q.add_column("fitted", justify="right")
    for row in lat["goodness_of_fit"]["quantiles"]:
        q.add_row(
            f"p{row['q'] * 100:g}",
            "-" if row["empirical_s"] is None else f"{row['empirical_s']:.3f}",
            "-" if row["fitted_s"] is None else f"{row['fitted_s']:.3f}",
        )
    console.print(q)
    gof = lat["goodness_of_fit"]
    tail = (
        f"Pareto tail p {lat['tail_p']:.4f} above {lat['tail_min_s']:.3f} s, alpha "
        f"{lat['tail_alpha']:.3f}"
        if lat["tail_p"]
        else "no tail"
    )
    console.print(
        f"Fitted: log-normal median {lat['median_s']:.3f} s, sigma {lat['sigma']:.3f}; {tail}; "
        f"{lat['n_exact']} latencies, {lat['n_censored']} censored. "
        f"Kolmogorov-Smirnov distance {gof['ks_statistic']}"
        + (f" (p = {gof['ks_pvalue']})" if gof["ks_pvalue"] is not None else " (censored)")
    )
    for w in doc["warnings"]:
        console.print(f"[yellow]warning[/]: {w}")
