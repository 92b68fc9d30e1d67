"""``plansentry kits`` and ``plansentry check --domain rware``, as a user runs them, on the
examples the README quotes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "outputs.jsonl"


def plansentry(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plansentry.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_kits_lists_rware() -> None:
    """The entry point makes the kit known to plansentry without any registration code."""
    done = plansentry("kits")
    assert done.returncode == 0
    assert "rware: one robot's fetch" in done.stdout and "rware-rules/1" in done.stdout


def test_check_judges_the_examples_against_the_example_context() -> None:
    """Good and fenced outputs pass; truncated, an unrequested shelf, a loaded shortcut through
    the storage block and another task's plan each get their failure mode, and the fetch
    planner's plan in their place."""
    done = plansentry("check", "--domain", "rware", str(EXAMPLES))
    assert done.returncode == 0, done.stderr
    got = {r["id"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert {k: r["failure_mode"] for k, r in got.items()} == {
        "good": None,
        "fenced": None,
        "truncated": "malformed",
        "unrequested_shelf": "unsafe",
        "loaded_shortcut": "unsafe",
        "stale": "stale",
    }
    shortcut = {v["rule"] for v in got["loaded_shortcut"]["violations"]}
    assert shortcut == {"loaded_through_shelf", "loaded_off_highway"}
    assert all(r["source"] == "fetch_planner" for k, r in got.items() if r["failure_mode"])
