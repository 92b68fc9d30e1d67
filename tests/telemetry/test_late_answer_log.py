"""Late answers in the audit log: a record of their own after the decision, which readers keep and
replay checks without re-deciding (toy kit)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from plansentry.core.decision import Arrival, ArrivalKind
from plansentry.runtime.guard import LateAnswer
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.telemetry.audit import AuditLog, read_log
from plansentry.telemetry.replay import replay


@pytest.fixture
def late_log(tmp_path, kit, ctx, good_bytes) -> tuple[Path, str]:
    """A log of one timed-out decision followed by its late answer (and one good decision)."""
    path = tmp_path / "late.jsonl"
    cfg = kit.config()
    with AuditLog(path, kit=kit, config=cfg) as log:
        guard = kit.guard(config=cfg, hooks=[log])
        rt = VirtualRuntime(guard)
        d = rt.decide(ctx, now_ns=0, output=None, latency_ms=None, request_id="stopped")
        assert d.failure_mode is not None and d.failure_mode.value == "timeout"
        guard.late_answer(
            LateAnswer(
                "stopped",
                Arrival.output(good_bytes, 4_000_000_000, "v"),
                asked_ns=d.asked_ns,
                how="rerun",
                generation_ns=3_900_000_000,
            )
        )
        rt.decide(ctx, now_ns=10**10, output=good_bytes, latency_ms=10.0)
    return path, d.request_id


def test_late_answer_is_a_record_after_its_decision(late_log) -> None:
    """The log holds header, decision, late_answer, decision, in that order, with the answer's
    request id, how it was measured, its generation time and its text."""
    path, rid = late_log
    records = read_log(path).records
    assert [r["type"] for r in records] == ["header", "decision", "late_answer", "decision"]
    late = records[2]
    assert (late["request_id"], late["how"], late["generation_ns"]) == (rid, "rerun", 3_900_000_000)
    assert late["arrival"]["kind"] == ArrivalKind.OUTPUT.value
    assert late["arrival"]["at_ns"] == 4_000_000_000


def test_replay_skips_late_answers_and_counts_them(late_log) -> None:
    """Replay re-decides the two decisions only: no difference, one late answer matched."""
    path, _ = late_log
    result = replay(path)
    assert (result.decisions, result.differences, result.late_answers) == (2, [], 1)
    assert result.ok


def test_late_answer_naming_no_logged_decision_fails_replay(late_log) -> None:
    """A late answer whose request no decision before it names is reported, and replay is not ok."""
    path, _ = late_log
    lines = path.read_bytes().splitlines()
    late = msgspec.json.decode(lines[2])
    late["request_id"] = "nobody"
    path.write_bytes(b"\n".join([*lines[:2], msgspec.json.encode(late), *lines[3:]]) + b"\n")
    result = replay(path)
    assert result.unmatched_late_answers == ["nobody"]
    assert not result.ok
