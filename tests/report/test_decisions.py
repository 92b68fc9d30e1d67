"""Real decisions tallied into the FMLI matrix (report/decisions.py), on warehouse and toy logs
written by the virtual runtime: the guarded side from the log, the unguarded side from the kit's
counterfactual model, and nothing priced that nobody measured."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from plansentry.core.decision import Arrival
from plansentry.core.errors import InputError
from plansentry.domains.warehouse.classical import ClassicalPlanner
from plansentry.domains.warehouse.examples import default_order
from plansentry.domains.warehouse.kit import warehouse_kit
from plansentry.domains.warehouse.map import default_map
from plansentry.domains.warehouse.schema import encode_plan
from plansentry.domains.warehouse.world.unguarded import CLIENT_TIMEOUT_S, RESTART_S
from plansentry.report.decisions import (
    UNGUARDED_KEYS,
    DecisionRow,
    fmli_document,
    read_sections,
    tally_sections,
)
from plansentry.report.tally import row_key
from plansentry.runtime.guard import LateAnswer
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.telemetry.audit import AuditLog

S = 1_000_000_000


@pytest.fixture(scope="module")
def wkit():
    return warehouse_kit()


@pytest.fixture(scope="module")
def wctx(wkit):
    wh = default_map()
    return wkit.domain.context(default_order(wh), "R1", wh.pack_stations["PACK-1"])


@pytest.fixture(scope="module")
def plan_bytes(wkit, wctx) -> bytes:
    plan = ClassicalPlanner(wkit.domain.router).plan(wctx).plan
    assert plan is not None
    return encode_plan(plan)


def _duplicate_first_pick(good: bytes) -> bytes:
    data = msgspec.json.decode(good)
    data["picks"] = [data["picks"][0], *data["picks"]][: len(data["picks"])]
    return msgspec.json.encode(data)


def write_log(path: Path, kit, ctx, answers, *, late=None, meta=None) -> Path:
    """One decision per ``(output, latency_ms)`` of ``answers``, 100 s apart, asked 1 s ahead;
    ``late``: ``{index: (text, latency_s)}`` late answers recorded after those decisions."""
    cfg = kit.config()
    with AuditLog(path, kit=kit, config=cfg, meta=meta) as log:
        guard = kit.guard(config=cfg, hooks=[log])
        rt = VirtualRuntime(guard)
        for i, (output, latency_ms) in enumerate(answers):
            d = rt.decide(
                ctx,
                now_ns=(i + 1) * 100 * S,
                output=output,
                latency_ms=latency_ms,
                ask_ahead_ms=1000.0,
                request_id=f"q{i}",
            )
            if late and i in late:
                text, latency_s = late[i]
                assert d.asked_ns is not None
                at = d.asked_ns + int(latency_s * S)
                guard.late_answer(
                    LateAnswer(d.request_id, Arrival.output(text, at, ctx.version), d.asked_ns)
                )
    return path


@pytest.mark.parametrize(
    ("mode", "extraction", "repairs", "key"),
    [
        (None, "bare", (), None),
        (None, "fence", (), "malformed"),
        (None, "prose", (), "malformed"),
        (None, "bare", ("trailing_comma",), "malformed"),
        ("invalid", "bare", (), "invalid"),
        ("timeout", "", (), "timeout"),
    ],
)
def test_row_key(mode, extraction, repairs, key) -> None:
    """A failure mode is its own row; output a bare parser refuses but the gate used is malformed."""
    assert row_key(mode, extraction, repairs) == key


def test_timeout_without_late_answer_is_not_costed(tmp_path, wkit, wctx) -> None:
    """A stopped call nobody measured is counted under not_costed with its reason, never as 0."""
    log = write_log(tmp_path / "a.jsonl", wkit, wctx, [(None, None)])
    t = tally_sections(read_sections(log))
    assert t.not_costed == {
        "timeout: nobody measured when the answer would have come (no late answer)": 1
    }
    assert t.unguarded.cycles == 0
    doc = fmli_document(t)
    assert doc["unguarded"] is None and doc["money"] is None
    assert all(not (set(r) & UNGUARDED_KEYS) for r in doc["fmli"])


def test_late_answer_costs_the_unguarded_wait(tmp_path, wkit, wctx, plan_bytes) -> None:
    """A stopped call whose answer came 6 s after asking (1 s before its decision point): the
    unguarded robot waits 5 s and executes the good plan; the timeout row holds the wait."""
    log = write_log(tmp_path / "b.jsonl", wkit, wctx, [(None, None)], late={0: (plan_bytes, 6.0)})
    t = tally_sections(read_sections(log))
    assert not t.not_costed
    assert t.unguarded.downtime_s == pytest.approx(5.0)
    assert t.unguarded.halts == 0
    row = t.unguarded.modes["timeout"]
    assert (row.count, row.downtime_s, dict(row.mitigation)) == (
        1,
        pytest.approx(5.0),
        {"waited": 1},
    )


def test_answer_past_the_client_timeout_is_a_halt(tmp_path, wkit, wctx, plan_bytes) -> None:
    """An answer 40 s after asking: the unguarded client gave up at 30 s and restarted (12 s)."""
    log = write_log(tmp_path / "c.jsonl", wkit, wctx, [(None, None)], late={0: (plan_bytes, 40.0)})
    t = tally_sections(read_sections(log))
    assert t.unguarded.halts == 1
    assert t.unguarded.downtime_s == pytest.approx(CLIENT_TIMEOUT_S - 1.0 + RESTART_S)


def test_bad_answers_in_time_cost_what_the_simulator_says(tmp_path, wkit, wctx, plan_bytes) -> None:
    """Malformed: the unguarded robot halts for a restart; a repeated line: it executes the plan
    and loses the missing line's items; the guard served both with the classical plan."""
    bad = _duplicate_first_pick(plan_bytes)
    log = write_log(tmp_path / "d.jsonl", wkit, wctx, [(b"{", 10.0), (bad, 10.0)])
    doc = fmli_document(tally_sections(read_sections(log)))
    rows = {r["failure_mode"]: r for r in doc["fmli"]}
    missing = default_order(default_map()).lines[-1].qty
    assert rows["malformed"]["halts_unguarded"] == 1
    assert rows["malformed"]["downtime_s_unguarded"] == pytest.approx(RESTART_S)
    assert rows["invalid"]["items_lost_unguarded"] == missing
    assert rows["invalid"]["halts_unguarded"] == 0
    assert doc["guarded"]["sources"] == {"classical": 2}
    assert doc["unguarded"]["items_lost"] == missing


def test_detection_latency_runs_from_the_decision_point(tmp_path, wkit, wctx) -> None:
    """A timeout is detected at the runtime's wake-up, measured from deadline minus budget."""
    log = write_log(tmp_path / "e.jsonl", wkit, wctx, [(None, None)])
    cfg = wkit.config()
    row = tally_sections(read_sections(log)).guarded.modes["timeout"]
    woke_ms = cfg.budget_ms - cfg.early_wake_ms(0.005)
    assert row.detect_ms == [pytest.approx(woke_ms)]


def test_safe_move_hold_comes_from_the_log_meta(tmp_path, wkit, wctx) -> None:
    """A safe move's hold (meta.safe_action_s) is guarded downtime and a halt; without it, a note
    says the log does not tell."""
    log = write_log(tmp_path / "f.jsonl", wkit, wctx, [(b"{", 10.0)])
    (section,) = read_sections(log)
    row = section.rows[0]
    held = {**row.decision, "plan": {"safe_move": {"action": "hold", "reason": "no plan"}}}
    section.rows = [DecisionRow(held, row.context, row.arrival)]
    bare = tally_sections([section])
    section.meta = {"safe_action_s": 7.0}
    timed = tally_sections([section])
    assert (timed.guarded.safe_moves, timed.guarded.halts) == (1, 1)
    assert timed.guarded.downtime_s - bare.guarded.downtime_s == pytest.approx(7.0)
    assert timed.guarded.modes["malformed"].halts == 1
    assert any("safe_action_s" in n for n in bare.notes)
    assert not any("safe_action_s" in n for n in timed.notes)


def test_kit_without_counterfactual_gets_no_unguarded_columns(
    tmp_path, kit, ctx, good_bytes
) -> None:
    """The toy kit has no counterfactual model: guarded rows only, and a note naming the kit."""
    log = write_log(tmp_path / "toy.jsonl", kit, ctx, [(b"{", 10.0), (good_bytes, 10.0)])
    doc = fmli_document(tally_sections(read_sections(log)))
    assert [r["failure_mode"] for r in doc["fmli"]] == ["malformed"]
    assert not set(doc["fmli"][0]) & UNGUARDED_KEYS
    assert any("'toy' has no counterfactual model" in n for n in doc["notes"])


def test_check_output_gives_counts_rates_and_mitigation_only(tmp_path) -> None:
    """check output (no raw output, no instants): rows without detection or unguarded columns."""
    lines = [
        {"id": 1, "accepted": False, "source": "classical", "failure_mode": "malformed",
         "bucket": "A", "violations": [], "repairs": [], "plan": {}},
        {"id": 2, "accepted": True, "source": "llm", "failure_mode": None, "bucket": None,
         "violations": [], "repairs": [], "plan": {}},
        {"id": 3, "line": 3, "error": "missing output"},
    ]  # fmt: skip
    path = tmp_path / "check.jsonl"
    path.write_bytes(b"\n".join(msgspec.json.encode(x) for x in lines) + b"\n")
    doc = fmli_document(tally_sections(read_sections(path)))
    (row,) = doc["fmli"]
    assert (row["failure_mode"], row["count"], row["rate"]) == ("malformed", 1, 0.5)
    assert row["detect_ms_p50"] is None and not set(row) & UNGUARDED_KEYS
    assert any("check output carries no raw output" in n for n in doc["notes"])


def test_late_answer_of_another_section_is_not_matched(tmp_path, wkit, wctx, plan_bytes) -> None:
    """Request ids are matched within one header: the same id after a new header is another
    request, so the first section's timeout stays not costed."""
    first = write_log(tmp_path / "h.jsonl", wkit, wctx, [(None, None)])
    write_log(first, wkit, wctx, [(plan_bytes, 10.0)], late={0: (plan_bytes, 6.0)})
    sections = read_sections(first)
    assert len(sections) == 2
    assert sections[0].rows[0].late is None and sections[1].rows[0].late is not None


@pytest.mark.parametrize(
    "content",
    [b"", b'{"hello": 1}\n', b'{"type": "decision"}\n'],
    ids=["empty", "other-document", "no-header"],
)
def test_unknown_input_is_an_input_error(tmp_path, content) -> None:
    """A file that is no audit log, check output or demo document is refused with one message."""
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError):
        read_sections(path)
