"""Two axes of imports. Upward: core <- runtime <- planners, telemetry <- report <- sim <- testing,
serve <- ros2 (the ROS 2 node is served by serve's service layer) <- cli <- domains. Across:
nothing generic imports a domain (the warehouse, or any kit's package); a domain imports no other
domain. Both are checked on the tree, and on a tree with a deliberate violation."""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "plansentry"
RANK = {
    "core": 0,
    "runtime": 1,
    "planners": 2,
    "telemetry": 2,
    "report": 3,
    "sim": 4,
    "testing": 5,
    "serve": 5,
    "ros2": 6,
    "cli": 7,
    "domains": 8,
}


def _domain_packages() -> set[str]:
    """Top-level packages of every installed kit outside plansentry (a third party's domain)."""
    out = set()
    for ep in entry_points(group="plansentry.domains"):
        top = ep.value.split(":")[0].split(".")[0]
        if top != "plansentry":
            out.add(top)
    return out


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _layer(parts: tuple[str, ...]) -> str:
    return parts[0] if len(parts) > 1 else ""


def violations(root: Path, domain_packages: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Every import under ``root`` (a ``plansentry`` source tree) that breaks either axis."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        own = _layer(rel.parts)
        own_domain = rel.parts[1] if own == "domains" and len(rel.parts) > 2 else None
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] in domain_packages:
                if own != "domains":
                    found.append(f"{rel}: generic module imports the domain package {name}")
                continue
            if parts[0] != "plansentry" or len(parts) < 2:
                continue
            other = parts[1]
            if other == "domains":
                if own != "domains":
                    found.append(f"{rel}: generic module imports the domain {name}")
                elif len(parts) > 2 and own_domain is not None and parts[2] != own_domain:
                    found.append(f"{rel}: domain {own_domain} imports another domain, {name}")
                continue
            if other not in RANK:
                continue  # a top-level module: __init__, or _native (checked below)
            if own == "":
                continue  # plansentry/__init__.py: the front door re-exports generic layers
            if not (other == own or RANK[other] < RANK[own]):
                found.append(f"{rel}: imports {name}, a peer or a layer to its right")
    return found


def test_the_tree_keeps_both_axes() -> None:
    """No module imports a layer to its right, and nothing generic imports a domain."""
    assert violations(SRC, _domain_packages()) == []


def test_the_front_door_imports_no_domain() -> None:
    """plansentry/__init__.py offers the generic guard; domains are reached by name."""
    assert not [n for n in _imports(SRC / "__init__.py") if n.startswith("plansentry.domains")]


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "telemetry/audit.py",
            "from plansentry.domains.warehouse.map import Warehouse\n",
            "generic module imports the domain",
        ),
        ("report/fmli.py", "import plansentry_drone.rules\n", "domain package"),
        ("core/gate.py", "from plansentry.runtime.guard import Guard\n", "layer to its right"),
        (
            "sim/engine.py",
            "from plansentry.domains.warehouse.world.world import WarehouseWorld\n",
            "generic module imports the domain",
        ),
        ("sim/engine.py", "import plansentry_drone.world\n", "domain package"),
        ("report/fmli.py", "from plansentry.sim.engine import SimRun\n", "layer to its right"),
        (
            "domains/warehouse/rules.py",
            "from plansentry.domains.drone import rules\n",
            "imports another domain",
        ),
    ],
)
def test_a_deliberate_violation_is_caught(
    tmp_path: Path, module: str, source: str, expected: str
) -> None:
    """The checker fails on a tree where one module breaks an axis."""
    for rel in (
        "core/gate.py",
        "runtime/guard.py",
        "telemetry/audit.py",
        "report/fmli.py",
        "sim/engine.py",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    (tmp_path / "domains/warehouse").mkdir(parents=True, exist_ok=True)
    (tmp_path / "domains/warehouse/rules.py").write_text("")
    (tmp_path / module).write_text(source)
    found = violations(tmp_path, {"plansentry_drone"})
    assert len(found) == 1 and expected in found[0], found


def test_core_reads_no_clock_and_does_no_io() -> None:
    """The core is pure: no time, no threads, no files, no sockets."""
    banned = {"time", "threading", "socket", "os", "asyncio", "random", "datetime", "subprocess"}
    for path in (SRC / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert not banned & {a.name.split(".")[0] for a in node.names}, path
            elif isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in banned, path


def test_the_build_chooser_imports_nothing_of_plansentry() -> None:
    """plansentry._native runs first, to choose which build of the core is imported: it may not
    import any of plansentry itself (that would import the core before the choice)."""
    names = _imports(SRC / "_native.py")
    assert names and not [n for n in names if n.split(".")[0] == "plansentry"], names
    init = ast.parse((SRC / "__init__.py").read_text())
    first = next(n for n in init.body if isinstance(n, (ast.Import, ast.ImportFrom)))
    assert isinstance(first, ast.ImportFrom) and first.module == "plansentry"
    assert [a.name for a in first.names] == ["_native"]
