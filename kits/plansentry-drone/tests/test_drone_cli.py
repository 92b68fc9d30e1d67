"""``plansentry check --domain drone`` and ``plansentry kits``, as a user runs them."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import msgspec


def plansentry(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plansentry.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_kits_lists_the_drone(tmp_path) -> None:
    """The entry point makes the kit known to plansentry without any registration code."""
    done = plansentry("kits")
    assert done.returncode == 0
    assert "drone: a delivery drone's mission" in done.stdout and "drone-rules/1" in done.stdout


def test_check_judges_outputs_with_and_without_a_record_context(
    tmp_path, kit, good_plan, good_bytes
) -> None:
    """Good, malformed and unsafe outputs against the example context; a drone of its own with
    too little battery (a record's top-level key); a whole context of its own (another mission):
    each gets its failure mode, its rules and its plan."""
    unsafe = msgspec.json.encode(
        msgspec.structs.replace(
            good_plan, waypoints=(good_plan.waypoints[0], *good_plan.waypoints[2:])
        )
    )
    weak_drone = {**kit.example_context["drone"], "battery_wh": 60.0}
    other = copy.deepcopy(kit.example_context)
    other["mission"]["mission_id"] = "M-2"
    records = [
        {"id": "good", "output": good_bytes.decode(), "latency_ms": 90},
        {"id": "malformed", "output": '{"mission_id": "M-EX-1", "waypoints": [[0, 0, 60]'},
        {"id": "unsafe", "output": unsafe.decode()},
        {"id": "weak", "output": good_bytes.decode(), "drone": weak_drone},
        {"id": "other", "output": good_bytes.decode(), "context": other},
    ]
    path = tmp_path / "outputs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    done = plansentry("check", "--domain", "drone", str(path))
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert rows["good"]["accepted"] and rows["good"]["failure_mode"] is None
    assert (rows["malformed"]["failure_mode"], rows["malformed"]["source"]) == (
        "malformed",
        "mission_planner",
    )
    unsafe_row = rows["unsafe"]
    assert (unsafe_row["failure_mode"], unsafe_row["bucket"]) == ("unsafe", "B")
    assert [v["rule"] for v in unsafe_row["violations"]] == ["no_fly_zone"]
    weak = rows["weak"]
    assert [v["rule"] for v in weak["violations"]] == ["battery_reserve"]
    assert weak["source"] == "safe_move" and weak["plan"]["safe_move"]["action"] == "land"
    other_row = rows["other"]
    assert other_row["failure_mode"] == "stale"
    assert [v["rule"] for v in other_row["violations"]] == ["mission_id"]
    assert other_row["plan"]["mission_id"] == "M-2"


def test_check_names_a_bad_record_context_and_goes_on(tmp_path, good_bytes) -> None:
    """A record whose drone has a string battery: an error line naming the field, exit 1, the
    next record still judged."""
    records = [
        {"id": "bad", "output": "{}", "drone": {"drone_id": "DR-1", "battery_wh": "full"}},
        {"id": "good", "output": good_bytes.decode()},
    ]
    done = plansentry(
        "check", "--domain", "drone", stdin="".join(json.dumps(r) + "\n" for r in records)
    )
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 1
    assert rows[0]["id"] == "bad" and "drone" in rows[0]["error"]
    assert rows[1]["accepted"]
