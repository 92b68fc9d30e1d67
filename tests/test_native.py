"""The compiled build and the pure one (plansentry._native): which one a process runs, why, and that
both give the same decisions and the same documents.

The suite runs on whichever build is installed (compiled, from scripts/test.sh on a machine with a
C compiler); these tests run the other one in child processes: the core's tests (and the tests that
patch the core's modules, marker ``pure_core``, which see nothing of a compiled core) and a
simulation whose document must be byte-identical. With CI set, a build that cannot be had fails.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import IN_CI
from plansentry import _native

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(_native.__file__).resolve().parent
COMPILED_AVAILABLE = _native.choose({}, PACKAGE)[0] == "compiled"
OTHER = "pure" if _native.BUILD == "compiled" else "compiled"


def _child_env(build: str) -> dict[str, str]:
    return {**os.environ, "PLANSENTRY_PURE": "1" if build == "pure" else "0"}


def _need(build: str) -> None:
    """The compiled build is there, or the test cannot run: a failure in CI, a skip on a clone."""
    if build == "compiled" and not COMPILED_AVAILABLE:
        reason = f"no compiled build here: {_native.choose({}, PACKAGE)[1]}"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


_SHOW = (
    "import importlib, json, plansentry._native as n; "
    "print(json.dumps([n.BUILD, n.compiled(), "
    "[importlib.import_module(m).__file__ for m in n.MODULES]]))"
)


@pytest.mark.parametrize("build", ["pure", "compiled"])
def test_the_build_a_process_runs_is_the_one_chosen(build: str) -> None:
    """PLANSENTRY_PURE=1 imports every compiled module's source although the extension sits
    beside it; otherwise the extensions, all of them (their ``__file__`` says which)."""
    _need(build)
    out = subprocess.run(
        [sys.executable, "-c", _SHOW],
        env=_child_env(build),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    chosen, compiled, files = json.loads(out.stdout)
    assert chosen == build and compiled is (build == "compiled"), out.stderr
    suffixes = {Path(f).suffix for f in files}
    assert suffixes == ({".py"} if build == "pure" else {".so"}), files


def _tree(tmp_path: Path) -> Path:
    """A copy of the compiled modules' sources, with an extension file beside each and the
    manifest a build writes."""
    package = tmp_path / "plansentry"
    sources = {}
    for module in _native.MODULES:
        src = _native.source_path(module, package)
        src.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(_native.source_path(module, PACKAGE), src)
        src.with_suffix(importlib.machinery.EXTENSION_SUFFIXES[0]).write_bytes(b"")
        sources[module] = hashlib.sha256(src.read_bytes()).hexdigest()
    (package / _native.MANIFEST).write_text(json.dumps({"sources": sources}))
    return package


def test_a_source_edited_since_the_build_is_imported_from_source(tmp_path) -> None:
    """The compiled modules call one another directly: one stale source means none is used."""
    package = _tree(tmp_path)
    assert _native.choose({}, package)[:2] == ("compiled", "compiled with mypyc")
    edited = _native.source_path("plansentry.core.gate", package)
    edited.write_text(edited.read_text() + "\n# edited\n")
    build, reason, shadowed = _native.choose({}, package)
    assert (build, shadowed) == ("pure", True)
    assert reason == "plansentry/core/gate.py changed since it was compiled (reinstall to rebuild)"


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        ("manifest", "compiled modules without a readable _native.json"),
        ("extension", "compiled build incomplete: no extension for plansentry.core.fsm"),
        ("pure", "PLANSENTRY_PURE is set"),
    ],
)
def test_an_unusable_build_runs_the_sources(tmp_path, spoil: str, reason: str) -> None:
    """No manifest, a missing extension, or PLANSENTRY_PURE: the sources, saying why."""
    package = _tree(tmp_path)
    environ = {"PLANSENTRY_PURE": "1"} if spoil == "pure" else {}
    if spoil == "manifest":
        (package / _native.MANIFEST).write_text("{not json")
    if spoil == "extension":
        fsm = _native.source_path("plansentry.core.fsm", package)
        fsm.with_suffix(importlib.machinery.EXTENSION_SUFFIXES[0]).unlink()
    assert _native.choose(environ, package) == ("pure", reason, True)


def test_the_core_tests_pass_on_the_other_build(request) -> None:
    """tests/core, and the tests that patch the core's modules, on the build this session does
    not run (they run here on this one)."""
    _need(OTHER)
    patched = [
        item.nodeid
        for item in request.session.items
        if item.get_closest_marker("pure_core") is not None
    ]
    if OTHER == "compiled":
        patched = []  # they patch what a compiled core cannot see; this session ran them
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/core", *patched],
        cwd=ROOT,
        env=_child_env(OTHER),
        capture_output=True,
        text=True,
        timeout=240,
    )
    tail = proc.stdout.strip().splitlines()[-1:]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert tail and " passed" in tail[0], tail


def _document(build: str, *args: str) -> bytes:
    proc = subprocess.run(
        [sys.executable, "-m", "plansentry.cli", *args],
        env=_child_env(build),
        capture_output=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    return proc.stdout


def test_both_builds_write_the_same_simulation_document() -> None:
    """The chaos profile (every fault at 1 % or more: every row of the matrix, repairs, late and
    unreadable answers), 4,000 guarded decisions and the other controllers: the same bytes."""
    _need("compiled")
    args = ("simulate", "--profile", "chaos", "--cycles", "4000", "--workers", "1", "--json")
    compiled, pure = _document("compiled", *args), _document("pure", *args)
    assert json.loads(compiled)["config"]["cycles"] == 4000
    assert compiled == pure
