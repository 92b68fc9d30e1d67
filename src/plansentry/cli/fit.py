"""``plansentry fit LOG... -o profile.yaml``: a simulator profile fitted from real decisions, for
the world of the kit the logs name (or ``--domain``).

Reads audit logs and ``demo --json`` documents (:func:`plansentry.report.decisions.read_sections`),
fits the fault rates and the latency (:mod:`plansentry.report.fit`), and writes a profile that
``plansentry simulate --profile`` loads, its fit summarised in comments at the top. What the gate
saw maps onto the world's fault kinds (:func:`plansentry.sim.fit.mapping`, printed with every
fit); a kind the world adds is fitted here when the gate shows it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import IO, Any, Final

import yaml
from rich.console import Console
from rich.table import Table

from plansentry.cli.common import key_values, tell_unreadable
from plansentry.core.errors import ConfigError, InputError
from plansentry.report.decisions import Section, read_sections
from plansentry.report.stats import percent, percent_range, wilson
from plansentry.sim.config import DEFAULT_DOMAIN, SimConfigError
from plansentry.sim.fit import UNWRITTEN, detection_shares, fault_of, fit_scene, mapping
from plansentry.sim.profiles import Profile, ProfileError

_STALL: Final = "stall"
_DEFAULT: Final = Profile(name="defaults")  # what a log cannot tell keeps the profile's default


def logs_domain(sections: list[Section], given: str | None) -> tuple[str, dict[str, Any]]:
    """The kit whose world the fit is for, and its parameters: ``given`` (``--domain``), else the
    one kit the logs' headers name (the warehouse when they name none)."""
    named = {
        (str(s.kit.get("name")), json.dumps(s.kit.get("params") or {}, sort_keys=True))
        for s in sections
        if s.kit is not None and s.kit.get("name")
    }
    if given is not None:
        for name, params in sorted(named):
            if name == given:
                return given, dict(json.loads(params))
        return given, {}
    kits = sorted({name for name, _ in named})
    if len(kits) > 1:
        raise InputError(
            f"the logs name more than one kit ({', '.join(kits)}): fit one kit's logs at a "
            "time, or say which with --domain"
        )
    if not kits:
        return DEFAULT_DOMAIN, {}
    found = [json.loads(p) for name, p in sorted(named) if name == kits[0]]
    return kits[0], dict(found[0]) if len(found) == 1 else {}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("logs", nargs="+", metavar="LOG", help="audit logs or demo --json documents")
    p.add_argument("-o", "--out", required=True, metavar="PROFILE", help="the YAML file to write")
    p.add_argument("--name", help="the profile's name (default: the output file's stem)")
    p.add_argument("--json", action="store_true", help="print the fit as one JSON document")
    p.add_argument(
        "--domain",
        help="the kit whose world the profile is for (default: the one the logs' headers name)",
    )
    p.add_argument(
        "--world",
        action="append",
        metavar="KEY=VALUE",
        help="a parameter of the kit's world, as for simulate; repeatable",
    )


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
    domain, kit_params = logs_domain(sections, args.domain)
    try:
        scene = fit_scene(domain, kit_params, key_values(args.world, "--world"))
    except SimConfigError as exc:
        raise ConfigError(str(exc)) from None
    world = scene.world
    obs = observe(sections, lambda answer: fault_of(answer, world))
    latency = fit_latency(obs.exact_s, obs.censored_s)
    kinds = [k for k in world.faults if k != _STALL]
    rates = fit_rates(obs, kinds, also=1)
    calls = latency.n_exact + latency.n_censored
    stall = rate_fit(_STALL, round(latency.stall_p * calls), calls, z=bonferroni_z(len(kinds) + 1))
    drawn = [r.kind for r in rates if r.count and r.kind not in UNWRITTEN]
    shares = detection_shares(scene, drawn)
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
        "domain": domain,
        "profile": profile.to_json(world.faults),
        "mapping": mapping(world),
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
    else:
        _print(Console(file=out, highlight=False), doc, args.out)
    return 1 if tell_unreadable("fit", obs.refused) else 0


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
        f"# plansentry fit ({doc['domain']}): {doc['decisions']} decisions, "
        f"{doc['answers']} answers observed "
        f"({doc['reruns']} by re-running a prompt), {doc['censored']} censored, "
        f"{doc['not_asked']} not asked.",
        "# Fault rates (count/n, 95 % interval; simultaneous 95 % over all rates):",
    ]
    for r in [*doc["rates"], doc["stall"]]:
        lines.append(
            f"#   {r['kind']}: {r['count']}/{r['n']} = {percent(r['rate'])} "
            f"({percent_range(r['ci95'], r['rate'])}; "
            f"{percent_range(r['simultaneous_ci95'], r['rate'])})"
            + (f"; the gate sees {percent(r['seen_share'])} of it" if r["seen_share"] < 1 else "")
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
    data = {k: v for k, v in doc["profile"].items() if v is not None}
    return "\n".join(lines) + "\n" + yaml.safe_dump(data, sort_keys=False)


def _print(console: Console, doc: dict[str, Any], path: str) -> None:
    console.print(
        f"[bold]plansentry fit[/] ({doc['domain']}): {doc['decisions']} decisions, "
        f"{doc['answers']} answers "
        f"observed ({doc['reruns']} by re-running a prompt), {doc['censored']} censored, "
        f"{doc['not_asked']} not asked; wrote {path}"
    )
    console.print(f"Mapping: {doc['mapping']}.")
    t = Table(title="Fault rates, of answered calls (simulator's)", title_justify="left")
    t.add_column("fault")
    t.add_column("count", justify="right")
    t.add_column("rate (95 % CI)", justify="right")
    t.add_column("simultaneous", justify="right")
    t.add_column("seen", justify="right")
    for r in [*doc["rates"], doc["stall"]]:
        t.add_row(
            r["kind"],
            f"{r['count']}/{r['n']}",
            percent(r["rate"], r["ci95"]),
            percent_range(r["simultaneous_ci95"], r["rate"]),
            percent(r["seen_share"]) if r["seen_share"] < 1 else "",
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
