"""``plansentry export-bag LOG -o run.mcap``: an audit log as a ROS 2 bag, in MCAP.

One topic per kind of record, ``/plansentry/<type>`` (``header``, ``decision``, ``late_answer``,
``reset``, and any kind a later format adds), each message a ``std_msgs/msg/String`` whose
``data`` is the record's JSON, exactly as the log holds it: ``ros2 bag``, ``rosbags``, the
``mcap`` readers and Foxglove open it, and no message package of ours is needed to read it.

The log is read by the one hardened reader (:func:`~plansentry.telemetry.audit.read_log`): a
torn tail or a bad line is not exported and is counted on stderr. Message times are the log's own,
the guard's monotonic clock in nanoseconds (a decision's ``decided_ns``; a late answer's arrival;
a header or reset at the time of the record next to it): a bag's timeline, not wall-clock dates.
The bag is written to a temporary file beside the output and renamed when it is complete, so the
output path never holds half a bag.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Final

import msgspec

from plansentry.core.errors import ConfigError, InputError
from plansentry.telemetry.audit import read_log

#: The message type of every topic, and its definition (as ``ros2 interface show`` prints it).
STRING_TYPE: Final = "std_msgs/msg/String"
STRING_MSGDEF: Final = "string data\n"
#: Where the topics live: ``/plansentry/decision`` and so on.
PREFIX: Final = "/plansentry"
_TOKEN: Final = re.compile(r"[^a-z0-9_]")
_ENCODER: Final = msgspec.json.Encoder()


def topic(kind: str) -> str:
    """The topic of records of ``kind``: a valid ROS 2 name whatever the kind is spelled."""
    token = _TOKEN.sub("_", kind.lower()).strip("_") or "unknown"
    if token[0].isdigit():
        token = "k_" + token
    return f"{PREFIX}/{token}"


def _time_ns(rec: dict[str, Any]) -> int | None:
    if rec.get("type") == "decision":
        value = rec.get("decision", {}).get("decided_ns")
    elif rec.get("type") == "late_answer":
        arrival = rec.get("arrival") or {}
        value = arrival.get("at_ns") if isinstance(arrival, dict) else None
        value = value if value is not None else rec.get("asked_ns")
    else:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def stamped(records: list[dict[str, Any]]) -> Iterable[tuple[int, dict[str, Any]]]:
    """Each record with its time: its own, or (a header, a reset) the nearest record's before it,
    else the next one's, else 0."""
    times = [_time_ns(r) for r in records]
    following: list[int | None] = [None] * len(records)
    nxt: int | None = None
    for i in range(len(records) - 1, -1, -1):
        following[i] = nxt if times[i] is None else times[i]
        if times[i] is not None:
            nxt = times[i]
    last: int | None = None
    for rec, own, after in zip(records, times, following, strict=True):
        at = own if own is not None else (last if last is not None else after)
        if own is not None:
            last = own
        yield (at or 0), rec


def export(log_path: str | Path, bag_path: str | Path) -> tuple[dict[str, int], int]:
    """Write the records of ``log_path`` to the MCAP bag ``bag_path``; the messages written per
    topic, and how many lines were not exported (torn or unreadable)."""
    try:
        from mcap.writer import CompressionType
        from mcap_ros2.writer import Writer
    except ImportError as exc:
        raise ConfigError(f"export-bag needs: pip install 'plansentry[ros2]' ({exc})") from None
    contents = read_log(log_path)
    skipped = len(contents.refused)
    out = Path(bag_path)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    counts: dict[str, int] = {}
    try:
        with open(tmp, "wb") as f:
            writer: Any = Writer(f, compression=CompressionType.ZSTD)  # partly typed
            schema = writer.register_msgdef(STRING_TYPE, STRING_MSGDEF)
            for at_ns, rec in stamped(contents.records):
                name = topic(str(rec["type"]))
                writer.write_message(
                    name,
                    schema,
                    {"data": _ENCODER.encode(rec).decode()},
                    log_time=at_ns,
                    publish_time=at_ns,
                    sequence=counts.get(name, 0),
                )
                counts[name] = counts.get(name, 0) + 1
            writer.add_metadata(
                "plansentry",
                {"source": str(log_path), "records": str(len(contents.records))},
            )
            writer.finish()
        os.replace(tmp, out)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return counts, skipped


def run(args: argparse.Namespace, out: IO[str]) -> int:
    counts, skipped = export(args.log, args.output)
    total = sum(counts.values())
    topics = ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "no records"
    out.write(f"{args.output}: {total} messages ({topics})\n")
    if skipped:
        print(
            f"plansentry export-bag: {skipped} line(s) of {args.log} not exported (torn or "
            "unreadable; plansentry replay names them)",
            file=sys.stderr,
        )
    return 0
