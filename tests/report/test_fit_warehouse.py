"""``plansentry fit``: the warehouse's profile from real decisions, and the round trip through the
simulator (simulate P with an audit log, fit it, get P back within its intervals, and simulate
the fitted profile to the log's FMLI rates)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run_cli
from plansentry.domains.warehouse.world.profiles import FAULTS
from plansentry.domains.warehouse.world.world import WarehouseWorld
from plansentry.report.decisions import Answer
from plansentry.report.fit import LatencyFit, bonferroni_z
from plansentry.report.stats import wilson
from plansentry.sim.fit import fault_of
from plansentry.sim.profiles import load_profile
from warehouse_fixtures import PROFILES

CYCLES = 10_000


def _answer(mode, rules=(), extraction="bare", repaired=False) -> Answer:
    return Answer(b"{}", mode, frozenset(rules), repaired, extraction, 0, 1)


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (_answer(None), ""),
        (_answer(None, extraction="prose"), "malformed"),
        (_answer(None, extraction="fence"), "malformed"),
        (_answer(None, repaired=True), "malformed"),
        (_answer("malformed"), "malformed"),
        (_answer("empty"), "malformed"),
        (_answer("oversize"), "malformed"),
        (_answer("schema"), "schema"),
        (_answer("invalid", ["bin_exists", "coverage"]), "hallucinated_bin"),
        (_answer("invalid", ["coverage"]), "incomplete"),
        (_answer("invalid", ["robot_id"]), None),
        (_answer("unsafe", ["speed_limit"]), "unsafe"),
        (_answer("stale", ["order_id"]), "stale"),
    ],
    ids=lambda v: v if isinstance(v, str | type(None)) else f"{v.mode}-{v.extraction}",
)
def test_what_the_gate_saw_maps_onto_the_profile_faults(answer: Answer, kind) -> None:
    """Each gate verdict becomes the profile fault the mapping states (None: no fault matches)."""
    assert fault_of(answer, WarehouseWorld) == kind


def test_every_mapped_fault_is_a_profile_fault() -> None:
    """The mapping never names a fault the simulator does not have (read at run time)."""
    for mode in ("malformed", "empty", "oversize", "schema", "unsafe", "stale", "slow"):
        found = fault_of(_answer(mode), WarehouseWorld)
        assert found is None or found in FAULTS


def _simulate(tmp: Path, profile: str, seed: int, *, log: Path | None = None) -> dict:
    args = ["simulate", "--profile", profile, "--cycles", str(CYCLES), "--seed", str(seed)]
    args += ["--json"] + (["--audit-log", str(log)] if log is not None else [])
    code, out, err = run_cli(args, timeout_s=900)
    assert code == 0, err[-2000:]
    return json.loads(out)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory) -> dict:
    """chaos (every fault at 1 % or more, a heavy tail, 1 % stalls) simulated with an audit log,
    then fitted."""
    tmp = tmp_path_factory.mktemp("round")
    log = tmp / "chaos.jsonl"
    _simulate(tmp, "chaos", 1, log=log)
    fitted = tmp / "fitted.yaml"
    code, out, err = run_cli(["fit", str(log), "-o", str(fitted), "--json"], timeout_s=600)
    assert code == 0, err[-2000:]
    code, fmli, err = run_cli(["fmli", str(log), "--json"], timeout_s=600)
    assert code == 0, err[-2000:]
    return {"fit": json.loads(out), "profile": fitted, "log": log, "fmli": json.loads(fmli)}


def test_fitted_profile_loads_in_simulate(round_trip) -> None:
    """The written YAML is a profile simulate loads, with the fitted figures."""
    p = load_profile(str(round_trip["profile"]))
    assert p.median_s == pytest.approx(round_trip["fit"]["profile"]["median_s"])


@pytest.mark.parametrize("kind", FAULTS)
def test_round_trip_rates_lie_in_the_simultaneous_intervals(round_trip, kind: str) -> None:
    """P's rate of every fault (among calls that answer, as the fit counts them) lies in the
    fitted rate's simultaneous 95 % interval (Bonferroni over every fault)."""
    p = PROFILES["chaos"]
    fit = round_trip["fit"]
    rows = {r["kind"]: r for r in [*fit["rates"], fit["stall"]]}
    truth = p.rate(kind) if kind == "stall" else p.rate(kind) / (1 - p.rate("stall"))
    lo, hi = rows[kind]["simultaneous_ci95"]
    assert lo <= truth <= hi, (kind, truth, lo, hi)


@pytest.mark.parametrize("q", [0.5, 0.9, 0.99])
def test_round_trip_latency_quantiles_within_ten_percent(round_trip, q: float) -> None:
    """The fitted latency's p50, p90 and p99 within 10 % of P's."""
    p = PROFILES["chaos"]
    truth = LatencyFit(
        p.median_s, p.sigma, p.tail_p, p.tail_min_s, p.tail_alpha, 0.0, 0, 0, 0.0
    ).quantile(q)
    got = round_trip["fit"]["latency"][f"p{round(q * 100)}_s"]
    assert got == pytest.approx(truth, rel=0.10)


def test_simulating_the_fitted_profile_reproduces_the_log_fmli_rates(round_trip, tmp_path) -> None:
    """simulate --profile P' (another seed): each failure mode's rate lies in the log's own
    simultaneous 95 % interval (Bonferroni over the modes)."""
    again = _simulate(tmp_path, str(round_trip["profile"]), 2)
    logged = {r["failure_mode"]: r for r in round_trip["fmli"]["fmli"]}
    calls = round_trip["fmli"]["guarded"]["model_calls"]
    z = bonferroni_z(len(logged))
    simulated = {r["failure_mode"]: r for r in again["fmli"]}
    for mode, row in logged.items():
        lo, hi = wilson(row["count"], calls, z)
        rate = simulated[mode]["rate"] if mode in simulated else 0.0
        assert lo <= rate <= hi, (mode, rate, lo, hi)
