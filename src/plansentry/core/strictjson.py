"""Bounded extraction, strict JSON checks and the optional repair step.

Everything here works on ``bytes`` and is bounded by the input size, which the gate caps before
calling in. The fast path (typed decoding with msgspec) lives in :mod:`plansentry.core.gate`; this
module holds the pieces that run before it (extraction, depth) and after a failure (classification,
repair).

Strictness, beyond RFC 8259 syntax:

- no ``NaN``/``Infinity``, no trailing data, valid UTF-8 and no lone surrogates (msgspec enforces);
- no duplicate keys in any object (JSON leaves this open; we reject);
- no byte-order mark (RFC 8259 forbids emitting one);
- nesting depth at most the configured cap.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final, final

import msgspec

JSON_WS: Final = b" \t\r\n"
_BOM: Final = b"\xef\xbb\xbf"
_BARE_START: Final = frozenset(b'{["-0123456789')
_BARE_WORDS: Final = (b"true", b"false", b"null")
_FENCE = re.compile(rb"```[A-Za-z0-9_+-]*[ \t]*\r?\n(.*?)```", re.DOTALL)
# A JSON string literal or one structural bracket. Linear: no nested quantifiers over one class.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_STRING_OR_COMMA = re.compile(rb'"(?:[^"\\]|\\.)*"|,(?=[ \t\r\n]*[\]}])', re.DOTALL)


@final
@dataclass(frozen=True, init=False)
class Extracted:
    """The JSON text found in a model output and how it was found (``bare``, ``fence``, ``prose``)."""

    text: bytes
    how: str

    def __init__(self, text: bytes, how: str) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "how", how)

    def __reduce__(self) -> tuple[Any, ...]:
        # What pickle and copy rebuild it from: a compiled record has no __dict__ to restore.
        return (Extracted, (self.text, self.how))


@final
@dataclass(frozen=True, init=False)
class ExtractError:
    """Nothing usable in the output: ``empty`` (only white space) or not JSON at all."""

    empty: bool
    detail: str

    def __init__(self, empty: bool, detail: str) -> None:
        object.__setattr__(self, "empty", empty)
        object.__setattr__(self, "detail", detail)

    def __reduce__(self) -> tuple[Any, ...]:
        # What pickle and copy rebuild it from: a compiled record has no __dict__ to restore.
        return (ExtractError, (self.empty, self.detail))


def extract(raw: bytes) -> Extracted | ExtractError:
    """Find the one JSON value a model output carries.

    - Output that starts like JSON (``{``, ``[``, a number, a string, ``true``...) is taken whole:
      anything after the value makes it malformed, as strict JSON requires.
    - Otherwise the first fenced block (````` ```json ... ``` `````) is taken, or failing that the first
      balanced ``{...}`` object in the prose (text after it is the prose's, not the value's).
    - A byte-order mark is refused, never skipped.
    """
    text = raw if raw[:1] == b"{" and raw[-1:] == b"}" else raw.strip(JSON_WS)
    if not text:
        return ExtractError(empty=True, detail="output is empty or white space only")
    if text.startswith(_BOM):
        return ExtractError(empty=False, detail="output starts with a byte-order mark")
    if text[0] in _BARE_START or text.startswith(_BARE_WORDS):
        return Extracted(text, "bare")
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ExtractError(empty=False, detail=f"output is not valid UTF-8: {exc.reason}")
    fence = _FENCE.search(text)
    if fence is not None:
        inner = fence.group(1).strip(JSON_WS)
        if not inner:
            return ExtractError(empty=True, detail="code fence is empty")
        return Extracted(inner, "fence")
    start = text.find(b"{")
    if start < 0:
        return ExtractError(empty=False, detail="no JSON object in output")
    end = _matching_brace(text, start)
    return Extracted(text[start:end], "prose")


def _matching_brace(text: bytes, start: int) -> int:
    """End (exclusive) of the object opening at ``start``, or ``len(text)`` if it never closes."""
    depth = 0
    for match in _TOKEN.finditer(text, start):
        tok = match.group()
        if tok in (b"{", b"["):
            depth += 1
        elif tok in (b"}", b"]"):
            depth -= 1
            if depth == 0:
                return match.end()
    return len(text)


def depth_exceeds(text: bytes, max_depth: int) -> bool:
    """True if brackets outside strings nest deeper than ``max_depth``.

    Counting brackets is a cheap upper bound that settles most inputs in one pass of C code; only
    when it is inconclusive are brackets scanned token by token, stopping as soon as the cap is passed.
    """
    if text.count(b"[") + text.count(b"{") <= max_depth:
        return False
    depth = 0
    for match in _TOKEN.finditer(text):
        tok = match.group()
        if tok in (b"{", b"["):
            depth += 1
            if depth > max_depth:
                return True
        elif tok in (b"}", b"]"):
            depth -= 1
    return False


class _DuplicateKey(Exception):
    pass


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def strict_error(text: bytes) -> str | None:
    """Why ``text`` is not strict JSON, or ``None`` if it is. Call after :func:`depth_exceeds`.

    Used to classify an output the typed decoder refused (syntax: ``malformed``; shape:
    ``schema``) and to rule out duplicate keys when the fast key count cannot.
    """
    try:
        msgspec.json.decode(text)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError, ValueError) as exc:
        return str(exc)
    try:
        json.loads(text, object_pairs_hook=_pairs_hook)
    except _DuplicateKey as dup:
        return f"duplicate key {dup.args[0]!r}"
    except (ValueError, RecursionError) as exc:  # pragma: no cover - msgspec refused these first
        return str(exc)
    return None


def repair(text: bytes) -> tuple[bytes, tuple[str, ...]]:
    """Deterministic, minimal repairs of a malformed candidate; returns the text and what was done.

    Two repairs, both common in LLM output and both unable to invent content: trailing commas before
    ``]`` or ``}`` are dropped, and brackets left open at the end (a truncated reply) are closed. An
    unterminated string is not repaired.
    """
    done: list[str] = []
    fixed = _STRING_OR_COMMA.sub(lambda m: m.group() if m.group() != b"," else b"", text)
    if fixed != text:
        done.append("trailing_comma")
    stack: list[bytes] = []
    last = 0
    for match in _TOKEN.finditer(fixed):
        tok = match.group()
        last = match.end()
        if tok == b"{":
            stack.append(b"}")
        elif tok == b"[":
            stack.append(b"]")
        elif tok in (b"}", b"]") and (not stack or stack.pop() != tok):
            return fixed, tuple(done)  # mismatched: beyond a safe repair
    tail = fixed[last:]
    if stack and b'"' not in tail:
        fixed = fixed.rstrip(JSON_WS).rstrip(b",") + b"".join(reversed(stack))
        done.append("closed_brackets")
    return fixed, tuple(done)
