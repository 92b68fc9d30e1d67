"""Every request docs/SERVE.md (and the README) shows, run against the real service on 127.0.0.1
with the warehouse kit: each curl command gets the status its comment says (`# -> 200`), and the
Python example runs as written, but for the address."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from servekit import running

from helpers import require_tools
from plansentry.domains.warehouse.kit import warehouse_kit
from plansentry.domains.warehouse.schema import encode_plan
from plansentry.serve.config import ServeConfig
from plansentry.serve.service import Service

pytestmark = pytest.mark.realtime
ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```(sh|python)\n(.*?)```", re.S)
EXPECT = re.compile(r"\s+# -> (\d{3})\s*$")


def _commands(path: Path) -> list[tuple[str, int]]:
    """(curl command, expected status) of every sh block; 200 where no comment says."""
    out = []
    for kind, body in BLOCK.findall(path.read_text()):
        if kind != "sh":
            continue
        current: list[str] = []
        for line in [*body.splitlines(), "curl-end"]:
            if line.startswith("curl") and current:
                text = "\n".join(current)
                match = EXPECT.search(text)
                out.append(
                    (EXPECT.sub("", text) if match else text, int(match[1]) if match else 200)
                )
                current = []
            if line.startswith("curl") and line != "curl-end":
                current = [line]
            elif (
                current
                and line.strip()
                and not line.startswith(("plansentry", "pip", "cmake", "build/"))
            ):
                current.append(line)
    return out


DOCS = [(p, c, s) for p in ("docs/SERVE.md", "README.md") for c, s in _commands(ROOT / p)]


class Classical:
    """The model's stand-in: answers the classical planner's plan for the context it is asked."""

    def __init__(self, kit) -> None:
        self.fallback = kit.fallbacks[0]

    def __call__(self, ctx, stop) -> bytes:
        return encode_plan(self.fallback.plan(ctx).plan)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    kit = warehouse_kit()
    folder = tmp_path_factory.mktemp("docs")
    service = Service(
        ServeConfig(audit_log=str(folder / "audit.jsonl")), kit=kit, planner=Classical(kit)
    )
    with running(service) as url:
        yield url


def test_the_docs_show_requests() -> None:
    """The parser finds the documented requests (a test that finds none proves nothing)."""
    statuses = sorted({s for _, _, s in DOCS})
    assert len(DOCS) >= 15 and statuses == [200, 201, 400, 404, 415, 422]


@pytest.mark.parametrize(
    ("doc", "command", "status"), DOCS, ids=[f"{d}:{i}" for i, (d, _, _) in enumerate(DOCS)]
)
def test_a_documented_request_gets_its_documented_status(base, tmp_path, doc, command, status):
    """The command as documented, with $PLANSENTRY the running service."""
    require_tools("curl")
    command = command.replace("http://127.0.0.1:8089", "$PLANSENTRY")
    out = tmp_path / "body"
    run = subprocess.run(
        ["bash", "-c", f"{command} -o {out} -w '%{{http_code}}'"],
        capture_output=True, text=True, timeout=30, env={"PLANSENTRY": base, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) == status, out.read_text()


def test_the_documented_python_example_runs(base, capsys) -> None:
    """The openai SDK example, unchanged but for the address: it prints the decision's source."""
    (code,) = [b for k, b in BLOCK.findall((ROOT / "docs/SERVE.md").read_text()) if k == "python"]
    exec(compile(code.replace("http://127.0.0.1:8089", base), "SERVE.md", "exec"), {})
    assert capsys.readouterr().out.startswith("llm None ")
