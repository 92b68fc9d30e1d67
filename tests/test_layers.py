"""Import direction: core <- runtime <- planners, warehouse <- sim, telemetry <- report <- cli."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "plansentry"
RANK = {
    "core": 0,
    "runtime": 1,
    "planners": 2,
    "warehouse": 2,
    "sim": 3,
    "telemetry": 3,
    "report": 4,
    "cli": 5,
}


def layer_of(module: str) -> str:
    part = module.split(".")[1] if "." in module else ""
    return "cli" if part.startswith("cli") else part


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_only_lower_layers(path: Path) -> None:
    """A module imports its own layer or layers to its left, never a peer or one to its right."""
    rel = path.relative_to(SRC)
    if len(rel.parts) > 1:
        own = rel.parts[0]
    elif rel.stem.startswith("cli"):
        own = "cli"  # cli.py and its sub-commands (cli_*.py)
    else:
        own = ""
    if own == "":
        return  # plansentry/__init__.py: the front door re-exports every layer
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            if not name.startswith("plansentry."):
                continue
            other = layer_of(name)
            assert other == own or RANK[other] < RANK[own], f"{rel} imports {name}"


def test_core_reads_no_clock_and_does_no_io() -> None:
    """The core is pure: no time, no threads, no files, no sockets."""
    banned = {"time", "threading", "socket", "os", "asyncio", "random", "datetime", "subprocess"}
    for path in (SRC / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert not banned & {a.name.split(".")[0] for a in node.names}, path
            elif isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in banned, path
