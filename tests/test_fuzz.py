"""The atheris target: clean on a few thousand inputs, most of them plans the guard executes, and able
to find a rule broken on purpose (the long runs are in docs/RELIABILITY.md)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "fuzz" / "fuzz_guard.py"
RUNS = 2_000
#: Inputs the fuzzer gets to find a broken rule (speed_limit: 638, zone_closed: 30 here).
BROKEN_RULE_BUDGET = 20_000
COUNTS = re.compile(
    r"plansentry-fuzz: inputs (\d+), structured (\d+) .*gate accepted (\d+) .*"
    r"model plan executed (\d+)"
)


def fuzz(tmp_path: Path, *args: str, seeds: bool = True) -> subprocess.CompletedProcess[str]:
    """The target on a corpus in ``tmp_path`` (the seeds, or empty), libFuzzer and hashing seeded."""
    corpus = tmp_path / "corpus"
    if seeds:
        shutil.copytree(ROOT / "fuzz" / "seeds", corpus)
    else:
        corpus.mkdir()
    return subprocess.run(
        [
            sys.executable,
            str(TARGET),
            *args,
            str(corpus),
            "-seed=1",
            "-rss_limit_mb=1024",
            "-malloc_limit_mb=512",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], Path]:
    tmp = tmp_path_factory.mktemp("fuzz")
    return fuzz(tmp, f"-atheris_runs={RUNS}"), tmp


def test_fuzz_target_runs_clean(clean_run) -> None:
    """2,000 inputs from the seeds: no property fails, no crash file."""
    proc, tmp = clean_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"Done {RUNS}" in proc.stderr
    assert not list(tmp.glob("crash-*"))


def test_a_meaningful_share_of_fuzz_inputs_are_plans_the_guard_executes(clean_run) -> None:
    """At least a tenth of the inputs are model plans the gate accepts and the guard executes, each
    checked by the safety checker (the property is not vacuous: 373 to 425 of 2,000 here)."""
    proc, _ = clean_run
    found = COUNTS.findall(proc.stderr)
    assert found, proc.stderr[-3000:]
    inputs, _structured, gate_accepted, executed = map(int, found[-1])
    assert inputs == RUNS
    assert executed >= RUNS // 10
    assert gate_accepted >= executed


@pytest.mark.parametrize(
    ("rule", "reason"),
    [("speed_limit", r"speed [\d.]+ over [\d.]+"), ("zone_closed", "route does not exist|closed")],
)
def test_the_fuzzer_finds_a_rule_broken_on_purpose(tmp_path, rule: str, reason: str) -> None:
    """With one rule's violations dropped from the domain, the fuzzer, from an empty corpus, finds a
    plan the guard accepts and the safety checker refuses, and writes it to a crash file."""
    proc = fuzz(
        tmp_path, f"--break-rule={rule}", f"-atheris_runs={BROKEN_RULE_BUDGET}", seeds=False
    )
    assert proc.returncode != 0
    found = re.search(
        r"input (\d+): the (?:gate accepted|guard executes) a plan the safety checker "
        r"refuses: \[(.*)\]",
        proc.stdout + proc.stderr,  # atheris prints the exception on stdout
    )
    assert found, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert int(found[1]) <= BROKEN_RULE_BUDGET
    assert re.search(reason, found[2])
    assert list(tmp_path.glob("crash-*"))


READERS = ROOT / "fuzz" / "fuzz_readers.py"
READER_RUNS = 600
READER_COUNTS = re.compile(
    r"plansentry-fuzz-readers: check (\d+), fmli (\d+), fit (\d+), replay (\d+), document (\d+)"
)


def fuzz_readers(
    tmp_path: Path, *args: str, seeds: bool = True
) -> subprocess.CompletedProcess[str]:
    """The readers' target on a corpus in ``tmp_path`` (its seeds, or empty), seeded."""
    corpus = tmp_path / "corpus"
    if seeds:
        shutil.copytree(ROOT / "fuzz" / "readers-seeds", corpus)
    else:
        corpus.mkdir()
    return subprocess.run(
        [sys.executable, str(READERS), *args, str(corpus), "-seed=1", "-rss_limit_mb=1024"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )


def test_the_readers_fuzz_target_runs_clean_on_every_command(tmp_path) -> None:
    """600 inputs from the hostile seeds, through check, fmli, fit, replay and the document
    sniffing: nothing escapes, the good record after the fuzzed bytes is always judged, and every
    command gets inputs of its own."""
    proc = fuzz_readers(tmp_path, f"-atheris_runs={READER_RUNS}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"Done {READER_RUNS}" in proc.stderr
    assert not list(tmp_path.glob("crash-*"))
    found = READER_COUNTS.findall(proc.stderr)
    assert found, proc.stderr[-3000:]
    assert all(int(n) >= 10 for n in found[-1]), found[-1]  # 29 to 199 of 600 here


@pytest.mark.parametrize(
    ("bug", "escaped"), [("utf8", "UnicodeDecodeError"), ("shape", "KeyError|TypeError")]
)
def test_the_readers_fuzzer_finds_a_reader_bug_put_back(tmp_path, bug: str, escaped: str) -> None:
    """With a bug the one reader fixed put back, the target catches it: lines decoded as text
    first, found from an empty corpus (any invalid UTF-8); audit records let through unchecked,
    from the seeds (a record of the wrong shape is several keys away from an empty input)."""
    proc = fuzz_readers(
        tmp_path, f"--break={bug}", f"-atheris_runs={READER_RUNS}", seeds=bug == "shape"
    )
    assert proc.returncode != 0
    assert re.search(escaped, proc.stdout + proc.stderr), proc.stderr[-3000:]
    assert list(tmp_path.glob("crash-*"))
