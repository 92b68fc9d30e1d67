"""The README's commands run: the side-by-side script, on a few steps; the benches' ``--json``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from plansentry_rware.fetch_planner import DECLARED_WCET_MS

BENCH = Path(__file__).resolve().parents[1] / "bench"
CONTROLLERS = ("pilot", "pilot_guard", "plansentry", "classical")  # side_by_side.py's


def test_the_side_by_side_script_runs_and_prints_its_tables() -> None:
    """One seed, 60 steps: the table has a row per profile and controller, and the lists follow."""
    done = subprocess.run(
        [sys.executable, str(BENCH / "side_by_side.py"), "--seeds", "1", "--steps", "60"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    rows = [
        line for line in done.stdout.splitlines() if line.startswith(("| pilot |", "| chaos |"))
    ]
    assert len(rows) == 8
    assert "Where the two judges disagree" in done.stdout
    assert "the kit's verdict against rware's judgement" in done.stdout


def _json_of(script: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)  # one document, nothing else on stdout


def test_the_fallback_wcet_script_prints_one_json_document() -> None:
    """A row per floor and fleet size; the slowest run is the rows' largest, the hardest
    moment's best run is no slower than the slowest run."""
    doc = _json_of("fallback_wcet.py", "--moments", "2", "--repeats", "2")
    assert doc["bench"] == "rware-fallback-wcet"
    assert (doc["moments"], doc["repeats"], doc["seed"]) == (2, 2, 1)
    assert doc["declared_wcet_ms"] == DECLARED_WCET_MS
    assert [(r["floor"], r["robots"]) for r in doc["rows"]] == [
        (f, n) for f in ("tiny", "small", "medium", "large") for n in (2, 10, 19)
    ]
    for r in doc["rows"]:
        assert set(r) == {
            "floor", "robots", "hardest_ms", "p99_ms", "max_ms", "max_cpu_ms", "no_plan", "gate_ms"
        }  # fmt: skip
        assert 0 < r["hardest_ms"] <= r["max_ms"]
        assert 0 <= r["no_plan"] <= 2
    assert doc["slowest_ms"] == max(r["max_ms"] for r in doc["rows"])


def test_the_side_by_side_script_prints_one_json_document() -> None:
    """A row per profile and controller, with rware's counts; the disagreements and the
    verdict-against-judgement rows add up."""
    doc = _json_of("side_by_side.py", "--seeds", "2", "--steps", "40")
    assert doc["bench"] == "rware-side-by-side"
    assert (doc["size"], doc["robots"], doc["steps"], doc["seeds"]) == ("tiny", 4, 40, 2)
    assert [(r["profile"], r["controller"]) for r in doc["table"]] == [
        (p, c) for p in ("pilot", "chaos") for c in CONTROLLERS
    ]
    for r in doc["table"]:
        c = r["counts"]
        assert c["robot_steps"] == 2 * 4 * 40
        rate = r["deliveries_per_1000_robot_steps"]
        assert rate == 1000 * c["deliveries"] / c["robot_steps"]
        # the interval is over the seeds: equal robot-steps per seed, so their mean is the rate
        assert len(r["deliveries_per_1000_per_seed"]) == 2
        assert sum(r["deliveries_per_1000_per_seed"]) / 2 == pytest.approx(rate)
        lo, hi = r["deliveries_per_1000_ci95"]
        assert lo <= rate <= hi
        assert c["refused_by_shelf"] <= c["refused_moves"]
    by_kit: dict[str, int] = {}
    for j in doc["judged"]:
        by_kit[j["kit"]] = by_kit.get(j["kit"], 0) + j["plans"]
    for j in doc["judged"]:
        assert j["share"] == j["plans"] / by_kit[j["kit"]]
    assert sum(d["plans"] for d in doc["disagreements"]) <= sum(by_kit.values())
