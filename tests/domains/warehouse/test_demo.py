"""`plansentry demo` with the embedded model: the promises of the main job."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import FMLI_ROW_KEYS

pytestmark = [pytest.mark.model, pytest.mark.realtime]


def test_demo_json_keeps_every_promise(tmp_path) -> None:
    """Every order completed or requeued, 0 halts, 0 unsafe, every decision on time; the JSON has
    the FMLI rows and the unguarded counterfactual; its audit log replays with 0 differences."""
    log = tmp_path / "demo.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "plansentry.cli",
            "demo",
            "--orders",
            "6",
            "--robots",
            "2",
            "--json",
            "--audit-log",
            str(log),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    g = doc["guarded"]
    assert g["halts"] == 0 and g["unsafe_executed"] == 0 and g["lost_orders"] == 0
    assert g["downtime_s"] >= 0  # safe-move holds, if any; measured, never assumed
    assert g["decisions_on_time"] == g["cycles"] == len(doc["decisions"])
    served = {d["order_id"] for d in doc["decisions"] if d["source"] != "safe_move"}
    assert served == {f"O-{i:05d}" for i in range(1, 7)}
    assert {"halts", "downtime_s", "unsafe_executed", "items_lost"} <= set(doc["unguarded"])
    assert isinstance(doc["fmli"], list)
    from plansentry.report.html import render

    assert render(doc).count('class="chart"') == 3  # the demo's report: impact, latency, states
    assert all(set(row) >= FMLI_ROW_KEYS for row in doc["fmli"])
    replayed = subprocess.run(
        [sys.executable, "-m", "plansentry.cli", "replay", str(log)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert replayed.returncode == 0 and replayed.stdout.strip().endswith("0 differences")
