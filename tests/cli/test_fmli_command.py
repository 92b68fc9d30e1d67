"""``plansentry fmli`` as a user runs it: the FMLI matrix of an audit log, readable at 80 columns,
as JSON that ``plansentry report`` renders, one-line errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import msgspec
import pytest
from rich.console import Console

from helpers import run_cli
from plansentry.cli.fmli import print_document
from plansentry.domains.warehouse.classical import ClassicalPlanner
from plansentry.domains.warehouse.examples import default_order
from plansentry.domains.warehouse.kit import warehouse_kit
from plansentry.domains.warehouse.map import default_map
from plansentry.domains.warehouse.schema import encode_plan
from plansentry.report.decisions import fmli_document, read_sections, tally_sections
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.telemetry.audit import AuditLog

S = 1_000_000_000


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    """A warehouse audit log with every kind of row: accepted, malformed, invalid, a timeout, an
    answer after the cut-off, a failed call."""
    kit = warehouse_kit()
    wh = default_map()
    ctx = kit.domain.context(default_order(wh), "R1", wh.pack_stations["PACK-1"])
    plan = ClassicalPlanner(kit.domain.router).plan(ctx).plan
    assert plan is not None
    good = encode_plan(plan)
    data = msgspec.json.decode(good)
    data["picks"] = [data["picks"][0], *data["picks"]][: len(data["picks"])]
    invalid = msgspec.json.encode(data)
    path = tmp_path_factory.mktemp("fmli") / "audit.jsonl"
    cfg = kit.config()
    answers = [
        (good, 10.0, ""),
        (b"{", 10.0, ""),
        (invalid, 10.0, ""),
        (None, None, ""),
        (good, 1500.0, ""),
        (None, 50.0, "connection refused"),
    ]
    with AuditLog(path, kit=kit, config=cfg, meta={"safe_action_s": 6.0}) as audit:
        rt = VirtualRuntime(kit.guard(config=cfg, hooks=[audit]))
        for i in range(40):
            output, latency_ms, error = answers[i % len(answers)]
            rt.decide(
                ctx,
                now_ns=(i + 1) * 100 * S,
                output=output,
                latency_ms=latency_ms,
                ask_ahead_ms=1000.0,
                transport_error=error,
            )
    return path


def test_tables_fit_in_80_columns(log: Path) -> None:
    """Rendered at width 80, no line is longer and no cell is cut short (no ellipsis)."""
    doc = fmli_document(tally_sections(read_sections(log)))
    buf = io.StringIO()
    print_document(Console(file=buf, width=80, highlight=False, color_system=None), doc)
    text = buf.getvalue()
    assert "Failure modes" in text and "Impact, unguarded / guarded" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text


def test_command_prints_the_matrix_and_the_money(log: Path) -> None:
    """The command states the unguarded model, both controllers and the pilot's claim in fleet
    size; the timeout nobody measured is named as not costed."""
    code, out, err = run_cli(["fmli", str(log)])
    assert (code, err) == (0, "plansentry fmli: 0 lines could not be read\n")
    assert "Unguarded (warehouse): the pilot's controller" in out
    assert "Same answers, unguarded and guarded" in out
    assert "implies a fleet of" in out
    assert "not costed:" in out and "timeout: nobody measured" in out


def test_json_is_a_document_the_report_renders(log: Path, tmp_path: Path) -> None:
    """--json is kind fmli; plansentry report turns it into a page with the matrix and charts."""
    code, out, _ = run_cli(["fmli", str(log), "--json"])
    assert code == 0
    doc = json.loads(out)
    assert doc["kind"] == "fmli"
    assert {"malformed", "invalid", "timeout", "transport"} <= {
        r["failure_mode"] for r in doc["fmli"]
    }
    src = tmp_path / "fmli.json"
    src.write_text(out)
    page = tmp_path / "fmli.html"
    code, out, err = run_cli(["report", str(src), "--out", str(page)])
    assert code == 0, err
    html = page.read_text()
    assert 'id="fmli"' in html and html.count('class="chart"') == 2


def test_two_logs_add_up(log: Path) -> None:
    """The same log given twice counts every decision twice."""
    code, out, _ = run_cli(["fmli", str(log), str(log), "--json"])
    assert code == 0
    assert json.loads(out)["guarded"]["decisions"] == 80


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--robots", "0"], "robots must be an integer >= 1"),
        (["--hold-s", "-1"], "--hold-s must be >= 0"),
    ],
    ids=["no-robots", "negative-hold"],
)
def test_bad_settings_are_one_line_errors(log: Path, args: list[str], needle: str) -> None:
    """A setting that cannot be used: exit 2, one line naming it."""
    code, _, err = run_cli(["fmli", str(log), *args])
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_file_that_is_no_log_is_a_one_line_error(tmp_path: Path) -> None:
    """Exit 2 and one line, never a traceback."""
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}\n')
    code, _, err = run_cli(["fmli", str(bad)])
    assert code == 2 and err.startswith("plansentry: error:") and len(err.splitlines()) == 1
