"""The audit log: append-only JSON lines, written before a decision is returned.

Durability: each record is one ``write(2)`` on a file opened with ``O_APPEND``, made before
:meth:`Guard.finish` returns, so a decision a caller has seen is in the operating system's hands and
survives a ``kill -9`` of the process. Surviving a power cut needs ``fsync=True`` (one ``fsync`` per
decision, milliseconds on most disks). A crash can at most leave the last line incomplete;
:func:`read_log` reports such a torn tail and never treats it as a record.

Format (``plansentry-audit/2``): a ``header`` line at each start (the domain kit's identity:
name, rules version and parameters; the guard's configuration), then ``decision`` lines (the inputs
replay needs, and the decision), ``reset`` lines, and ``late_answer`` lines: an answer that came
after its decision was taken, written when it is known, after that decision's line
(:class:`~plansentry.runtime.guard.LateAnswer`; replay does not re-decide them). Plans and contexts
are written by the kit's codec, so the log serves any domain.

A log reopened after a crash that tore its last line starts its next record on a new line: the torn
fragment stays a line of its own, which every reader reports and skips.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, final

import msgspec

from plansentry.runtime.config import GuardConfig
from plansentry.runtime.guard import DecisionEvent, LateAnswer
from plansentry.runtime.kit import DomainKit
from plansentry.telemetry.reader import LINE, Limits, Refused, read_path
from plansentry.telemetry.records import (
    arrival_json,
    decision_json,
    late_answer_json,
    record_problem,
)

FORMAT: Final = "plansentry-audit/2"
_ENCODER: Final = msgspec.json.Encoder()


@final
class AuditLog:
    """A :class:`~plansentry.runtime.guard.DecisionHook` that appends every decision to ``path``.

    Thread-safe (the guard calls it under its lock; writes are single syscalls anyway). Raw model
    output is kept up to the gate's byte cap; its true size is always recorded.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        kit: DomainKit[Any, Any],
        config: GuardConfig,
        fsync: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.kit = kit
        self.fsync = fsync
        self._max_text = config.gate.max_bytes
        self._buckets = config.buckets
        self._lock = threading.Lock()
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        self.records = 0
        if _ends_torn(self._fd):
            os.write(self._fd, b"\n")  # the torn fragment of a crash stays a line of its own
        header = {
            "type": "header",
            "format": FORMAT,
            "domain": kit.identity(),
            "config": config.to_json(),
            **({"meta": meta} if meta else {}),
        }
        self._write(header)

    def _write(self, record: dict[str, Any]) -> None:
        line = _ENCODER.encode(record) + b"\n"
        with self._lock:
            view = memoryview(line)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
            if self.fsync:
                os.fsync(self._fd)
            self.records += 1

    def on_decision(self, event: DecisionEvent[Any, Any]) -> None:
        d = event.decision
        self._write(
            {
                "type": "decision",
                "context": self.kit.codec.context_to_json(event.ctx),
                "arrival": arrival_json(event.arrival, self._max_text),
                "stuck_workers": event.stuck_workers,
                "decision": decision_json(d, self._buckets, self.kit),
            }
        )

    def on_reset(self, seq: int, reason: str) -> None:
        self._write({"type": "reset", "seq": seq, "reason": reason})

    def on_late_answer(self, event: LateAnswer) -> None:
        self._write(late_answer_json(event, self._max_text))

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ends_torn(fd: int) -> bool:
    """Whether the file open at ``fd`` is non-empty and does not end with a newline."""
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


@final
@dataclass
class LogContents:
    """Records of a log, and what could not be read.

    ``records[i]`` was read from line ``lines[i]``. ``refused`` holds every line that could not be
    used, each naming the file, the line and why (:attr:`Refused.line`), torn fragments included;
    ``bad_lines`` is the part of it a crash does not explain.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    torn_tail: bool = False  # the last line had no newline: a write cut short by a crash
    #: line numbers of fragments a crash tore, followed by the header of the log's reopening
    torn_lines: list[int] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    @property
    def bad_lines(self) -> list[Refused]:
        torn = set(self.torn_lines)
        return [r for r in self.refused if not r.torn and r.position not in torn]


def read_log(path: str | Path, *, limits: Limits = LINE) -> LogContents:
    """Every complete record of the log at ``path``, read by the one bounded reader
    (:mod:`plansentry.telemetry.reader`) and checked against its kind's fields
    (:func:`~plansentry.telemetry.records.record_problem`).

    A torn last line is reported (``torn_tail``), not parsed. So is an unreadable line directly
    followed by a ``header``: the fragment a crash tore, kept on a line of its own when the log was
    reopened (``torn_lines``). Any other unreadable line is a bad line: something else wrote it.
    Raises :class:`InputError` only for a file that cannot be opened.
    """
    out = LogContents()
    fragment: Refused | None = None  # an undecodable line: torn, if a header follows it
    for item in read_path(path, torn_tail=True, limits=limits):
        if isinstance(item, Refused):
            out.refused.append(item)
            out.torn_tail = out.torn_tail or item.torn
            fragment = item if not item.torn else None
            continue
        rec = item.value
        problem = record_problem(rec)
        if problem is not None:
            out.refused.append(Refused(item.source, item.position, problem))
            fragment = None
            continue
        if (
            rec["type"] == "header"
            and fragment is not None
            and fragment.position == item.position - 1
        ):
            out.torn_lines.append(fragment.position)
        fragment = None
        out.records.append(rec)
        out.lines.append(item.position)
    return out
