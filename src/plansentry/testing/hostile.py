"""Pathological model outputs: the hostile inputs the gate must refuse, quickly and with the right
failure mode, without growing memory.

Built on demand (``hostile_outputs()``; a few of them are tens of megabytes, which ``small=True``
leaves out). Any plan type that is a JSON object gets these modes from the gate. Used by
``tests/core/test_pathological.py``, ``bench/pathological.py`` (the table in docs/RELIABILITY.md),
:func:`~plansentry.testing.check_domain` and as seeds of the fuzzer (``fuzz/``).
"""

from __future__ import annotations

from plansentry.core.failures import FailureMode as M


def hostile_outputs(*, small: bool = False) -> dict[str, tuple[bytes, M]]:
    """``{name: (raw output, the failure mode the gate must give it)}``; ``small``: only those of
    at most 1 MiB."""
    every = {
        "64 MiB of output": (b"{" + b" " * (64 * 2**20), M.OVERSIZE),
        "200,000 nested brackets": (b"[" * 200_000 + b"]" * 200_000, M.OVERSIZE),
        "30,000 nested brackets (inside the cap)": (b"[" * 30_000 + b"]" * 30_000, M.MALFORMED),
        "nested objects past the depth cap": (b'{"a":' * 33 + b"1" + b"}" * 33, M.MALFORMED),
        "a million keys": (
            b"{" + b",".join(b'"k%d":1' % i for i in range(10**6)) + b"}",
            M.OVERSIZE,
        ),
        "6,000 distinct keys (inside the cap)": (
            b"{" + b",".join(b'"k%d":1' % i for i in range(6000)) + b"}",
            M.SCHEMA,
        ),
        "6,000 repeats of one key": (
            b"{" + b",".join(b'"k":1' for _ in range(6000)) + b"}",
            M.MALFORMED,
        ),
        "a 200,000-digit number": (b"9" * 200_000, M.OVERSIZE),
        "a 60,000-digit number (inside the cap)": (
            b'{"qty": ' + b"9" * 60_000 + b"}",
            M.MALFORMED,
        ),
        "NaN": (b'{"speed_mps": NaN}', M.MALFORMED),
        "Infinity": (b'{"speed_mps": -Infinity}', M.MALFORMED),
        "duplicate keys": (b'{"order_id": "EX-1", "order_id": "EX-2"}', M.MALFORMED),
        "invalid UTF-8": (b'{"order_id": "\xc3\x28"}', M.MALFORMED),
        "overlong UTF-8": (b'{"order_id": "\xc0\xaf"}', M.MALFORMED),
        "UTF-16": ('{"order_id": "x"}'.encode("utf-16"), M.MALFORMED),
        "lone surrogate escape": (b'{"order_id": "\\udc00"}', M.MALFORMED),
        "NUL bytes": (b'{"order_id": "a\x00b"}', M.MALFORMED),
        "byte-order mark": (b'\xef\xbb\xbf{"order_id": "x"}', M.MALFORMED),
        "two values back to back": (b'{"a": 1}{"a": 2}', M.MALFORMED),
        "trailing text": (b'{"order_id": "EX-1"} thanks!', M.MALFORMED),
        "look-alike key (Cyrillic o)": ('{"\u043erder_id": "EX-1"}'.encode(), M.SCHEMA),
        "wrong top-level type": (b'"a plan"', M.SCHEMA),
        "empty output": (b"", M.EMPTY),
        "only whitespace": (b" \n\t ", M.EMPTY),
    }
    if not small:
        return every
    return {name: case for name, case in every.items() if len(case[0]) <= 2**20}
