"""The issue's hostile records, as a user hands them to each command: one error line naming the
file, the line and the reason; the records after it still judged; no traceback. Each of these
failed on the code before the one reader (a UnicodeDecodeError or RecursionError traceback, or a
line dropped without a word)."""

from __future__ import annotations

from pathlib import Path

from test_fmli_command import log  # noqa: F401 - the fixture: a warehouse audit log

from helpers import run_cli

DEEP = b"[" * 1000 + b"]" * 1000


def _check_input(tmp_path: Path, bad: bytes) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_bytes(
        b'{"id": "first", "output": "not json"}\n' + bad + b'\n{"id": "after", "output": "{}"}\n'
    )
    return path


def test_check_refuses_invalid_utf8_and_judges_the_records_after(tmp_path: Path) -> None:
    path = _check_input(tmp_path, b'{"id": "x", "output": "\xff\xfe"}')
    code, out, err = run_cli(["check", str(path)])
    assert code == 1 and "Traceback" not in err
    assert '"id":"after"' in out and '"failure_mode"' in out.split('"id":"after"')[1]
    assert f'"file":"{path}","line":2,"error":"invalid UTF-8 at offset' in out
    assert "2 records judged, 0 refused, 1 line could not be read" in err


def test_check_refuses_a_record_nested_1000_deep(tmp_path: Path) -> None:
    code, out, err = run_cli(["check", str(_check_input(tmp_path, DEEP))])
    assert code == 1 and "Traceback" not in err
    assert '"line":2,"error":"nested deeper than 64"' in out and '"id":"after"' in out


def test_fmli_and_replay_refuse_a_deep_line_and_say_so(tmp_path: Path, log: Path) -> None:  # noqa: F811
    lines = log.read_bytes().split(b"\n")
    lines.insert(2, DEEP)
    hostile = tmp_path / "hostile.jsonl"
    hostile.write_bytes(b"\n".join(lines))
    code, out, err = run_cli(["fmli", str(hostile)])
    assert code == 1 and "Traceback" not in err
    assert f"{hostile}:3: nested deeper than 64" in err
    assert "plansentry fmli: 1 line could not be read" in err
    code, out, err = run_cli(["replay", str(hostile)])
    assert code == 1 and "Traceback" not in err
    assert f"{hostile}:3: nested deeper than 64" in out


def test_fmli_names_a_record_of_the_wrong_shape(tmp_path: Path, log: Path) -> None:  # noqa: F811
    lines = log.read_bytes().split(b"\n")
    lines.insert(2, b'{"type": "decision", "decision": {"request_id": "r", "decided_ns": "soon"}}')
    hostile = tmp_path / "shape.jsonl"
    hostile.write_bytes(b"\n".join(lines))
    code, _out, err = run_cli(["fmli", str(hostile)])
    assert code == 1 and "Traceback" not in err
    assert (
        f"{hostile}:3: a decision record: Expected `int`, got `str` - at `$.decision.decided_ns`"
        in err
    )
