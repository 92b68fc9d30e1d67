"""JSONTestSuite (../shared/corpora beside the repo) through the whole gate, each file as a model
output, on the toy domain.

A plain clone has no ../shared: the corpus tests then skip, naming the missing path. CI (CI=true)
lays the corpus out, so there a missing corpus fails. Where the gate is deliberately stricter than
RFC 8259, the file is listed here and in docs/ARCHITECTURE.md ("Strict JSON").
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from helpers import IN_CI
from plansentry.core.failures import FailureMode
from plansentry.core.gate import Gate

CORPUS = (
    Path(__file__).resolve().parents[3] / "shared" / "corpora" / "JSONTestSuite" / "test_parsing"
)
#: JSONTestSuite's test_parsing has over 300 files; fewer means a broken checkout, not a clone.
MIN_FILES = 300
STRICTER_THAN_RFC = {
    "y_object_duplicated_key.json": "duplicate keys are refused",
    "y_object_duplicated_key_and_value.json": "duplicate keys are refused",
}
SYNTAX_FAILURES = {FailureMode.MALFORMED, FailureMode.EMPTY, FailureMode.OVERSIZE}


def corpus_files(directory: Path) -> list[Path]:
    """The corpus's files in ``directory``; skips the calling test when there are none (fails it
    when ``IN_CI``), naming the path."""
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not files:
        reason = f"JSONTestSuite corpus missing: no *.json in {directory}"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: the corpus must be there)", pytrace=False)
        pytest.skip(reason)
    return files


FILES = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []
# Without the corpus one placeholder case runs, and skips or fails through corpus_files().
CASES = FILES or [pytest.param(None, id="corpus-missing")]


@pytest.mark.parametrize(("in_ci", "outcome"), [(False, "skip"), (True, "fail")])
def test_missing_corpus_skips_on_a_clone_and_fails_in_ci(
    tmp_path, monkeypatch, in_ci: bool, outcome: str
) -> None:
    """An empty corpus directory skips the test outside CI and fails it in CI, naming the path."""
    monkeypatch.setattr(f"{__name__}.IN_CI", in_ci)
    kinds = {pytest.skip.Exception: "skip", pytest.fail.Exception: "fail"}
    with pytest.raises(tuple(kinds)) as caught:
        corpus_files(tmp_path)
    assert kinds[caught.type] == outcome
    assert str(tmp_path) in str(caught.value)


def test_corpus_is_complete() -> None:
    """The corpus, when there, is whole: a truncated checkout must not pass as a short corpus."""
    assert len(corpus_files(CORPUS)) > MIN_FILES


@pytest.mark.parametrize("path", CASES, ids=lambda p: getattr(p, "name", p))
def test_corpus_file(path: Path | None, domain, ctx) -> None:
    """n_ files fail at syntax, y_ files never do (unless listed), nothing crashes or takes long."""
    if path is None:
        corpus_files(CORPUS)
        return
    raw = path.read_bytes()
    gate = Gate(domain)
    t0 = time.perf_counter()
    verdict = gate.check(raw, len(raw), ctx, domain.version(ctx))
    elapsed_ms = (time.perf_counter() - t0) * 1000
    assert elapsed_ms < 100, f"gate took {elapsed_ms:.1f} ms"
    if path.name.startswith("n_"):
        assert verdict.mode in SYNTAX_FAILURES, verdict
    elif path.name in STRICTER_THAN_RFC:
        assert verdict.mode is FailureMode.MALFORMED
    elif path.name.startswith("y_"):
        assert verdict.mode is not FailureMode.MALFORMED, verdict
