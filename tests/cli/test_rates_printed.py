"""Every command prints a rate through the one formatter (report/stats.percent): what simulate,
sweep, fit and the HTML report print is, character for character, that function of their own JSON
document's figures, so no command prints a rate of its own precision (0 %, 1 %, 0.000 %)."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from plansentry.cli import build_parser
from plansentry.report.stats import percent, percent_range

WIDE = 400  # columns, so that no table cell wraps


def run(argv: list[str]) -> tuple[int, str]:
    args = build_parser().parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = args.func(args, out)
    assert code == 0, err.getvalue()
    return code, out.getvalue()


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(WIDE))


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, Path]:
    """simulate's pilot run: its document, its text, and its audit log."""
    tmp = tmp_path_factory.mktemp("pilot")
    args = ["simulate", "--profile", "pilot", "--cycles", "4000", "--seed", "1"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLUMNS", str(WIDE))
        _, text = run([*args, "--audit-log", str(tmp / "pilot.audit.jsonl")])
        _, doc = run([*args, "--json"])
    return json.loads(doc), text, tmp / "pilot.audit.jsonl"


def test_simulate_prints_each_rate_of_its_document_through_percent(pilot) -> None:
    doc, text, _ = pilot
    assert doc["fmli"], "the pilot run has failure modes"
    for row in doc["fmli"]:
        assert percent(row["rate"], row["rate_ci95"]) in text, row["failure_mode"]
    for name in ("unguarded", "guarded"):
        assert percent(doc[name]["halt_rate"], doc[name]["halt_rate_ci95"]) in text
    for rows in doc.get("residual", {}).values():
        for row in rows:
            assert percent(row["rate"], row["rate_ci95"]) in text
    assert not re.search(r"\b0\.0+ %", text), "a zero prints as 0 %"


def test_fit_prints_each_fitted_rate_through_percent(pilot, tmp_path: Path) -> None:
    _, _, log = pilot
    _, text = run(["fit", str(log), "-o", str(tmp_path / "fitted.yaml")])
    yaml_text = (tmp_path / "fitted.yaml").read_text()
    _, doc_text = run(["fit", str(log), "-o", str(tmp_path / "again.yaml"), "--json"])
    doc = json.loads(doc_text)
    for r in [*doc["rates"], doc["stall"]]:
        assert percent(r["rate"], r["ci95"]) in text, r["kind"]
        assert percent_range(r["simultaneous_ci95"], r["rate"]) in text
        assert f"= {percent(r['rate'])} ({percent_range(r['ci95'], r['rate'])}; " in yaml_text


def test_sweep_prints_its_halt_rates_through_percent() -> None:
    argv = ["sweep", "--profiles", "pilot", "--budgets", "150", "--robots", "2"]
    argv += ["--cycles", "1500", "--seed", "3"]
    _, text = run(argv)
    _, doc_text = run([*argv, "--json"])
    for row in json.loads(doc_text)["grid"]:
        g, u = row["guarded"], row["unguarded"]
        assert f"halt rate u {percent(u['halt_rate'], u['halt_rate_ci95'])}" in text
        assert f"g {percent(g['halt_rate'], g['halt_rate_ci95'])}" in text
