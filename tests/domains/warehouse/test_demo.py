"""``plansentry demo``: the pilot's story told with every wait costed, the same FMLI matrix as
``plansentry fmli`` of its audit log, tables readable at 80 columns; and the promises of the main
job with the embedded model."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from rich.console import Console

from helpers import FMLI_ROW_KEYS
from plansentry.domains.warehouse.classical import ClassicalPlanner
from plansentry.domains.warehouse.commands.demo import _report
from plansentry.domains.warehouse.demo import (
    DemoConfig,
    SerialModel,
    measure_unseen,
    meta,
    run_demo,
    summarize,
)
from plansentry.domains.warehouse.kit import warehouse_kit
from plansentry.domains.warehouse.schema import encode_plan
from plansentry.report.decisions import fmli_document, read_sections, tally_sections
from plansentry.runtime.planner import PlannerStopped, StopToken
from plansentry.runtime.realtime import RealtimeRuntime
from plansentry.telemetry.audit import AuditLog, read_log


class ScriptedModel:
    """A model with the pilot's failures, by order number: every third order's answer takes
    0.3 s (past any decision point here), every other order's repeats a line (invalid), the
    rest are the classical plan. It lets go as soon as it is stopped."""

    def __init__(self, domain) -> None:
        self.classical = ClassicalPlanner(domain.router)

    def __call__(self, ctx, stop: StopToken) -> bytes:
        n = int(ctx.order.order_id.split("-")[-1])
        if n % 3 == 0 and stop.wait(0.3):
            raise PlannerStopped("stopped")
        plan = self.classical.plan(ctx).plan
        assert plan is not None
        text = encode_plan(plan)
        if n % 2 == 0 and len(plan.picks) > 1:
            data = msgspec.json.decode(text)
            data["picks"] = [data["picks"][0], *data["picks"][:-1]]
            text = msgspec.json.encode(data)
        return text


class DeafModel(ScriptedModel):
    """The scripted model, but its slow answers ignore the stop token: they come back, late, on
    their own (a planner that cannot be interrupted)."""

    def __call__(self, ctx, stop: StopToken) -> bytes:
        return super().__call__(ctx, StopToken())  # a token nobody stops: deaf to ``stop``


def demo_run(tmp_path_factory, domain, model) -> dict:
    """The demo's own wiring (commands/demo.py) around ``model``, warehouse time x10,000 so that a
    decision point follows its ask at once: its audit log and its JSON document."""
    log = tmp_path_factory.mktemp("demo") / "demo.jsonl"
    kit = warehouse_kit(domain=domain)
    config = DemoConfig(orders=9, robots=2, time_scale=10_000.0)
    guard_config = kit.config()
    audit = AuditLog(log, kit=kit, config=guard_config, meta=meta(config))
    guard = kit.guard(config=guard_config, hooks=[audit])
    runtime = RealtimeRuntime(guard, workers=5)
    serial = SerialModel(model, runtime.clock.now_ns)
    try:
        run = run_demo(runtime, domain, serial, config)
        measure_unseen(run, guard, model, clock=runtime.clock.now_ns, started=serial.started)
    finally:
        runtime.close()
        audit.close()
    return {"log": log, "doc": summarize(run, kit, guard_config), "run": run}


@pytest.fixture(scope="module")
def scripted_run(tmp_path_factory, domain) -> dict:
    return demo_run(tmp_path_factory, domain, ScriptedModel(domain))


@pytest.mark.realtime
def test_every_unseen_answer_is_measured_and_costed(scripted_run) -> None:
    """Each decision whose answer the fleet never saw (stopped, or not asked) has a rerun late
    answer in the audit log, and nothing is left not costed."""
    run, doc = scripted_run["run"], scripted_run["doc"]
    unseen = [r for r in run.records if r.unseen]
    assert unseen, "the scripted model's slow answers must miss their decision points"
    late = [r for r in read_log(scripted_run["log"]).records if r["type"] == "late_answer"]
    assert sorted(r["request_id"] for r in late) == sorted(r.decision.request_id for r in unseen)
    assert {r["how"] for r in late} <= {"rerun", "returned"}  # returned: a call late on a busy box
    assert doc["not_costed"] == {}
    assert doc["unguarded"]["decisions"] == doc["guarded"]["decisions"] == len(run.records)


@pytest.mark.realtime
def test_an_abandoned_call_that_comes_back_is_measured_once_as_it_came(
    tmp_path_factory, domain
) -> None:
    """Regression (a busy CI machine: one decision with two late answers): a call past its
    cut-off that ignores its stop token comes back on its own; that answer is its measurement,
    and its prompt is not run again."""
    deaf = demo_run(tmp_path_factory, domain, DeafModel(domain))
    unseen = [r for r in deaf["run"].records if r.unseen]
    late = [r for r in read_log(deaf["log"]).records if r["type"] == "late_answer"]
    assert sorted(r["request_id"] for r in late) == sorted(r.decision.request_id for r in unseen)
    returned = [r for r in late if r["how"] == "returned"]
    assert returned, "the deaf model's slow answers must come back on their own"
    assert deaf["doc"]["not_costed"] == {}


@pytest.mark.realtime
def test_unguarded_column_costs_the_late_and_the_bad_answers(scripted_run) -> None:
    """The unguarded robot waits for the slow answers (downtime) and loses the repeated lines'
    items; the guarded fleet served those decisions with the classical plan."""
    doc = scripted_run["doc"]
    rows = {r["failure_mode"]: r for r in doc["fmli"]}
    assert rows["timeout"]["downtime_s_unguarded"] > 0
    assert rows["invalid"]["items_lost_unguarded"] > 0
    assert doc["unguarded"]["downtime_s"] > doc["guarded"]["downtime_s"]
    assert doc["guarded"]["items_lost"] == 0 and doc["guarded"]["unsafe_executed"] == 0
    assert set(doc["fmli"][0]) >= FMLI_ROW_KEYS


@pytest.mark.realtime
def test_fmli_of_the_audit_log_agrees_with_the_demo_table(scripted_run) -> None:
    """plansentry fmli's document of the demo's audit log has the demo's rows and both
    controllers' figures, exactly."""
    doc = scripted_run["doc"]
    again = fmli_document(tally_sections(read_sections(scripted_run["log"])))
    assert again["fmli"] == doc["fmli"]
    assert again["unguarded"] == doc["unguarded"]
    assert {k: again["guarded"][k] for k in again["guarded"]} == {
        k: doc["guarded"][k] for k in again["guarded"]
    }


@pytest.mark.realtime
def test_fmli_of_the_demo_json_agrees_with_the_demo_table(scripted_run, tmp_path) -> None:
    """demo --json is itself an input of plansentry fmli, with the same rows."""
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(scripted_run["doc"]))
    again = fmli_document(tally_sections(read_sections(path)))
    assert again["fmli"] == scripted_run["doc"]["fmli"]


@pytest.mark.realtime
def test_demo_report_fits_in_80_columns(scripted_run) -> None:
    """The end-of-run report rendered at width 80: no line longer, no cell cut, no caveat."""
    doc = {**scripted_run["doc"], "model": {**scripted_run["doc"]["model"], "path": "scripted"}}
    buf = io.StringIO()
    _report(Console(file=buf, width=80, highlight=False, color_system=None), doc)
    text = buf.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    assert "not costed" not in text
    assert "unguarded" in text and "guarded" in text


def _demo(args: list[str], timeout_s: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plansentry.cli", "demo", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


@pytest.mark.model
@pytest.mark.realtime
def test_demo_json_keeps_every_promise(tmp_path: Path) -> None:
    """With the embedded model: every order served, no unsafe plan, nothing lost; every answer
    costed unguarded; fmli of the audit log agrees with the demo's matrix; the log replays."""
    log = tmp_path / "demo.jsonl"
    # warehouse time x200: orders take a fraction of a generation, so most answers miss their
    # decision points and are measured after the run (the newcomer's test runs --time-scale auto)
    args = ["--orders", "3", "--robots", "2", "--time-scale", "200"]
    proc = _demo([*args, "--json", "--audit-log", str(log)])
    doc = json.loads(proc.stdout)
    g = doc["guarded"]
    assert g["unsafe_executed"] == 0 and g["lost_orders"] == 0 and g["items_lost"] == 0
    assert g["decisions"] == len(doc["decisions"])
    served = {d["order_id"] for d in doc["decisions"] if d["source"] != "safe_move"}
    assert served == {f"O-{i:05d}" for i in range(1, 4)}
    assert doc["not_costed"] == {}
    assert doc["unguarded"]["decisions"] == g["decisions"]
    assert all(set(row) >= FMLI_ROW_KEYS for row in doc["fmli"])
    again = fmli_document(tally_sections(read_sections(log)))
    assert again["fmli"] == doc["fmli"]
    from plansentry.report.html import render

    assert render(doc).count('class="chart"') == 3  # the demo's report: impact, latency, states
    replayed = subprocess.run(
        [sys.executable, "-m", "plansentry.cli", "replay", str(log)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert replayed.stdout.strip().endswith("0 differences"), replayed.stdout[-2000:]
    assert proc.returncode in (0, 1), proc.stderr[-2000:]  # 1: a decision past its deadline


@pytest.mark.model
@pytest.mark.realtime
def test_demo_prints_both_columns_with_no_caveat() -> None:
    """The newcomer's view: the unguarded and guarded columns side by side, at 80 columns, with
    no 'not costed' caveat."""
    proc = subprocess.run(
        [sys.executable, "-m", "plansentry.cli", "demo", "--orders", "2", "--robots", "1"],
        capture_output=True,
        text=True,
        timeout=900,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
    )
    out = proc.stdout
    assert "Same answers, unguarded and guarded" in out, proc.stderr[-2000:]
    assert "not costed" not in out
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize(
    ("generation_s", "robots"), [(3.0, 2), (1.0, 4), (0.5, 1)], ids=["2x3s", "4x1s", "1x0.5s"]
)
def test_auto_time_scale_gives_the_median_order_twice_the_fleets_generation_time(
    domain, generation_s: float, robots: int
) -> None:
    """--time-scale auto: the run's median order executes, in wall-clock time, in AUTO_SLACK times
    robots x one generation."""
    from plansentry.domains.warehouse.demo import AUTO_SLACK, auto_time_scale

    config = DemoConfig(orders=20, robots=robots)
    scale, median_s = auto_time_scale(domain, config, generation_s)
    assert median_s / scale == pytest.approx(AUTO_SLACK * robots * generation_s)


@pytest.mark.parametrize(("generation_s", "bound"), [(1e6, 1.0), (1e-6, 1000.0)])
def test_auto_time_scale_is_clamped(domain, generation_s: float, bound: float) -> None:
    """A model far too slow or too fast for the warehouse: the scale stops at 1 or 1000."""
    from plansentry.domains.warehouse.demo import auto_time_scale

    assert auto_time_scale(domain, DemoConfig(), generation_s)[0] == bound
