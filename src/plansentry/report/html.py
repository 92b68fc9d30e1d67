"""``plansentry report``: one self-contained HTML file from a ``simulate``, ``sweep`` or ``demo`` JSON.

No network and no script: the charts are SVG drawn by matplotlib and inlined, the style is inline
CSS, so the file opens from disk anywhere (a safety review's laptop, an e-mail attachment). What is
drawn depends on what the document holds:

- the FMLI matrix, coloured by risk bucket (A latency/availability, B safety, C efficiency);
- unguarded against guarded (and the oracle): halts, downtime, unsafe plans executed, throughput;
- the model's latency, and when answers arrived against the decision point, with the cut-off and
  the deadline drawn;
- the state machine: time in each state, state changes, and a timeline;
- the budget trade-off curve (a ``--sweep-budget`` run or a ``sweep`` grid).

Every chart is a ``<figure class="chart" id="chart-...">``; ``tests/report/test_html.py`` opens
the page in headless Chromium and checks each one was drawn.
"""

from __future__ import annotations

import collections
import html
import io
from collections.abc import Callable
from typing import Any, Final

import matplotlib

matplotlib.use("Agg")  # no display: draw to files
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from plansentry.core.errors import InputError
from plansentry.report.stats import (
    LATENCY_BIN_MS,
    SLACK_BIN_MS,
    histogram_json,
    latency_bin,
    percent,
    slack_bin,
)

matplotlib.rcParams.update(
    {
        "svg.hashsalt": "plansentry",  # stable element ids: the same document, the same file
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)

BUCKET_COLOURS: Final = {"A": "#f4b942", "B": "#d9534f", "C": "#5b9bd5"}
CONTROLLER_COLOURS: Final = {
    "unguarded": "#9e9e9e",
    "guarded": "#2e7d32",
    "pilot_guard": "#f4b942",
    "oracle": "#1565c0",
}
STATE_COLOURS: Final = {
    "NOMINAL": "#2e7d32",
    "DEGRADED": "#f4b942",
    "PROBING": "#8e6bbf",
    "BYPASS": "#d9534f",
    "SAFE_HOLD": "#424242",
}
STATE_ORDER: Final = ("NOMINAL", "DEGRADED", "PROBING", "BYPASS", "SAFE_HOLD")


class ReportError(InputError):
    """A document the report cannot read; the message says what is missing."""


def kind_of(doc: Any) -> str:
    """``simulate``, ``sweep``, ``demo`` or ``fmli``, from the document's keys."""
    if not isinstance(doc, dict):
        raise ReportError(f"expected a JSON object, got {type(doc).__name__}")
    if doc.get("kind") == "sweep" and isinstance(doc.get("grid"), list):
        return "sweep"
    if doc.get("kind") == "fmli" and isinstance(doc.get("fmli"), list):
        return "fmli"
    if "decisions" in doc and "guarded" in doc:
        return "demo"
    if "fmli" in doc and "guarded" in doc:
        return "simulate"
    raise ReportError(
        "not a plansentry simulate, sweep or demo document (expected 'fmli' and 'guarded', "
        "'decisions', or 'kind': 'sweep' with a 'grid')"
    )


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype: inline SVG
    start, end = text.find("<metadata>"), text.find("</metadata>")
    if start >= 0 and end > start:  # the creator's URL and licence block: not needed inline
        text = text[:start] + text[end + len("</metadata>") :]
    return text


def _figure(chart_id: str, title: str, svg: str, caption: str) -> str:
    return (
        f'<figure class="chart" id="chart-{chart_id}"><h3>{html.escape(title)}</h3>{svg}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


# ----------------------------------------------------------------------------------------------
# Charts


def impact_chart(doc: dict[str, Any]) -> str:
    names = [n for n in ("unguarded", "guarded", "pilot_guard", "oracle") if n in doc]
    metrics = [  # (title, field, scale)
        ("halts", "halts", 1.0),
        ("downtime (robot-hours)", "downtime_s", 1 / 3600),
        ("unsafe plans executed", "unsafe_executed", 1.0),
        ("items per hour", "items_per_hour", 1.0),
    ]
    fig, axes = plt.subplots(1, len(metrics), figsize=(10, 2.6))
    for ax, (label, key, scale) in zip(axes, metrics, strict=True):
        values = [float(doc[n].get(key) or 0.0) * scale for n in names]
        bars = ax.bar(names, values, color=[CONTROLLER_COLOURS[n] for n in names])
        ax.set_title(label)
        ax.bar_label(bars, labels=[_short(v) for v in values], fontsize=8)
        ax.tick_params(axis="x", labelrotation=20)
        ax.set_yticks([])
    fig.tight_layout()
    return _figure(
        "impact",
        "Unguarded against guarded",
        _svg(fig),
        "The same orders and the same model answers (common random numbers) for each controller.",
    )


def _short(v: float) -> str:
    if v >= 10_000:
        return f"{v / 1000:,.1f}k"
    if v == int(v):
        return f"{int(v):,}"
    return f"{v:,.2f}"


def latency_chart(dist: dict[str, Any], budget_ms: float, reserve_ms: float) -> str:
    lat = dist["latency_histogram"]
    arr = dist["arrival_vs_decision_point_histogram"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 2.8))
    xs = [b[0] / 1000 for b in lat["bins"]]
    a1.bar(
        xs, [b[1] for b in lat["bins"]], width=lat["bin_ms"] / 1000, align="edge", color="#607d8b"
    )
    a1.set_yscale("log")
    a1.set_xlabel("model latency, ask to answer (s)")
    a1.set_ylabel("answers")
    xs2 = [b[0] for b in arr["bins"]]
    a2.bar(xs2, [b[1] for b in arr["bins"]], width=arr["bin_ms"], align="edge", color="#607d8b")
    a2.set_yscale("log")
    for x, label, colour in (
        (0.0, "decision point", "#1565c0"),
        (budget_ms - reserve_ms, "cut-off", "#f4b942"),
        (budget_ms, "deadline", "#d9534f"),
    ):
        a2.axvline(x, color=colour, linewidth=1.2, label=f"{label} ({x:g} ms)")
    a2.set_xlabel("answer arrival - decision point (ms); left of 0: already there")
    a2.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return _figure(
        "latency",
        "Model latency, and when answers arrived",
        _svg(fig),
        "Right panel: the model is asked ahead, so most answers wait for their decision point "
        "(the leftmost bar holds every answer 4 s or more early). Answers right of the cut-off "
        "are timeouts; the fallback's plan is used instead.",
    )


def states_chart(dist: dict[str, Any]) -> str:
    seconds = dist.get("state_seconds", {})
    timeline = dist.get("timeline", [])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 2.6), gridspec_kw={"width_ratios": [1, 2]})
    states = [s for s in STATE_ORDER if seconds.get(s)]
    total = sum(seconds.values()) or 1.0
    shares = [100 * seconds[s] / total for s in states]
    bars = a1.barh(states, shares, color=[STATE_COLOURS[s] for s in states])
    a1.bar_label(bars, labels=[f"{v:.2f} %" for v in shares], fontsize=8)
    a1.set_xlabel("share of time (%)")
    a1.invert_yaxis()
    levels = {s: i for i, s in enumerate(STATE_ORDER)}
    if timeline:
        ts = [0.0] + [float(t) for t, _ in timeline]
        ys = [0] + [levels.get(s, 0) for _, s in timeline]
        a2.step(ts, ys, where="post", color="#37474f", linewidth=1)
        a2.scatter(ts[1:], ys[1:], c=[STATE_COLOURS.get(s, "#000") for _, s in timeline], s=8)
    else:
        a2.text(0.5, 0.5, "no state change", ha="center", va="center", transform=a2.transAxes)
    a2.set_yticks(range(len(STATE_ORDER)), STATE_ORDER)
    a2.set_xlabel("time (s)")
    fig.tight_layout()
    changes = ", ".join(f"{k} x{v}" for k, v in dist.get("transitions", {}).items()) or "none"
    return _figure(
        "states",
        "The state machine",
        _svg(fig),
        f"Time in each state, and the first state changes. Changes: {changes}.",
    )


def budget_chart(rows: list[dict[str, Any]], group: str | None = None) -> str:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 2.8))
    series: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for r in rows:
        series[str(r.get(group, "")) if group else "guarded"].append(r)
    for name, rs in sorted(series.items()):
        rs = sorted(rs, key=lambda r: r["budget_ms"])
        xs = [r["budget_ms"] for r in rs]
        a1.plot(xs, [100 * r["fallback_rate"] for r in rs], marker="o", label=name)
        a2.plot(xs, [r["items_per_hour"] for r in rs], marker="o", label=name)
    a1.set_xlabel("guard budget (ms)")
    a1.set_ylabel("fallback plans (%)")
    a2.set_xlabel("guard budget (ms)")
    a2.set_ylabel("items per hour")
    if len(series) > 1:
        a1.legend(fontsize=7)
    fig.tight_layout()
    return _figure(
        "budget",
        "Budget trade-off",
        _svg(fig),
        "A longer budget catches more late answers (fewer fallbacks) and waits longer for them.",
    )


def sweep_chart(grid: list[dict[str, Any]]) -> str:
    fig, ax = plt.subplots(figsize=(10, 2.8))
    labels, lows, mids, highs = [], [], [], []
    for r in grid:
        g = r["guarded"]
        labels.append(f"{r['profile']}\n{r['robots']} r, {r['budget_ms']:g} ms")
        lo, hi = g["halt_rate_ci95"]
        mids.append(100 * g["halt_rate"])
        lows.append(100 * (g["halt_rate"] - lo))
        highs.append(100 * (hi - g["halt_rate"]))
    xs = range(len(labels))
    ax.errorbar(
        xs, mids, yerr=[lows, highs], fmt="o", color=CONTROLLER_COLOURS["guarded"], capsize=3
    )
    ax.set_xticks(list(xs), labels, fontsize=6)
    ax.set_ylabel("guarded halt rate (%), 95 % CI")
    fig.tight_layout()
    return _figure(
        "sweep",
        "Guarded halt rate per grid point",
        _svg(fig),
        "Each point with the 95 % Wilson interval of the guarded halt rate at that point's final "
        "sample size. With --ci-rel, a point's sample was grown for the rarest rate its first "
        "stage saw (an FMLI row's, or the unguarded halt rate), not for this halt rate: its "
        "interval is as wide as that sample makes it.",
    )


# ----------------------------------------------------------------------------------------------
# Tables and the page


def fmli_table(rows: list[dict[str, Any]]) -> str:
    head = (
        "<tr><th>failure mode</th><th>bucket</th><th>count</th><th>rate (95 % CI)</th>"
        "<th>detect p50 / p99 ms</th><th>mitigation</th><th>halts u / g</th>"
        "<th>downtime s u / g</th><th>unsafe u / g</th></tr>"
    )
    body = []
    for r in rows:
        mitigation = ", ".join(f"{k} {v}" for k, v in r.get("mitigation", {}).items()) or "-"
        p50, p99 = r.get("detect_ms_p50"), r.get("detect_ms_p99")
        detect = "-" if p50 is None else f"{p50:g} / {p99:g}"
        body.append(
            f'<tr class="bucket-{html.escape(r["bucket"])}">'
            f"<td>{html.escape(r['failure_mode'])}</td><td>{html.escape(r['bucket'])}</td>"
            f"<td>{r['count']:,}</td><td>{percent(r['rate'], r.get('rate_ci95'))}</td><td>{detect}</td>"
            f"<td>{html.escape(mitigation)}</td>"
            f"<td>{r.get('halts_unguarded', 0):,} / {r.get('halts_guarded', 0):,}</td>"
            f"<td>{r.get('downtime_s_unguarded', 0):,} / {r.get('downtime_s_guarded', 0):,}</td>"
            f"<td>{r.get('unsafe_unguarded', 0):,} / {r.get('unsafe_guarded', 0):,}</td></tr>"
        )
    if not body:
        body.append('<tr><td colspan="9">no model failure in this run</td></tr>')
    return f'<table class="fmli" id="fmli">{head}{"".join(body)}</table>'


def _cards(doc: dict[str, Any]) -> str:
    u, g, o = doc.get("unguarded", {}), doc.get("guarded", {}), doc.get("oracle")
    items = [
        ("risk reduction", str(doc.get("risk_reduction", "-"))),
        ("halt rate, unguarded", _pct(u.get("halt_rate"))),
        ("halt rate, guarded", _pct(g.get("halt_rate"))),
        ("unsafe executed, guarded", str(g.get("unsafe_executed", "-"))),
        ("lost orders, guarded", str(g.get("lost_orders", "-"))),
    ]
    if o:
        items.append(("guarded throughput / oracle", _pct(g.get("throughput_vs_oracle"))))
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="v">{html.escape(v)}</div><div class="k">{html.escape(k)}'
            "</div></div>"
            for k, v in items
        )
        + "</div>"
    )


def _pct(x: Any) -> str:
    return "-" if x is None else percent(float(x))


_CSS: Final = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1080px;
color:#212121;padding:0 16px}
h1{font-size:22px;margin-bottom:2px}h2{font-size:17px;margin-top:28px}h3{font-size:14px;margin:4px 0}
.sub{color:#616161;font-size:13px}
.cards{display:flex;gap:10px;flex-wrap:wrap;margin:14px 0}
.card{border:1px solid #e0e0e0;border-radius:6px;padding:8px 12px;min-width:140px}
.card .v{font-size:18px;font-weight:600}.card .k{font-size:11px;color:#616161}
table{border-collapse:collapse;font-size:12px;width:100%}
th,td{border-bottom:1px solid #e0e0e0;padding:4px 6px;text-align:right}
th:first-child,td:first-child,td:nth-child(6){text-align:left}
tr.bucket-A td:first-child{border-left:6px solid #f4b942}
tr.bucket-B td:first-child{border-left:6px solid #d9534f}
tr.bucket-C td:first-child{border-left:6px solid #5b9bd5}
tr.bucket-A{background:#fff8e6}tr.bucket-B{background:#fdecea}tr.bucket-C{background:#eef4fb}
figure.chart{margin:18px 0}figure.chart svg{max-width:100%;height:auto}
figcaption{font-size:12px;color:#616161}
.legend span{display:inline-block;margin-right:12px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
"""


def _page(title: str, subtitle: str, parts: list[str]) -> str:
    legend = (
        '<div class="legend">'
        + "".join(
            f'<span><i style="background:{c}"></i>bucket {b}</span>'
            for b, c in BUCKET_COLOURS.items()
        )
        + "</div>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{html.escape(title)}</h1><div class="sub">{html.escape(subtitle)}</div>'
        + "".join(parts).replace("{{LEGEND}}", legend)
        + "</body></html>\n"
    )


def render(doc: Any) -> str:
    """The report for ``doc`` (a ``simulate``, ``sweep`` or ``demo`` JSON) as one HTML page."""
    kind = kind_of(doc)
    renderers: dict[str, Callable[[dict[str, Any]], str]] = {
        "simulate": _render_simulate,
        "demo": _render_demo,
        "sweep": _render_sweep,
        "fmli": _render_fmli,
    }
    return renderers[kind](doc)


def _render_fmli(doc: dict[str, Any]) -> str:
    """``plansentry fmli --json``: the matrix of real decisions, the unguarded model in words,
    what could not be costed, the money, and the guarded latency and states."""
    read = "; ".join(
        f"{s['path']} ({s['origin']}, {s['decisions']} decisions)" for s in doc["sections"]
    )
    parts = [
        _cards(doc),
        "<h2>Failure-Mode-Latency-Impact matrix</h2>{{LEGEND}}",
        fmli_table(doc["fmli"]),
    ]
    said = [f"Unguarded ({k}): {v}." for k, v in doc.get("counterfactual", {}).items()]
    said += [f"Not costed: {n} decisions: {why}." for why, n in doc.get("not_costed", {}).items()]
    money = doc.get("money")
    if money:
        said.append(
            f"The guard's uplift: {money['uplift_per_quarter']:,.0f} a quarter for "
            f"{money['fleet']['robots']} robots; the claim of {money['claim_per_quarter']:,.0f} "
            f"implies {money['robots_for_claim']} robots under this model."
        )
    said += [f"Note: {n}" for n in doc.get("notes", [])]
    parts.append("".join(f'<p class="sub">{html.escape(t)}</p>' for t in said))
    dist = doc.get("guarded_distributions")
    if dist and dist["latency_histogram"]["bins"]:
        budgets = [s["budget_ms"] for s in doc["sections"] if s.get("budget_ms")]
        parts.append(
            "<h2>Latency</h2>" + latency_chart(dist, float(budgets[0] if budgets else 150), 5.0)
        )
    if dist and dist["state_seconds"]:
        parts.append("<h2>State machine</h2>" + states_chart(dist))
    return _page("plansentry: FMLI of real decisions", f"plansentry fmli: {read}", parts)


def _render_simulate(doc: dict[str, Any]) -> str:
    cfg = doc.get("config", {})
    profile = cfg.get("profile", {})
    span = f"{cfg.get('cycles'):,} cycles" if cfg.get("cycles") else f"{cfg.get('hours')} h"
    subtitle = (
        f"plansentry simulate: profile {profile.get('name', '?')}, {cfg.get('robots')} robots, "
        f"{span}, seed {cfg.get('seed')}, budget {cfg.get('budget_ms')} ms"
    )
    budget = float(cfg.get("budget_ms", 150.0))
    parts = [
        _cards(doc),
        "<h2>Failure-Mode-Latency-Impact matrix</h2>{{LEGEND}}",
        fmli_table(doc["fmli"]),
    ]
    parts.append("<h2>Impact</h2>" + impact_chart(doc))
    dist = doc.get("guarded_distributions")
    if dist:
        parts.append("<h2>Latency</h2>" + latency_chart(dist, budget, 5.0))
        parts.append("<h2>State machine</h2>" + states_chart(dist))
    if doc.get("budget_sweep"):
        parts.append("<h2>Budget</h2>" + budget_chart(doc["budget_sweep"]))
    return _page("plansentry: fleet simulation report", subtitle, parts)


def _render_demo(doc: dict[str, Any]) -> str:
    cfg = doc.get("config", {})
    subtitle = (
        f"plansentry demo: {cfg.get('robots')} robots, {cfg.get('orders')} orders, seed "
        f"{cfg.get('seed')}; model {doc.get('model', {}).get('name', 'embedded')}"
    )
    decisions = doc["decisions"]
    budget_ms = float(cfg.get("budget_ms", 150.0))
    lat: collections.Counter[int] = collections.Counter()
    arr: collections.Counter[int] = collections.Counter()
    state_s: dict[str, float] = collections.defaultdict(float)
    transitions: collections.Counter[str] = collections.Counter()
    timeline = []
    t0 = min((d["deadline_ns"] for d in decisions), default=0)
    prev: tuple[int, str] | None = None
    for d in sorted(decisions, key=lambda d: d["decided_ns"]):
        if d.get("asked_ns") is not None and d.get("arrival_ns") is not None:
            lat[latency_bin(d["arrival_ns"] - d["asked_ns"])] += 1
            point = d["deadline_ns"] - int(budget_ms * 1e6)
            arr[slack_bin(d["arrival_ns"] - point)] += 1
        if prev is not None:
            state_s[prev[1]] += (d["decided_ns"] - prev[0]) / 1e9
        prev = (d["decided_ns"], d["state_after"])
        for t in d.get("transitions", []):
            transitions[f"{t['from']}>{t['to']}:{t['event']}"] += 1
            timeline.append([(d["decided_ns"] - t0) / 1e9, t["to"]])
    dist = {
        "latency_histogram": histogram_json(LATENCY_BIN_MS, lat),
        "arrival_vs_decision_point_histogram": histogram_json(SLACK_BIN_MS, arr),
        "state_seconds": dict(state_s),
        "transitions": dict(transitions),
        "timeline": timeline,
    }
    parts = [
        _cards(doc),
        "<h2>Failure-Mode-Latency-Impact matrix</h2>{{LEGEND}}",
        fmli_table(doc["fmli"]),
    ]
    parts.append("<h2>Impact</h2>" + impact_chart(doc))
    parts.append("<h2>Latency</h2>" + latency_chart(dist, budget_ms, 5.0))
    parts.append("<h2>State machine</h2>" + states_chart(dist))
    return _page("plansentry: demo report", subtitle, parts)


def _render_sweep(doc: dict[str, Any]) -> str:
    grid = doc["grid"]
    subtitle = (
        f"plansentry sweep: {len(grid)} grid points, engine {doc.get('engine')}, seed "
        f"{doc.get('seed')}, relative CI half-width target {doc.get('ci_rel')}"
    )
    rows = []
    for r in grid:
        g, u = r["guarded"], r["unguarded"]
        rows.append(
            f"<tr><td>{html.escape(r['profile'])}</td><td>{r['robots']}</td><td>{r['budget_ms']:g}</td>"
            f"<td>{r['cycles']:,}</td><td>{percent(u['halt_rate'], u.get('halt_rate_ci95'))}</td>"
            f"<td>{percent(g['halt_rate'], g['halt_rate_ci95'])}</td>"
            f"<td>{percent(g['fallback_rate'])}</td><td>{g['items_per_hour']:,.0f}</td>"
            f"<td>{g['unsafe_executed']}</td><td>{r['risk_reduction']}</td></tr>"
        )
    table = (
        '<table id="grid"><tr><th>profile</th><th>robots</th><th>budget ms</th><th>cycles</th>'
        "<th>halt rate u</th><th>halt rate g (95 % CI)</th><th>fallbacks</th><th>items/h g</th>"
        "<th>unsafe g</th><th>risk reduction</th></tr>" + "".join(rows) + "</table>"
    )
    curve_rows = [
        {
            "budget_ms": r["budget_ms"],
            "fallback_rate": r["guarded"]["fallback_rate"],
            "items_per_hour": r["guarded"]["items_per_hour"],
            "series": f"{r['profile']}, {r['robots']} robots",
        }
        for r in grid
    ]
    parts = [
        "<h2>Grid</h2>" + table,
        "<h2>Budget</h2>" + budget_chart(curve_rows, group="series"),
        "<h2>Rare events</h2>" + sweep_chart(grid),
    ]
    return _page("plansentry: sweep report", subtitle, parts)
