"""One bounded reader for every record a user hands plansentry.

``check``'s input, audit logs (``fmli``, ``fit``, ``replay``, ``report``; what ``simulate
--audit-log`` wrote, read back) and any later source of records (a ROS 2 bag) go through the same
two steps:

1. a *source* yields raw records, :class:`Raw` ``(source, position, data)``: the JSON-lines source
   (:func:`jsonl`) reads bytes, never text, one line at a time, and never holds more than
   ``max_line_bytes + 1`` bytes of a line (a longer line is skipped to its end and refused); a bag
   source would yield one message per raw record, named by its topic and index;
2. :func:`decode` turns each raw record into a :class:`Record` (a JSON object) or a
   :class:`Refused` (why not, in one line), and never raises for any bytes.

What is refused, each with one reason (:attr:`Refused.line` names the source, the position and the
reason): a line over ``max_line_bytes``; a NUL byte; invalid UTF-8; a byte-order mark anywhere but
at the very start of a source (which is skipped, as editors write one there); nesting deeper than
``max_depth`` (counted before any parse, so no depth can exhaust the stack); anything that is not
strict JSON (RFC 8259: no ``NaN``, no trailing data, no lone surrogates); a value that is not an
object; a duplicate key in any object; a number too large to be finite (``1e999``).

A torn last line (no newline at the end: a write a crash cut short) is the audit log's documented
torn tail: with ``torn_tail=True`` it is yielded as a :class:`Refused` with ``torn=True``, never
decoded; ``check``'s input may end without a newline (``torn_tail=False``).

The limits are the gate's, scaled to a record: a record carries at most one output the gate capped
at ``GateConfig.max_bytes`` (escaped in JSON: up to 6 bytes for one) beside its context, and nests
at most twice as deep as a plan may.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, final

import msgspec

from plansentry.core import strictjson
from plansentry.core.errors import InputError
from plansentry.core.gate import GateConfig

_BOM: Final = b"\xef\xbb\xbf"
_BLOCK: Final = 64 * 1024
_GATE: Final = GateConfig()
#: A JSON string token; what is left when every one is removed holds one colon per object key.
_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


@final
@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one record: its size in bytes and how deep its values nest."""

    max_line_bytes: int = 8 * _GATE.max_bytes
    max_depth: int = 2 * _GATE.max_depth

    def __post_init__(self) -> None:
        for name in ("max_line_bytes", "max_depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


#: The bounds on one line of a user's file.
LINE: Final = Limits()


@final
@dataclass(frozen=True, slots=True)
class Raw:
    """One record's bytes as a source found them: ``position`` is a line number (JSON lines) or a
    message index (a bag), counted from 1."""

    source: str
    position: int
    data: bytes


@final
@dataclass(frozen=True, slots=True)
class Record:
    """A record that is a strict JSON object."""

    source: str
    position: int
    value: dict[str, Any]


@final
@dataclass(frozen=True, slots=True)
class Refused:
    """A record that could not be read, and why (``torn``: the torn tail a crash leaves)."""

    source: str
    position: int
    reason: str
    torn: bool = False

    @property
    def line(self) -> str:
        """The one error line a command prints: ``SOURCE:POSITION: REASON``."""
        return f"{self.source}:{self.position}: {self.reason}"


@final
@dataclass
class Counts:
    """What a reader saw: records read, and what it could not read (torn tails apart)."""

    records: int = 0
    refused: list[Refused] = field(default_factory=list)

    @property
    def unreadable(self) -> int:
        """Records refused for what they hold (not counting torn tails)."""
        return sum(not r.torn for r in self.refused)

    @property
    def torn(self) -> int:
        return sum(r.torn for r in self.refused)

    def see(self, item: Record | Refused) -> None:
        if isinstance(item, Record):
            self.records += 1
        else:
            self.refused.append(item)


def unreadable_summary(refused: Iterable[Refused]) -> str:
    """``N lines could not be read`` (and how many of them a crash tore), for a command's end."""
    items = list(refused)
    torn = sum(r.torn for r in items)
    n = len(items) - torn
    text = f"{n:,} line{'s' if n != 1 else ''} could not be read"
    if torn:
        text += f" ({torn:,} more torn by a crash: a log's documented torn tail)"
    return text


def jsonl(
    stream: IO[bytes],
    source: str,
    *,
    torn_tail: bool = False,
    limits: Limits = LINE,
) -> Iterator[Raw | Refused]:
    """The non-blank lines of a binary stream, each at most ``limits.max_line_bytes`` long.

    A longer line is read to its end in blocks, never held, and yielded as a :class:`Refused`. A
    last line without a newline is a torn tail (a :class:`Refused`, ``torn=True``) when
    ``torn_tail``, else an ordinary line.
    """
    cap = limits.max_line_bytes
    number = 0
    while True:
        line = stream.readline(cap + 1)
        if not line:
            return
        number += 1
        if len(line) > cap and not line.endswith(b"\n"):
            ended = False
            while not ended:
                rest = stream.readline(_BLOCK)
                ended = not rest or rest.endswith(b"\n")
            yield Refused(source, number, f"line longer than {cap:,} bytes")
            continue
        if not line.endswith(b"\n"):
            if torn_tail:
                yield Refused(source, number, "last line is incomplete (torn tail)", torn=True)
                return
        else:
            line = line[:-1]
        if number == 1 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        if line.strip(strictjson.JSON_WS):
            yield Raw(source, number, line)


def decode(raw: Raw, limits: Limits = LINE) -> Record | Refused:
    """The JSON object ``raw`` holds, or why it holds none. Never raises."""
    reason = _refusal(raw.data, limits)
    if isinstance(reason, str):
        return Refused(raw.source, raw.position, reason)
    return Record(raw.source, raw.position, reason)


def records(
    raws: Iterable[Raw | Refused], limits: Limits = LINE, counts: Counts | None = None
) -> Iterator[Record | Refused]:
    """Each raw record decoded, refusals passed through, in order; ``counts`` tallies them."""
    for item in raws:
        out = decode(item, limits) if isinstance(item, Raw) else item
        if counts is not None:
            counts.see(out)
        yield out


def read_jsonl(
    stream: IO[bytes],
    source: str,
    *,
    torn_tail: bool = False,
    limits: Limits = LINE,
    counts: Counts | None = None,
) -> Iterator[Record | Refused]:
    """:func:`jsonl` then :func:`records`: every line of ``stream``, read or refused."""
    return records(jsonl(stream, source, torn_tail=torn_tail, limits=limits), limits, counts)


def read_path(
    path: str | Path,
    *,
    torn_tail: bool = False,
    limits: Limits = LINE,
    counts: Counts | None = None,
) -> Generator[Record | Refused, None, None]:
    """Every line of the file at ``path`` (``-``: standard input), read or refused, in order.

    The file is opened when iteration starts and closed when it ends; one that cannot be opened is
    an :class:`InputError` naming it.
    """
    name = str(path)
    if name == "-":
        yield from read_jsonl(
            sys.stdin.buffer, "<stdin>", torn_tail=torn_tail, limits=limits, counts=counts
        )
        return
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below, whatever the consumer does
    except OSError as exc:
        raise InputError(f"{name}: {exc.strerror or exc}") from None
    with stream:
        yield from read_jsonl(stream, name, torn_tail=torn_tail, limits=limits, counts=counts)


#: Bounds on a whole-file document (``demo --json``, ``simulate --json``, ``sweep --json``): one
#: record, as large as a long run's document grows, nested as deep as a line may.
DOCUMENT: Final = Limits(max_line_bytes=256 * 1024 * 1024)


def decode_document(
    data: bytes, source: str, limits: Limits = DOCUMENT
) -> dict[str, Any] | Refused:
    """A whole-file JSON document, refused like a line (its position: 1)."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    got = decode(Raw(source, 1, data.strip(strictjson.JSON_WS)), limits)
    return got.value if isinstance(got, Record) else got


def read_document(path: str | Path, limits: Limits = DOCUMENT) -> dict[str, Any] | Refused:
    """The JSON document in the file at ``path`` (``-``: standard input), or why it holds none;
    never more than ``limits.max_line_bytes + 1`` bytes are read. Raises :class:`InputError` only
    for a file that cannot be opened."""
    name = str(path)
    cap = limits.max_line_bytes
    if name == "-":
        data = sys.stdin.buffer.read(cap + 1)
        name = "<stdin>"
    else:
        try:
            with open(path, "rb") as stream:
                data = stream.read(cap + 1)
        except OSError as exc:
            raise InputError(f"{name}: {exc.strerror or exc}") from None
    if len(data) > cap:
        return Refused(name, 1, f"document longer than {cap:,} bytes")
    return decode_document(data, name, limits)


def _refusal(data: bytes, limits: Limits) -> dict[str, Any] | str:
    if len(data) > limits.max_line_bytes:
        return f"line longer than {limits.max_line_bytes:,} bytes"
    nul = data.find(b"\x00")
    if nul >= 0:
        return f"NUL byte at offset {nul}"
    bom = data.find(_BOM)
    if bom >= 0:
        return f"byte-order mark at offset {bom} (only a file's first bytes may be one)"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 at offset {exc.start}: {exc.reason}"
    if strictjson.depth_exceeds(data, limits.max_depth):
        return f"nested deeper than {limits.max_depth}"
    try:
        value = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError, ValueError) as exc:
        return f"not JSON: {exc}"
    if not isinstance(value, dict):
        return f"not a JSON object (a {_kind(value)})"
    keys = _walk(value)
    if isinstance(keys, str):
        return keys
    # Outside its strings, strict JSON has exactly one colon per key it spells; the decoded objects
    # hold one key per distinct key. The counts differ exactly when some object repeats a key.
    if data.count(b":") != keys and _STRING.sub(b"", data).count(b":") != keys:
        return strictjson.strict_error(data) or "duplicate key"
    return value


def _walk(value: Any) -> int | str:
    """Keys in ``value`` (depth already bounded), or why a number in it is not finite."""
    keys = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            keys += len(v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, float) and not math.isfinite(v):
            return "a number too large to be finite"
    return keys


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


__all__ = [
    "DOCUMENT",
    "LINE",
    "Counts",
    "Limits",
    "Raw",
    "Record",
    "Refused",
    "decode",
    "decode_document",
    "jsonl",
    "read_document",
    "read_jsonl",
    "read_path",
    "records",
    "unreadable_summary",
]
