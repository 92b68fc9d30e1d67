"""``plansentry replay`` as a user runs it, on a log the toy kit wrote: telemetry serves any installed
kit, and says in one line which kit or rules a log needs when this installation lacks them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from plansentry.runtime.virtual import VirtualRuntime
from plansentry.telemetry.audit import AuditLog

DECISIONS = 40


def plansentry_replay(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plansentry.cli", "replay", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def toy_log(tmp_path, kit, ctx, good_bytes) -> Path:
    """A log of toy decisions: accepted, malformed, unsafe and late answers in turn."""
    path = tmp_path / "audit.jsonl"
    unsafe = good_bytes.replace(b'"speed":1.0', b'"speed":3.0')
    answers = [(good_bytes, 10.0), (b"{", 10.0), (unsafe, 10.0), (good_bytes, 400.0)]
    cfg = kit.config()
    with AuditLog(path, kit=kit, config=cfg) as log:
        rt = VirtualRuntime(kit.guard(config=cfg, hooks=[log]))
        for i in range(DECISIONS):
            output, latency_ms = answers[i % len(answers)]
            rt.decide(ctx, now_ns=i * 10**9, output=output, latency_ms=latency_ms)
    return path


def test_toy_log_replays_with_zero_differences(toy_log: Path) -> None:
    """The command rebuilds the toy kit from the header and reproduces every decision: exit 0."""
    proc = plansentry_replay(toy_log)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines()[-1] == f"{DECISIONS} decisions replayed, 0 differences"


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("name", "no-such-kit", "no domain kit 'no-such-kit' is installed"),
        ("rules_version", "toy/0", "domain kit 'toy' cannot apply rules 'toy/0'"),
    ],
    ids=["kit-not-installed", "rules-version-unknown"],
)
def test_log_this_installation_cannot_replay_is_a_one_line_error(
    toy_log: Path, field: str, value: str, needle: str
) -> None:
    """A header naming a kit that is not installed, or rules the kit lacks: one line naming it,
    exit 2, no traceback."""
    header, rest = toy_log.read_text().split("\n", 1)
    record = json.loads(header)
    record["domain"][field] = value
    toy_log.write_text(json.dumps(record) + "\n" + rest)
    proc = plansentry_replay(toy_log)
    assert proc.returncode == 2 and proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert line.startswith("plansentry: error: ") and needle in line
