"""The one bounded reader: every refusal with its reason, nothing raised, nothing after it lost."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plansentry.telemetry.reader import Counts, Limits, Record, Refused, read_jsonl

GOOD = b'{"ok": 1}'


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"a": "\xff\xfe"}', "invalid UTF-8 at offset"),
        (b'{"a": "x\x00"}', "NUL byte at offset"),
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'{"a": {"b": 1, "b": 1}, "c": ":"}', "duplicate key 'b'"),
        (b'{"a": 1e999}', "not JSON: Number out of range"),
        (b'{"a": NaN}', "not JSON"),
        (b"[1, 2]", "not a JSON object (a array)"),
        (b'"text"', "not a JSON object (a string)"),
        (b"[" * 1000 + b"]" * 1000, "nested deeper than 64"),
        (b'{"a": 1} \xef\xbb\xbf', "byte-order mark at offset"),
        (b'{"a": 1} {"b": 2}', "not JSON"),
    ],
)
def test_each_hostile_line_is_refused_and_the_next_is_read(line: bytes, reason: str) -> None:
    counts = Counts()
    got = list(read_jsonl(io.BytesIO(line + b"\n" + GOOD + b"\n"), "f.jsonl", counts=counts))
    assert isinstance(got[0], Refused) and got[0].reason.startswith(reason), got[0]
    assert got[0].line.startswith("f.jsonl:1: ")
    assert isinstance(got[1], Record) and got[1].value == {"ok": 1} and got[1].position == 2
    assert (counts.records, counts.unreadable) == (1, 1)


def test_colons_in_strings_do_not_hide_or_fake_a_duplicate() -> None:
    line = b'{"a": "b: c", "d": {"e": "f:g"}}'
    (got,) = read_jsonl(io.BytesIO(line), "f")
    assert isinstance(got, Record) and got.value["d"] == {"e": "f:g"}


def test_a_long_line_is_skipped_without_being_held() -> None:
    limits = Limits(max_line_bytes=100)
    data = b'{"a": "' + b"x" * 10_000 + b'"}\n' + GOOD + b"\n"
    got = list(read_jsonl(io.BytesIO(data), "f", limits=limits))
    assert isinstance(got[0], Refused) and "longer than 100 bytes" in got[0].reason
    assert isinstance(got[1], Record)


def test_a_torn_tail_is_a_torn_refusal_only_for_logs() -> None:
    torn = list(read_jsonl(io.BytesIO(GOOD + b"\n" + b'{"a"'), "log", torn_tail=True))[1]
    assert isinstance(torn, Refused) and torn.torn
    last = list(read_jsonl(io.BytesIO(GOOD + b"\n" + GOOD), "in"))[1]
    assert isinstance(last, Record)


def test_a_leading_bom_is_skipped_a_later_one_refused() -> None:
    got = list(read_jsonl(io.BytesIO(b"\xef\xbb\xbf" + GOOD + b"\n\xef\xbb\xbf" + GOOD), "f"))
    assert isinstance(got[0], Record) and isinstance(got[1], Refused)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=8))
def test_no_bytes_make_the_reader_raise_or_lose_a_good_line(chunks: list[bytes]) -> None:
    """Any bytes, then a good line: nothing raised, and the good line still read."""
    junk = b"\n".join(c.replace(b"\n", b" ") for c in chunks)
    got = list(read_jsonl(io.BytesIO(junk + b"\n" + GOOD + b"\n"), "f"))
    assert isinstance(got[-1], Record) and got[-1].value == {"ok": 1}
    assert all(isinstance(g, (Record, Refused)) for g in got)
