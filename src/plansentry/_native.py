"""Which build of plansentry's hottest modules runs: compiled with mypyc, or pure Python.

The modules in :data:`MODULES` (the pure core, the warehouse's rules and router, and the two the
simulator calls per decision: the cycle-time bound and the best-plan search) are compiled to C
extensions with mypyc when plansentry is installed on a machine with a C compiler (setup.py; a
wheel or an editable install alike). Python prefers an extension module to a source file of the
same name, so both sit side by side and this module, imported first by ``plansentry/__init__.py``,
decides once per process which of them is imported:

- ``PLANSENTRY_PURE=1`` (any value but ``0`` or empty): the sources, whatever is built;
- otherwise the compiled modules, if the build left them and its manifest (``_native.json``, the
  sha256 of every source it compiled) matches the sources now beside them; if a source changed
  since (an edited checkout), every one of them is imported from source, with one warning: the
  compiled modules call one another directly, so they are used all together or not at all.

The pure build is the same code: the same inputs give the same decisions and the same documents
(``tests/test_native.py``). It is what a machine without a compiler installs, what the fuzzer
instruments, and what ``PLANSENTRY_PURE=1`` selects. :data:`BUILD` says which one runs and
:data:`REASON` why.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Final

#: The modules mypyc compiles (setup.py reads this tuple), all or none of them in one process.
MODULES: Final = (
    "plansentry.core.failures",
    "plansentry.core.fsm",
    "plansentry.core.breaker",
    "plansentry.core.decision",
    "plansentry.core.decider",
    "plansentry.core.strictjson",
    "plansentry.core.gate",
    "plansentry.domains.warehouse.router",
    "plansentry.domains.warehouse.rules",
    "plansentry.domains.warehouse.cycle",
    "plansentry.domains.warehouse.optimal",
)
#: The build's record of what it compiled: {"mypy": version, "sources": {module: sha256}}.
MANIFEST: Final = "_native.json"

_PACKAGE = Path(__file__).resolve().parent


def source_path(module: str, package: Path = _PACKAGE) -> Path:
    """The source file of one of :data:`MODULES` (in the ``plansentry`` package at ``package``)."""
    return package.joinpath(*module.split(".")[1:]).with_suffix(".py")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _extension(module: str, package: Path) -> Path | None:
    """The compiled module beside the source, if the build left one."""
    src = source_path(module, package)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        ext = src.with_suffix(suffix)
        if ext.exists():
            return ext
    return None


def choose(environ: Mapping[str, str], package: Path = _PACKAGE) -> tuple[str, str, bool]:
    """``(build, reason, shadowed)``: which build to import, why, and whether compiled modules
    sit beside the sources (and must be kept out of the way for the pure one)."""
    built = [m for m in MODULES if _extension(m, package) is not None]
    if environ.get("PLANSENTRY_PURE", "") not in ("", "0"):
        return "pure", "PLANSENTRY_PURE is set", bool(built)
    if not built:
        return "pure", "not compiled (installed without mypyc or without a C compiler)", False
    manifest = package / MANIFEST
    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8"))["sources"]
    except (OSError, ValueError, KeyError, TypeError):
        return "pure", f"compiled modules without a readable {MANIFEST}", True
    missing = [m for m in MODULES if m not in built]
    if missing:
        return "pure", f"compiled build incomplete: no extension for {missing[0]}", True
    changed = [m for m in MODULES if recorded.get(m) != digest(source_path(m, package))]
    if changed:
        src = source_path(changed[0], package).relative_to(package.parent)
        return "pure", f"{src} changed since it was compiled (reinstall to rebuild)", True
    return "compiled", "compiled with mypyc", False


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Imports :data:`MODULES` from their sources although extension modules sit beside them."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, source_path(fullname))


BUILD, REASON, _shadowed = choose(os.environ)
if _shadowed:
    sys.meta_path.insert(0, _SourceFinder())
    if not REASON.startswith("PLANSENTRY_PURE"):
        warnings.warn(f"plansentry: running the pure-Python build: {REASON}", stacklevel=2)


def compiled() -> bool:
    """Whether this process runs the compiled modules (checked on the modules themselves)."""
    loaded = [sys.modules.get(m) for m in MODULES]
    return BUILD == "compiled" and all(
        m is None or not str(getattr(m, "__file__", "")).endswith(".py") for m in loaded
    )
