"""Coverage-guided fuzzing of every command that reads a user's file, with atheris.

Each input is one command (byte 0) and the bytes a user hands it (the rest). The commands run in
this process exactly as ``plansentry CMD FILE`` runs them (their ``run`` function on the parsed
flags), on a file that holds the fuzzed bytes between good records:

- ``check``: the fuzzed bytes, then one good record (``{"id": "zz-after", ...}``);
- ``fmli``, ``fit`` and ``replay``: a real audit log's header, the fuzzed bytes, then a real
  logged decision (both written, at start, by ``check --audit-log`` on one record);
- ``document``: the fuzzed bytes alone, as the whole file (``read_sections`` sniffs a document,
  check output or an audit log from them, as ``fmli`` and ``report`` do).

The properties checked on every input (a failure is an uncaught exception: libFuzzer writes the
input to ``crash-*``):

1. no exception escapes but the documented ones: a :class:`PlansentryError` (the one-line error of
   exit code 2), and only where a file can be refused as a whole (``fit`` with too little to fit,
   ``replay`` of a header naming a kit that is not installed, ``document``);
2. ``check``, ``fmli`` and ``replay`` exit 0 or 1 (1: something was refused, and said);
3. the good record after the fuzzed bytes is still judged: ``check``'s last line of output is its
   verdict; the audit log's good decision is the last row ``fmli``, ``fit`` and ``report`` read
   (:func:`read_sections`), and ``replay`` counts it;
4. every line that could not be read is named on stderr or in the output (``FILE:LINE: REASON``).

Run (docs/RELIABILITY.md has the figures of a run):

    .venv/bin/python fuzz/fuzz_readers.py CORPUS_DIR -max_total_time=600

``CORPUS_DIR`` starts from ``fuzz/readers-seeds`` (one hostile input per command). ``--break=NAME``
(before the corpus) puts back a bug the reader exists to prevent, to show that the fuzzer finds it:
``utf8`` decodes each line as text before judging it (``check`` before the one reader: a
``UnicodeDecodeError``); ``shape`` lets audit records through without checking their kind's fields
(a decision without ``decided_ns`` then reaches ``fmli`` and ``replay``).

``tests/test_fuzz.py`` runs this target on every CI run.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Final

import atheris

# atheris instruments Python bytecode, which the compiled build has none of (see fuzz_guard.py).
os.environ.setdefault("PLANSENTRY_PURE", "1")

with atheris.instrument_imports(include=["plansentry"]):
    from plansentry.cli import build_parser
    from plansentry.core.errors import PlansentryError
    from plansentry.report.decisions import read_sections
    from plansentry.telemetry import audit, reader

COMMANDS: Final = ("check", "fmli", "fit", "replay", "document")
WORK: Final = Path(tempfile.mkdtemp(prefix="plansentry-fuzz-readers-"))
GOOD_CHECK: Final = b'{"id": "zz-after", "output": "{}"}'
SEEN: dict[str, int] = dict.fromkeys(COMMANDS, 0)
SEEN["refused"] = 0


def _run(argv: list[str]) -> tuple[int, str, str]:
    """``plansentry ARGV`` in this process: (its exit code, stdout, stderr)."""
    args = build_parser().parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = args.func(args, out)
    return code, out.getvalue(), err.getvalue()


def _audit_lines() -> tuple[bytes, bytes]:
    """A real audit log's header and decision lines, written by ``check --audit-log``."""
    records = WORK / "one.jsonl"
    records.write_bytes(GOOD_CHECK + b"\n")
    log = WORK / "one.audit.jsonl"
    code, _, err = _run(["check", str(records), "--audit-log", str(log)])
    assert code == 0, err
    header, decision = (line for line in log.read_bytes().splitlines() if line)
    return header, decision


HEADER, DECISION = _audit_lines()


def _file(data: bytes, name: str) -> Path:
    path = WORK / name
    path.write_bytes(data)
    return path


def _lines(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    command, body = COMMANDS[data[0] % len(COMMANDS)], data[1:]
    SEEN[command] += 1
    if command == "check":
        path = _file(body + b"\n" + GOOD_CHECK + b"\n", "records.jsonl")
        code, out, err = _run(["check", str(path)])
        assert code in (0, 1), (code, err)
        last = json.loads(out.splitlines()[-1])
        assert last["id"] == "zz-after" and "failure_mode" in last, last
        SEEN["refused"] += code
        return
    if command == "document":
        path = _file(body, "document.json")
        with contextlib.suppress(PlansentryError):
            read_sections(path)
        return
    text = HEADER + b"\n" + body + b"\n" + DECISION + b"\n"
    path = _file(text, "audit.jsonl")
    last_line = _lines(text)
    if command == "fmli":
        code, _, err = _run(["fmli", str(path)])
        assert code in (0, 1), (code, err)
        assert code == 0 or "could not be read" in err, err
        sections = read_sections(path)
        rows = sections[-1].rows
        # the good decision is the last row read, or named as refused (under a fuzzed header
        # that could not be used)
        assert (rows and rows[-1].line == last_line) or any(
            r.position == last_line for s in sections for r in s.refused
        ), (rows[-1:], [s.refused for s in sections])
        unreadable = sum(len(s.refused) for s in sections)
        assert unreadable == 0 or f"{unreadable:,} line" in err, (unreadable, err)
        SEEN["refused"] += code
        return
    if command == "fit":
        with contextlib.suppress(PlansentryError):
            _run(["fit", str(path), "-o", str(WORK / "fitted.yaml")])
        return
    try:
        code, out, _ = _run(["replay", str(path)])
    except PlansentryError:
        return  # a fuzzed header naming a kit this machine cannot load: the log is refused whole
    assert code in (0, 1), out
    # the good decision is replayed, or named (a fuzzed header of another kit took it over)
    replayed = int(out.splitlines()[-1].split()[0])
    assert replayed >= 1 or f":{last_line}: " in out, out


def _report() -> None:
    sys.stderr.write(
        "plansentry-fuzz-readers: " + ", ".join(f"{k} {v}" for k, v in SEEN.items()) + "\n"
    )


atexit.register(_report)


def _break(name: str) -> None:
    if name == "utf8":
        judge = reader._refusal

        def as_text_first(data: bytes, limits: reader.Limits) -> object:
            data.decode("utf-8")
            return judge(data, limits)

        reader._refusal = as_text_first  # type: ignore[assignment]
    elif name == "shape":
        audit.record_problem = lambda rec: None
    else:
        raise SystemExit(f"fuzz_readers.py: --break takes utf8 or shape, got {name!r}")


if __name__ == "__main__":
    for arg in [a for a in sys.argv if a.startswith("--break=")]:
        sys.argv.remove(arg)
        _break(arg.partition("=")[2])
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
