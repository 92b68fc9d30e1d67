"""JSONTestSuite (../shared/corpora) through the whole gate, each file as a model output.

Where the gate is deliberately stricter than RFC 8259, the file is listed here and in
docs/ARCHITECTURE.md ("Strict JSON").
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from plansentry.core.failures import FailureMode
from plansentry.core.gate import Gate

CORPUS = (
    Path(__file__).resolve().parents[3] / "shared" / "corpora" / "JSONTestSuite" / "test_parsing"
)
STRICTER_THAN_RFC = {
    "y_object_duplicated_key.json": "duplicate keys are refused",
    "y_object_duplicated_key_and_value.json": "duplicate keys are refused",
}
SYNTAX_FAILURES = {FailureMode.MALFORMED, FailureMode.EMPTY, FailureMode.OVERSIZE}
FILES = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []


def test_corpus_is_present() -> None:
    """The corpus is beside the project, as CI lays it out; a missing corpus must not pass silently."""
    assert len(FILES) > 300, f"JSONTestSuite not found at {CORPUS}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_file(path: Path, domain, ctx) -> None:
    """n_ files fail at syntax, y_ files never do (unless listed), nothing crashes or takes long."""
    raw = path.read_bytes()
    gate = Gate(domain)
    t0 = time.perf_counter()
    verdict = gate.check(raw, len(raw), ctx, ctx.version)
    elapsed_ms = (time.perf_counter() - t0) * 1000
    assert elapsed_ms < 100, f"gate took {elapsed_ms:.1f} ms"
    if path.name.startswith("n_"):
        assert verdict.mode in SYNTAX_FAILURES, verdict
    elif path.name.startswith("y_") and path.name not in STRICTER_THAN_RFC:
        assert verdict.mode is not FailureMode.MALFORMED, verdict
    elif path.name in STRICTER_THAN_RFC:
        assert verdict.mode is FailureMode.MALFORMED
