"""The dashboard a pipeline run produced, opened in headless Chromium: no script error, every chart has data,
every section is there; a screenshot is kept as the test artefact."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from ml.reporting.dashboard import dashboard_path
from ml.reporting.dashboard.page import SECTION_BUILDERS

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
SECTIONS = [
    "coverage",
    "portfolio",
    "users",
    "opportunities",
    "forecast",
    "scenarios",
    "response-curves",
    "before-after",
    "profit-distribution",
    "risk",
    "accuracy",
    "segments",
]


def test_pipeline_dashboard_renders_every_chart_with_data(dashboard_pipeline, browser_check, tmp_path):
    paths, result = dashboard_pipeline
    page = dashboard_path(paths)
    assert page.exists()
    screenshot = ARTIFACTS / "dashboard.png"
    report = browser_check(page, tmp_path, screenshot)
    print(f"dashboard screenshot: {screenshot}")
    assert report["errors"] == []
    assert report["plotly"]  # plotly.js is inlined: the page needs no network
    assert report["sections"] == SECTIONS and len(SECTION_BUILDERS) == len(SECTIONS)
    assert len(report["charts"]) >= 5
    for chart in report["charts"]:
        assert chart["rendered"], chart["id"]
        assert chart["traces"] and min(chart["traces"]) >= 1, chart
    assert screenshot.stat().st_size > 10_000


def test_dashboard_asset_reports_the_page(dashboard_pipeline):
    paths, result = dashboard_pipeline
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "executive_dashboard"
    ]
    metadata = event.materialization.metadata
    assert metadata["path"].value == str(dashboard_path(paths))
    assert metadata["sections"].value == len(SECTIONS)
    assert metadata["bytes"].value == dashboard_path(paths).stat().st_size


def test_the_checker_catches_a_script_error_and_an_empty_chart(browser_check, tmp_path):
    """The browser check has teeth: a failing script and a chart without points are both reported."""
    empty = go.Figure(go.Scatter(x=[], y=[])).to_html(full_html=False, include_plotlyjs=False, div_id="chart-empty")
    page = tmp_path / "broken.html"
    page.write_text(
        f"<html><head><script>{get_plotlyjs()}</script></head><body>"
        f'<section id="only" class="pmi-section">{empty}</section>'
        "<script>undefinedFunction();</script></body></html>",
        encoding="utf-8",
    )
    report = browser_check(page, tmp_path)
    assert any("undefinedFunction" in e for e in report["errors"])
    assert report["charts"] == [{"id": "chart-empty", "rendered": True, "traces": [0]}]
    assert report["sections"] == ["only"]
