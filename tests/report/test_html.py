"""The HTML report: self-contained, every chart drawn, no console error in headless Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from plansentry.report.html import ReportError, kind_of, render
from plansentry.sim import SimConfig, simulate
from plansentry.sim.report import simulation_report
from warehouse_fixtures import PROFILES

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def sim_doc() -> dict:
    cfg = SimConfig(profile=PROFILES["chaos"], cycles=3_000, seed=1, sweep_budgets_ms=(50.0, 300.0))
    return simulation_report(simulate(cfg))


def test_report_is_self_contained_and_stable(sim_doc) -> None:
    page = render(sim_doc)
    assert page.startswith("<!DOCTYPE html>")
    for needle in ("<script", "http://", "https://", "src="):
        if needle == "http://":
            # SVG and XML namespaces are identifiers, not fetches
            rest = page.replace("http://www.w3.org/", "").replace("http://purl.org/", "")
            rest = rest.replace("http://creativecommons.org/", "")
            assert "http://" not in rest
            continue
        assert needle not in page, needle
    assert page.count('class="chart"') == 4  # impact, latency, states, budget
    assert render(sim_doc) == page  # the same document, the same bytes


def test_every_failure_mode_row_is_coloured_by_its_bucket(sim_doc) -> None:
    page = render(sim_doc)
    for row in sim_doc["fmli"]:
        assert f'<tr class="bucket-{row["bucket"]}"><td>{row["failure_mode"]}</td>' in page


def test_documents_that_are_not_runs_are_refused() -> None:
    with pytest.raises(ReportError, match="not a plansentry"):
        kind_of({"hello": 1})
    with pytest.raises(ReportError, match="JSON object"):
        kind_of([1, 2])


def test_report_renders_in_headless_chromium(sim_doc, tmp_path) -> None:
    """Every chart has a drawn, non-blank SVG on the screenshot; the page logs no error."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: scripts/test.sh installs it"
    from PIL import Image, ImageStat
    from playwright.sync_api import sync_playwright

    page_path = tmp_path / "report.html"
    page_path.write_text(render(sim_doc), encoding="utf-8")
    shot = tmp_path / "report.png"
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on(
                "console",
                lambda m: (
                    problems.append(f"{m.type}: {m.text}")
                    if m.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            charts = page.locator("figure.chart")
            boxes = {}
            for i in range(charts.count()):
                chart = charts.nth(i)
                svg = chart.locator("svg")
                assert svg.count() == 1
                assert svg.locator("path").count() > 20, chart.get_attribute("id")
                boxes[chart.get_attribute("id")] = svg.bounding_box()
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert set(boxes) == {"chart-impact", "chart-latency", "chart-states", "chart-budget"}
    image = Image.open(shot).convert("L")
    for name, box in boxes.items():
        assert box and box["width"] > 300 and box["height"] > 100, (name, box)
        crop = image.crop((box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"]))
        assert ImageStat.Stat(crop).stddev[0] > 10, f"{name} looks blank"  # something was drawn
    assert problems == []


def test_report_command_writes_the_file(sim_doc, tmp_path) -> None:
    from plansentry.cli import main

    src = tmp_path / "run.json"
    src.write_text(json.dumps(sim_doc), encoding="utf-8")
    out = tmp_path / "r.html"
    assert main(["report", str(src), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count('class="chart"') == 4
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    assert main(["report", str(bad), "--out", str(out)]) == 2
