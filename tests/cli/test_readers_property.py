"""A property over each command that reads a user's file (check, fmli, fit, replay, and the
document sniffing of fmli and report): whatever lines sit between good records, no exception but
the documented ones escapes, and the good record after them is still judged.

The hostile lines are of three kinds: arbitrary bytes; JSON of any shape; and the real records of
an audit log (header, decision) with one field, anywhere in them, replaced by any JSON value, the
records a reader must refuse by their shape. ``fuzz/fuzz_readers.py`` checks the same properties
coverage-guided."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plansentry.cli import build_parser
from plansentry.core.errors import PlansentryError
from plansentry.report.decisions import read_sections

GOOD_CHECK = b'{"id": "zz-after", "output": "{}"}'

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def run(argv: list[str]) -> tuple[int, str, str]:
    """``plansentry ARGV`` in this process, as the command line runs it: (exit code, out, err)."""
    args = build_parser().parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = args.func(args, out)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """A real audit log's header and decision lines, written by ``check --audit-log``."""
    tmp = tmp_path_factory.mktemp("audit")
    (tmp / "one.jsonl").write_bytes(GOOD_CHECK + b"\n")
    log = tmp / "one.audit.jsonl"
    code, _, err = run(["check", str(tmp / "one.jsonl"), "--audit-log", str(log)])
    assert code == 0, err
    header, decision = (line for line in log.read_bytes().splitlines() if line)
    return header, decision


def _mutated(record: dict[str, Any], data: st.DataObject) -> bytes:
    """``record`` with the value at one path in it (any depth) replaced by any JSON value."""
    record = json.loads(json.dumps(record))
    node: Any = record
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        child = node[key]
        if not isinstance(child, (dict, list)) or data.draw(st.booleans()):
            node[key] = data.draw(json_values)
            break
        node = child
    return json.dumps(record).encode()


def hostile_lines(data: st.DataObject, audit: tuple[bytes, bytes]) -> bytes:
    header, decision = (json.loads(line) for line in audit)
    lines = []
    for kind in data.draw(st.lists(st.sampled_from(["bytes", "json", "record"]), max_size=4)):
        if kind == "bytes":
            lines.append(data.draw(st.binary(max_size=40)).replace(b"\n", b" "))
        elif kind == "json":
            lines.append(json.dumps(data.draw(json_values)).encode())
        else:
            lines.append(_mutated(data.draw(st.sampled_from([header, decision])), data))
    return b"\n".join(lines)


def _read_or_named(sections: list[Any], line: int) -> bool:
    """Whether the decision on ``line`` is the last row read, or a line named as refused (under a
    header of the hostile lines that could not be used)."""
    rows = sections[-1].rows
    return (bool(rows) and rows[-1].line == line) or any(
        r.position == line for s in sections for r in s.refused
    )


PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(data=st.data())
def test_check_judges_the_record_after_any_lines(
    tmp_path: Path, audit: tuple[bytes, bytes], data: st.DataObject
) -> None:
    path = tmp_path / "records.jsonl"
    path.write_bytes(hostile_lines(data, audit) + b"\n" + GOOD_CHECK + b"\n")
    code, out, err = run(["check", str(path)])
    assert code in (0, 1), err
    last = json.loads(out.splitlines()[-1])
    assert last["id"] == "zz-after" and "failure_mode" in last


@PROPERTY
@given(data=st.data())
def test_fmli_fit_and_replay_read_the_decision_after_any_lines(
    tmp_path: Path, audit: tuple[bytes, bytes], data: st.DataObject
) -> None:
    header, decision = audit
    text = header + b"\n" + hostile_lines(data, audit) + b"\n" + decision + b"\n"
    path = tmp_path / "audit.jsonl"
    path.write_bytes(text)
    last_line = text.count(b"\n")
    code, _, err = run(["fmli", str(path)])
    assert code in (0, 1), err
    sections = read_sections(path)
    assert _read_or_named(sections, last_line)
    told = re.search(r"plansentry fmli: ([\d,]+) lines? could not be read", err)
    assert told is not None, err
    assert int(told[1].replace(",", "")) >= sum(len(s.refused) for s in sections)
    with contextlib.suppress(PlansentryError):  # too little to fit is a one-line error
        run(["fit", str(path), "-o", str(tmp_path / "fitted.yaml")])
    try:
        code, out, _ = run(["replay", str(path)])
    except PlansentryError:
        return  # a header naming a kit that is not installed refuses the log as a whole
    assert code in (0, 1), out
    assert int(out.splitlines()[-1].split()[0]) >= 1 or f":{last_line}: " in out


@PROPERTY
@given(data=st.data())
def test_a_whole_file_of_anything_is_sections_or_one_error(
    tmp_path: Path, audit: tuple[bytes, bytes], data: st.DataObject
) -> None:
    path = tmp_path / "document.json"
    path.write_bytes(hostile_lines(data, audit))
    with contextlib.suppress(PlansentryError):
        read_sections(path)
