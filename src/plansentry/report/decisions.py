"""Real decisions, tallied: the FMLI matrix of audit logs, ``check`` output and ``demo --json``.

One place turns logged decisions into the tallies of :mod:`plansentry.report.tally`, from which
:func:`plansentry.report.fmli.fmli_rows` computes the same rows the simulator's documents carry.
``plansentry fmli`` reads files with it; the demo builds its own FMLI table with it from the very
records its audit log writes (:func:`~plansentry.telemetry.records.decision_json` and friends), so
the two agree by construction.

Per decision, the **guarded** side is what the log says the guard did: the row of its failure mode
(or ``malformed`` for output a bare JSON parser refuses that the gate could still use: extracted from
a fence or prose, or repaired), detection latency (:func:`~plansentry.report.stats.detect_ms`, from
the decision point: the deadline minus the logged budget), the plan that served the decision, the
robot's wait from its decision point to the decision, and a safe move's hold (``hold_s``: the log
header's ``meta.safe_action_s``, or the caller's). An executed plan is judged again by the kit's
rules; one that breaks a safety rule counts as unsafe.

The **unguarded** side asks the kit's counterfactual model
(:class:`~plansentry.runtime.kit.CounterfactualModel`) what an unguarded controller would have done
with the same answer, which needs to know when the answer came: an output that arrived (in time or
not), a failed call, or a ``late_answer`` record for a call the guard stopped waiting for (or a
prompt re-run to completion after the fact). A decision without one (a timeout nobody measured, a
model the breaker did not ask) is counted under ``not_costed`` with the reason, never priced as
zero. A kit without a counterfactual model, and ``check`` output (which carries no raw output and no
instants), get the matrix without the unguarded columns, and the document says so.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, final

import msgspec

from plansentry.core import strictjson
from plansentry.core.errors import ConfigError, InputError, PlansentryError
from plansentry.core.failures import BucketMap, FailureMode
from plansentry.core.gate import Gate
from plansentry.report.fmli import (
    Economics,
    Fleet,
    distributions,
    fmli_rows,
    quarterly_uplift,
    risk_reduction,
)
from plansentry.report.stats import detect_ms, latency_bin, slack_bin
from plansentry.report.stats import rounded as _r
from plansentry.report.tally import Tally, row_key
from plansentry.runtime.config import GuardConfig
from plansentry.runtime.kit import DomainKit, load_kit
from plansentry.telemetry.audit import read_log
from plansentry.telemetry.reader import Record, Refused, read_document, read_path
from plansentry.telemetry.records import arrival_from_json, check_row_problem, demo_problem

_TIMEOUT: Final = FailureMode.TIMEOUT.value
_TRANSPORT: Final = FailureMode.TRANSPORT.value
#: FMLI row keys that only a counterfactual model can fill.
UNGUARDED_KEYS: Final = frozenset(
    {
        "count_unguarded",
        "unguarded_response",
        "halts_unguarded",
        "downtime_s_unguarded",
        "unsafe_unguarded",
        "items_lost_unguarded",
        "money_unguarded",
    }
)


@final
@dataclass(frozen=True, slots=True)
class DecisionRow:
    """One decision as logged: the decision (:func:`~plansentry.telemetry.records.decision_json`'s
    shape), its context (the kit's codec), its arrival
    (:func:`~plansentry.telemetry.records.arrival_json`) and its late answer, if one was recorded
    (:func:`~plansentry.telemetry.records.late_answer_json`)."""

    decision: Mapping[str, Any]
    context: Mapping[str, Any] | None = None
    arrival: Mapping[str, Any] | None = None
    late: Mapping[str, Any] | None = None
    line: int = 0  # where it was read (0: from a document)


@final
@dataclass
class Section:
    """Decisions taken by one guard: one audit-log header's, a demo document's, a ``check`` file's.

    ``kit`` is the kit's identity (``name``, ``rules_version``, ``params``) and ``config`` the
    guard's configuration as JSON, when the source records them; ``meta`` is the header's.
    """

    origin: str  # "audit log", "demo", "check"
    path: str
    rows: list[DecisionRow] = field(default_factory=list)
    kit: Mapping[str, Any] | None = None
    config: Mapping[str, Any] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    #: lines of its file that could not be read (torn tails too), each naming file, line, reason
    refused: list[Refused] = field(default_factory=list)


def read_sections(path: str | Path) -> list[Section]:
    """The decisions in ``path``: an audit log, ``check`` output or a ``demo --json`` document,
    read by the one bounded reader (:mod:`plansentry.telemetry.reader`).

    Lines that cannot be read are kept in each section's ``refused``, never dropped in silence.
    Raises :class:`InputError` for a file that is none of these (or cannot be opened).
    """
    name = str(path)
    first = _first(name, records_only=False)
    if first is None:
        raise InputError(f"{name}: no decisions (an empty file)")
    if isinstance(first, Refused):
        # A document (over many lines, or one without a newline at its end), or JSON lines whose
        # first line is bad.
        doc = read_document(name)
        if isinstance(doc, dict):
            return [_demo(doc, name)]
        if first.torn:
            raise InputError(f"{name}: no decisions (only a torn line: {first.line})")
        found = _first(name, records_only=True)
        if found is None:
            raise InputError(f"{name}: no line of it can be read (the first: {first.line})")
        first = found
    assert isinstance(first, Record)
    rec = first.value
    if isinstance(rec.get("decisions"), list):
        return [_demo(rec, name)]
    if rec.get("type") == "header":
        return audit_sections(name)
    if "id" in rec and ("failure_mode" in rec or "error" in rec):
        return [check_section(name)]
    if "type" not in rec and "id" not in rec:
        raise InputError(f"{name}: a JSON document without 'decisions' (not demo --json)")
    raise InputError(
        f"{name}: not an audit log, check output or demo --json document "
        "(expected a 'header' record, check lines with 'id' and 'failure_mode', or 'decisions')"
    )


def _first(name: str, *, records_only: bool) -> Record | Refused | None:
    """The first line of ``name`` as the reader gives it (or its first record)."""
    lines = read_path(name, torn_tail=True)
    try:
        for item in lines:
            if isinstance(item, Record) or not records_only:
                return item
        return None
    finally:
        lines.close()


def _demo(doc: dict[str, Any], name: str) -> Section:
    problem = demo_problem(doc) or _header_problem({"config": doc.get("guard_config")})
    if problem is not None:
        raise InputError(f"{name}: {problem}")
    return demo_section(doc, name)


def audit_sections(path: str) -> list[Section]:
    """One section per header of the audit log at ``path``, late answers matched to decisions.

    The log's unreadable lines (:attr:`LogContents.refused`, torn ones too) go to the sections'
    ``refused``: the first section's, or a section of no header's when no header could be read.
    """
    contents = read_log(path)
    sections: list[Section] = []
    index: dict[str, int] = {}
    orphans: list[Refused] = []
    unread_header: int | None = None  # the line of the last header, when it could not be used
    for line, rec in zip(contents.lines, contents.records, strict=True):
        kind = rec.get("type")
        if kind == "header":
            problem = _header_problem(rec)
            if problem is not None:
                orphans.append(Refused(path, line, f"a header: {problem}"))
                unread_header = line
                continue
            unread_header = None
            domain = rec.get("domain")
            sections.append(
                Section(
                    "audit log",
                    path,
                    kit=domain if isinstance(domain, dict) else None,
                    config=rec.get("config") if isinstance(rec.get("config"), dict) else None,
                    meta=rec.get("meta") or {},
                )
            )
            index = {}
            continue
        if kind not in ("decision", "late_answer"):
            continue
        if unread_header is not None:
            orphans.append(
                Refused(path, line, f"a {kind} record under the header of line {unread_header}")
            )
            continue
        if not sections:
            orphans.append(Refused(path, line, f"a {kind} record before any header"))
            continue
        rows = sections[-1].rows
        if kind == "decision":
            index[str(rec["decision"].get("request_id"))] = len(rows)
            rows.append(
                DecisionRow(rec["decision"], rec.get("context"), rec.get("arrival"), None, line)
            )
            continue
        at = index.get(str(rec.get("request_id")))
        if at is not None:
            row = rows[at]
            rows[at] = DecisionRow(row.decision, row.context, row.arrival, rec, row.line)
    refused = sorted(contents.refused + orphans, key=lambda r: r.position)
    if not sections:
        if not refused:
            raise InputError(f"{path}: no decisions (no header and no record)")
        sections.append(Section("audit log", path))
    sections[0].refused.extend(refused)
    return sections


def _header_problem(header: Mapping[str, Any]) -> str | None:
    """Why an audit log's header cannot be used (its guard config does not load), or ``None``.
    Its kit is built later, by the tally, where one that cannot be built costs only the unguarded
    side."""
    config = header.get("config")
    if config is None:
        return None
    if not isinstance(config, dict):
        return f"its config is not an object (a {type(config).__name__})"
    try:
        GuardConfig.from_json(config)
    except ConfigError as exc:
        return f"its config: {exc}"
    return None


def demo_section(doc: Mapping[str, Any], path: str = "demo") -> Section:
    """The decisions of a ``demo --json`` document (each carries its context, arrival and late
    answer, exactly as the demo's audit log writes them)."""
    rows = [
        DecisionRow(d, d.get("context"), d.get("arrival"), d.get("late_answer"))
        for d in doc["decisions"]
    ]
    return Section(
        "demo",
        path,
        rows=rows,
        kit=doc.get("kit"),
        config=doc.get("guard_config"),
        meta=doc.get("meta") or {},
    )


def check_section(path: str) -> Section:
    """``plansentry check`` output: each judged record (its error lines are records ``check``
    could not judge, not lines this reader could not read, and are passed over)."""
    section = Section("check", path)
    for item in read_path(path, torn_tail=True):
        if isinstance(item, Refused):
            section.refused.append(item)
            continue
        rec = item.value
        if "error" in rec:
            continue
        if "failure_mode" not in rec or "source" not in rec:
            section.refused.append(
                Refused(path, item.position, "not a check result (no failure_mode or source)")
            )
            continue
        problem = check_row_problem(rec)
        if problem is not None:
            section.refused.append(Refused(path, item.position, problem))
            continue
        section.rows.append(
            DecisionRow({**rec, "consulted": True, "shadow": False}, line=item.position)
        )
    return section


def _extraction(text: bytes) -> str:
    found = strictjson.extract(text) if text else None
    return found.how if isinstance(found, strictjson.Extracted) else "bare"


@final
@dataclass(frozen=True, slots=True)
class Answer:
    """What the model answered for one decision, and when: an output's ``text`` (``None``: the
    call failed), its judgement (``mode``, ``rules``, ``repaired``, ``extraction``), and the
    instants it was asked and answered. ``rerun``: measured by running the prompt again."""

    text: bytes | None
    mode: str | None
    rules: frozenset[str]
    repaired: bool
    extraction: str
    asked_ns: int
    at_ns: int
    rerun: bool = False


@final
@dataclass
class Tallies:
    """The guarded and unguarded tallies of some decisions, and what could not be costed."""

    guarded: Tally = field(default_factory=Tally)
    unguarded: Tally = field(default_factory=Tally)
    costed: bool = False  # some kit's counterfactual model priced the unguarded side
    counterfactual: dict[str, str] = field(default_factory=dict)  # kit name -> model summary
    not_costed: collections.Counter[str] = field(default_factory=collections.Counter)
    reruns: int = 0  # answers measured by running a prompt again after the fact
    buckets: BucketMap | None = None
    notes: list[str] = field(default_factory=list)
    sections: list[dict[str, Any]] = field(default_factory=list)
    #: every line that could not be read or tallied, torn tails too, in the order met
    refused: list[Refused] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


KitLoader = Callable[[Mapping[str, Any]], DomainKit[Any, Any]]


def load_identity(identity: Mapping[str, Any]) -> DomainKit[Any, Any]:
    """The installed kit a log's header names (``name``, ``rules_version``, ``params``)."""
    return load_kit(
        str(identity["name"]),
        rules_version=identity.get("rules_version"),
        params=identity.get("params") or {},
    )


def tally_sections(
    sections: Iterable[Section],
    *,
    hold_s: float | None = None,
    kits: KitLoader = load_identity,
) -> Tallies:
    """Tally every decision of ``sections`` (see the module docstring).

    ``hold_s``: seconds a safe move holds the robot; by default each section's ``meta.safe_action_s``
    (0, with a note, where there is none). ``kits`` builds a kit from its identity (default:
    :func:`~plansentry.runtime.kit.load_kit`); a kit that cannot be built leaves its sections
    without the unguarded side and the unsafe re-check, with a note saying why.
    """
    out = Tallies()
    built: dict[str, DomainKit[Any, Any] | None] = {}
    for section in sections:
        kit = None
        if section.kit is not None:
            key = msgspec.json.encode(section.kit).decode()
            if key not in built:
                try:
                    built[key] = kits(section.kit)
                except (PlansentryError, KeyError) as exc:  # a map, rules or params it refuses
                    built[key] = None
                    out.note(f"{section.path}: cannot build its kit ({exc}): no unguarded side")
            kit = built[key]
        _tally_section(out, section, kit, hold_s)
    if not out.costed:
        out.note(
            "no counterfactual model priced these decisions: the matrix has no unguarded columns"
        )
    return out


def _tally_section(
    out: Tallies, section: Section, kit: DomainKit[Any, Any] | None, hold_s: float | None
) -> None:
    config = GuardConfig.from_json(section.config) if section.config is not None else None
    if config is not None and out.buckets is None:
        out.buckets = config.buckets
    budget_ns = config.budget_ns if config is not None else None
    reserve_ns = config.decider.reserve_ns if config is not None else 0
    hold = hold_s
    if hold is None:
        meta_hold = section.meta.get("safe_action_s")
        hold = float(meta_hold) if isinstance(meta_hold, (int, float)) else 0.0
        if meta_hold is None and any(_is_safe_move(r.decision) for r in section.rows):
            out.note(
                f"{section.path}: the log does not say how long a safe move holds the robot "
                "(meta.safe_action_s); give --hold-s to count it as downtime"
            )
    model = kit.counterfactual if kit is not None else None
    gate = Gate(kit.domain, config.gate) if kit is not None and config is not None else None
    if model is not None and kit is not None:
        out.counterfactual[kit.name] = model.summary
    elif section.origin == "check":
        out.note(
            f"{section.path}: check output carries no raw output and no instants: counts, rates "
            "and mitigation only (run check --audit-log and give fmli the log for the rest)"
        )
    elif kit is not None:
        out.note(f"{section.path}: the kit {kit.name!r} has no counterfactual model")
    out.refused.extend(section.refused)
    out.sections.append(
        {
            "path": section.path,
            "origin": section.origin,
            "kit": dict(section.kit) if section.kit is not None else None,
            "decisions": len(section.rows),
            "budget_ms": config.budget_ms if config is not None else None,
            "safe_action_s": hold,
        }
    )
    g, u = out.guarded, out.unguarded
    ordered = sorted(
        _decoded(out, section, kit), key=lambda r: int(r[0].decision.get("decided_ns") or 0)
    )
    previous_ns: int | None = None
    first_ns = int(ordered[0][0].decision.get("decided_ns") or 0) if ordered else 0
    for row, ctx in ordered:
        d = row.decision
        consulted = bool(d.get("consulted")) and not d.get("shadow")
        mode = d.get("failure_mode")
        repairs = tuple(d.get("repairs") or ())
        arrival = arrival_from_json(dict(row.arrival)) if row.arrival is not None else None
        text = arrival.text if arrival is not None and arrival.kind.value == "output" else None
        extraction = _extraction(text) if text is not None else "bare"
        timed = "decided_ns" in d and "deadline_ns" in d and budget_ns is not None
        decided = int(d["decided_ns"]) if timed else 0
        deadline = int(d["deadline_ns"]) if timed else 0
        point = deadline - (budget_ns or 0)
        wait_s = max(0, decided - point) / 1e9 if timed else 0.0
        g.cycles += 1
        g.calls += consulted
        g.sources[str(d.get("source"))] += 1
        if timed:
            g.late += decided > deadline
            g.downtime_s += wait_s
            _observe(g, d, point, previous_ns, first_ns)
            previous_ns = decided
        key = row_key(mode, extraction, repairs) if consulted else None
        mrow = g.mode(key) if key is not None else None
        if mrow is not None:
            mrow.count += 1
            if timed:
                mrow.detect_ms.append(
                    detect_ms(
                        decided,
                        point,
                        d.get("arrival_ns"),
                        timed_out=mode == _TIMEOUT,
                    )
                )
            how = str(d.get("source")) if mode else ("repaired" if repairs else extraction)
            mrow.mitigation[how] += 1
        if _is_safe_move(d):
            g.safe_moves += 1
            g.halts += 1
            g.halted_cycles += 1
            g.model_halts += mode is not None
            g.downtime_s += hold
            if mrow is not None:
                mrow.halts += 1
                mrow.downtime_s += wait_s + hold
        else:
            if mrow is not None:
                mrow.downtime_s += wait_s
            if kit is not None and ctx is not None and isinstance(d.get("plan"), dict):
                unsafe = _breaks_safety(kit, d["plan"], ctx)
                g.unsafe_executed += unsafe
                if mrow is not None:
                    mrow.unsafe += unsafe
        if model is None or ctx is None or gate is None or not timed:
            continue
        answer, why = answer_of(row, ctx, gate)
        if answer is None:
            out.not_costed[why] += 1
            continue
        out.costed = True
        out.reruns += answer.rerun
        _unguarded(u, model, ctx, answer, point, deadline - reserve_ns)


def _decoded(
    out: Tallies, section: Section, kit: DomainKit[Any, Any] | None
) -> list[tuple[DecisionRow, Any]]:
    """Each row with its context as the kit reads it; a row whose context the kit refuses is
    refused (``out.refused``), not tallied."""
    rows: list[tuple[DecisionRow, Any]] = []
    for row in section.rows:
        ctx = None
        if kit is not None and row.context is not None:
            try:
                ctx = kit.codec.context_from_json(row.context)
            except InputError as exc:
                out.refused.append(Refused(section.path, row.line, f"a decision's context: {exc}"))
                continue
        rows.append((row, ctx))
    return rows


def _is_safe_move(d: Mapping[str, Any]) -> bool:
    plan = d.get("plan")
    return isinstance(plan, dict) and "safe_move" in plan


def _breaks_safety(kit: DomainKit[Any, Any], plan_json: Mapping[str, Any], ctx: Any) -> bool:
    try:
        plan = kit.codec.plan_from_json(plan_json)
    except InputError:
        return False
    return any(v.mode is FailureMode.UNSAFE for v in kit.domain.check_rules(plan, ctx))


def _observe(
    g: Tally, d: Mapping[str, Any], point_ns: int, previous_ns: int | None, first_ns: int
) -> None:
    """What the report draws, as the simulator's guarded controller records it."""
    asked, arrived = d.get("asked_ns"), d.get("arrival_ns")
    if asked is not None and arrived is not None:
        g.latency_bins[latency_bin(int(arrived) - int(asked))] += 1
        g.slack_bins[slack_bin(int(arrived) - point_ns)] += 1
    decided = int(d["decided_ns"])
    if previous_ns is not None:
        state = str(d.get("state_before"))
        g.state_s[state] = g.state_s.get(state, 0.0) + (decided - previous_ns) / 1e9
    for tr in d.get("transitions") or ():
        g.transitions[f"{tr['from']}>{tr['to']}:{tr['event']}"] += 1
        if len(g.timeline) < 400:
            g.timeline.append((round((decided - first_ns) / 1e9, 3), str(tr["to"])))


def answer_of(row: DecisionRow, ctx: Any, gate: Gate[Any, Any]) -> tuple[Answer | None, str]:
    """The model's answer to ``row``'s request and when it came, or (``None``) why nobody knows.

    An output that came too late for the gate (a ``late_answer``, or an arrival after the cut-off)
    is judged here by ``gate``, as if it had come in time; ``ctx`` is the decision's context."""
    d = row.decision
    asked = d.get("asked_ns")
    arrival = arrival_from_json(dict(row.arrival)) if row.arrival is not None else None
    mode = d.get("failure_mode")
    if arrival is not None and asked is not None and arrival.at_ns is not None:
        if arrival.kind.value == "transport":
            return Answer(
                None, _TRANSPORT, frozenset(), False, "bare", int(asked), arrival.at_ns
            ), ""
        if arrival.kind.value == "output":
            if mode == _TIMEOUT or not d.get("consulted"):  # came too late for the gate: judge it
                return _judged(gate, ctx, arrival.text, arrival.size_bytes, arrival, int(asked)), ""
            rules = frozenset(str(v["rule"]) for v in d.get("violations") or ())
            repairs = tuple(d.get("repairs") or ())
            extraction = _extraction(arrival.text)
            return (
                Answer(
                    arrival.text,
                    mode,
                    rules,
                    bool(repairs),
                    extraction,
                    int(asked),
                    arrival.at_ns,
                ),
                "",
            )
    late = row.late
    if late is not None:
        late_arrival = arrival_from_json(dict(late["arrival"]))
        late_asked = late.get("asked_ns", asked)
        if late_arrival.at_ns is not None and late_asked is not None:
            if late_arrival.kind.value == "output":
                answer = _judged(
                    gate,
                    ctx,
                    late_arrival.text,
                    late_arrival.size_bytes,
                    late_arrival,
                    int(late_asked),
                    rerun=late.get("how") == "rerun",
                )
                return answer, ""
            if late_arrival.kind.value == "transport":
                return (
                    Answer(
                        None,
                        _TRANSPORT,
                        frozenset(),
                        False,
                        "bare",
                        int(late_asked),
                        late_arrival.at_ns,
                        rerun=late.get("how") == "rerun",
                    ),
                    "",
                )
    if mode == _TIMEOUT:
        return None, "timeout: nobody measured when the answer would have come (no late answer)"
    if not d.get("consulted"):
        return None, "the model was not asked (breaker open) and no rerun measured its answer"
    return None, "the log does not say when the answer came"


def _judged(
    gate: Gate[Any, Any],
    ctx: Any,
    text: bytes,
    size: int,
    arrival: Any,
    asked_ns: int,
    *,
    rerun: bool = False,
) -> Answer:
    verdict = gate.check(text, size, ctx, arrival.asked_version)
    return Answer(
        text,
        verdict.mode.value if verdict.mode is not None else None,
        frozenset(v.rule for v in verdict.violations),
        bool(verdict.repairs),
        verdict.extraction or "bare",
        asked_ns,
        arrival.at_ns,
        rerun=rerun,
    )


def _unguarded(
    u: Tally, model: Any, ctx: Any, answer: Answer, point_ns: int, cutoff_ns: int
) -> None:
    """Count what the unguarded controller does with ``answer`` (the simulator's row rules)."""
    cf = model(
        ctx,
        text=answer.text,
        mode=FailureMode(answer.mode) if answer.mode is not None else None,
        rules=answer.rules,
        repaired=answer.repaired,
        latency_s=(answer.at_ns - answer.asked_ns) / 1e9,
        ahead_s=(point_ns - answer.asked_ns) / 1e9,
    )
    u.cycles += 1
    u.calls += 1
    u.halts += cf.halted
    u.halted_cycles += cf.halted
    u.model_halts += cf.halted
    u.downtime_s += cf.downtime_s
    u.unsafe_executed += cf.unsafe
    u.items_lost += cf.items_lost
    u.sources[cf.reason] += 1
    late = cf.gave_up or answer.at_ns > cutoff_ns
    if late:  # what the guard would have called a timeout: the robot waits for it
        row = u.mode(_TIMEOUT)
        row.count += 1
        if cf.gave_up:
            row.halts += cf.halted
            row.downtime_s += cf.downtime_s
            row.mitigation["restart"] += 1
            return
        row.downtime_s += cf.wait_s
        row.mitigation["waited"] += 1
    key = _TRANSPORT if answer.text is None else row_key(answer.mode, answer.extraction, ())
    if answer.repaired and key is None:
        key = FailureMode.MALFORMED.value
    if key is None:
        return
    row = u.mode(key)
    row.count += 1
    row.halts += cf.halted
    row.downtime_s += cf.downtime_s - (cf.wait_s if late else 0.0)
    row.unsafe += cf.unsafe
    row.items_lost += cf.items_lost
    row.mitigation["restart" if cf.halted else "executed"] += 1


def decision_summary(t: Tally) -> dict[str, Any]:
    """One controller over logged decisions: halts, downtime, safety, items, where plans came from."""
    return {
        "decisions": t.cycles,
        "model_calls": t.calls,
        "halts": t.halts,
        "halt_rate": _r(t.halted_cycles / t.cycles if t.cycles else 0.0, 6),
        "downtime_s": _r(t.downtime_s, 3),
        "unsafe_executed": t.unsafe_executed,
        "items_lost": t.items_lost,
        "late_decisions": t.late,
        "safe_moves": t.safe_moves,
        "sources": dict(sorted(t.sources.items())),
    }


def fmli_document(
    tallies: Tallies,
    *,
    money: Economics | None = None,
    fleet: Fleet | None = None,
) -> dict[str, Any]:
    """The ``plansentry fmli --json`` document (``kind: fmli``; ``plansentry report`` renders it).

    Keys: ``sections`` (what was read), ``counterfactual`` (each kit's unguarded model, in words;
    empty without one), ``guarded`` and ``unguarded`` (:func:`decision_summary`; ``unguarded`` is
    ``None`` when nothing was costed), ``risk_reduction``, ``fmli`` (the rows of
    :func:`~plansentry.report.fmli.fmli_rows`, without the unguarded columns when nothing was
    costed), ``not_costed`` (reason -> decisions), ``reruns``, ``money``
    (:func:`~plansentry.report.fmli.quarterly_uplift`, or ``None``), ``notes`` and
    ``guarded_distributions``.
    """
    money = money if money is not None else Economics()
    fleet = fleet if fleet is not None else Fleet()
    g, u = tallies.guarded, tallies.unguarded
    rows = fmli_rows(g, u, money, tallies.buckets)
    if not tallies.costed:
        rows = [
            {k: v for k, v in r.items() if k not in UNGUARDED_KEYS}
            for r in rows
            if r["failure_mode"] in g.modes
        ]
    return {
        "kind": "fmli",
        "sections": tallies.sections,
        "counterfactual": dict(tallies.counterfactual),
        "guarded": decision_summary(g),
        "unguarded": decision_summary(u) if tallies.costed else None,
        "risk_reduction": risk_reduction(u, g) if tallies.costed else None,
        "fmli": rows,
        "not_costed": dict(sorted(tallies.not_costed.items())),
        "reruns": tallies.reruns,
        "money": quarterly_uplift(u, g, money=money, fleet=fleet) if tallies.costed else None,
        "notes": list(tallies.notes),
        "guarded_distributions": distributions(g),
        "unreadable_lines": [r.line for r in tallies.refused if not r.torn],
        "torn_tails": [r.line for r in tallies.refused if r.torn],
    }
