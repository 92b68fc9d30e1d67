"""Extraction, depth, strictness and repair on raw bytes."""

from __future__ import annotations

import pytest

from plansentry.core import strictjson
from plansentry.core.strictjson import Extracted, ExtractError


@pytest.mark.parametrize(
    ("raw", "text", "how"),
    [
        (b'{"a": 1}', b'{"a": 1}', "bare"),
        (b'  \n{"a": 1}\n ', b'{"a": 1}', "bare"),
        (b"[1, 2]", b"[1, 2]", "bare"),
        (b'```json\n{"a": 1}\n```', b'{"a": 1}', "fence"),
        (b'Here you go:\n```\n{"a": 1}\n```\nEnjoy.', b'{"a": 1}', "fence"),
        (b'Sure, the plan is {"a": {"b": "}"}} and that is all.', b'{"a": {"b": "}"}}', "prose"),
    ],
)
def test_extract_finds_the_json_value(raw: bytes, text: bytes, how: str) -> None:
    """JSON is taken whole, out of a code fence, or as the first balanced object in prose."""
    assert strictjson.extract(raw) == Extracted(text, how)


@pytest.mark.parametrize("raw", [b"", b"   \n\t", b"```json\n\n```"])
def test_extract_reports_empty_output(raw: bytes) -> None:
    """White space only, or an empty fence, is empty rather than malformed."""
    found = strictjson.extract(raw)
    assert isinstance(found, ExtractError) and found.empty


@pytest.mark.parametrize("raw", [b"no json here", b'\xef\xbb\xbf{"a": 1}', b"plan: \xff{}"])
def test_extract_refuses_prose_bom_and_bad_utf8(raw: bytes) -> None:
    """Prose without an object, a byte-order mark and invalid UTF-8 are not JSON."""
    found = strictjson.extract(raw)
    assert isinstance(found, ExtractError) and not found.empty


def test_prose_object_that_never_closes_is_passed_on_whole() -> None:
    """An object cut off in prose goes to the parser, which reports the truncation."""
    found = strictjson.extract(b'here: {"a": [1, 2')
    assert found == Extracted(b'{"a": [1, 2', "prose")


@pytest.mark.parametrize(
    ("text", "cap", "deep"),
    [
        (b"[[[]]]", 3, False),
        (b"[[[[]]]]", 3, True),
        (b'["[[[[[[", {"a": "{{{{{{"}]', 2, False),
        (b"[" * 200_000 + b"]" * 200_000, 32, True),
        (b"[]" * 100, 1, False),
    ],
)
def test_depth_counts_brackets_outside_strings(text: bytes, cap: int, deep: bool) -> None:
    """Depth is the nesting of brackets outside strings, compared with the cap."""
    assert strictjson.depth_exceeds(text, cap) is deep


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'{"a": NaN}', "malformed"),
        (b'{"a": Infinity}', "malformed"),
        (b'{"a": 1} {"b": 2}', "trailing"),
        (b'{"a": "\\ud800"}', ""),  # msgspec's message varies ("truncated", "surrogate")
        (b'{"a": "\xff"}', "utf-8"),
    ],
)
def test_strict_error_names_what_is_wrong(text: bytes, needle: str) -> None:
    """Duplicate keys, NaN, trailing data, lone surrogates and bad UTF-8 are refused."""
    error = strictjson.strict_error(text)
    assert error is not None and needle in error.lower()


def test_strict_error_accepts_strict_json() -> None:
    """Valid JSON with distinct keys passes."""
    assert strictjson.strict_error(b'{"a": [1, 2.5, "x:y", null, true], "b": {"a": 1}}') is None


@pytest.mark.parametrize(
    ("text", "fixed", "done"),
    [
        (b'{"a": [1, 2,], }', b'{"a": [1, 2] }', ("trailing_comma",)),
        (b'{"a": [1, {"b": 2', b'{"a": [1, {"b": 2}]}', ("closed_brackets",)),
        (b'{"a": ",]"}', b'{"a": ",]"}', ()),
        (b'{"a": "unterminated', b'{"a": "unterminated', ()),
        (b'{"a": [1}', b'{"a": [1}', ()),
    ],
)
def test_repair_is_minimal_and_says_what_it_did(
    text: bytes, fixed: bytes, done: tuple[str, ...]
) -> None:
    """Repair drops trailing commas and closes open brackets, never touching strings."""
    assert strictjson.repair(text) == (fixed, done)
