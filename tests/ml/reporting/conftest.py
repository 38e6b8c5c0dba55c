"""Fixtures for the dashboard tests: one small full pipeline run, and a headless-Chromium page checker."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ml.settings import PmiPaths

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--hide-scrollbars", "--window-size=1400,6000"]

# Recorded before any other script runs, so an error in plotly.js or a figure is caught too.
ERROR_RECORDER = """<script>window.__pmiErrors = [];
window.addEventListener('error', e => window.__pmiErrors.push(String(e.message)));
window.addEventListener('unhandledrejection', e => window.__pmiErrors.push('promise: ' + String(e.reason)));
</script>"""

# After load: per chart div, the number of traces and of data points per trace; the section ids; the errors.
REPORTER = """<script>window.addEventListener('load', () => setTimeout(() => {
  const points = t => Math.max(...['x', 'y', 'values', 'z'].map(k => (t[k] && t[k].length) || 0));
  // _fullData holds the decoded arrays (the figure JSON ships numbers as base64 typed arrays)
  const charts = Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => ({
    id: d.id, rendered: !!d._fullLayout, traces: (d._fullData || d.data || []).map(points)}));
  const sections = Array.from(document.querySelectorAll('section.pmi-section')).map(s => s.id);
  const out = document.createElement('pre');
  out.id = 'pmi-check';
  out.textContent = JSON.stringify({errors: window.__pmiErrors, charts, sections,
                                    plotly: typeof Plotly === 'undefined' ? null : Plotly.version});
  document.body.appendChild(out);
}, 500));</script>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is not installed: `make browser` (apt-get install -y chromium) installs it")
    return found


def instrument(page: Path, target: Path) -> Path:
    """A copy of the page with the error recorder first in <head> and the reporter last in <body>."""
    text = page.read_text(encoding="utf-8")
    text = text.replace("<head>", "<head>" + ERROR_RECORDER, 1).replace("</body>", REPORTER + "</body>", 1)
    target.write_text(text, encoding="utf-8")
    return target


def check_in_browser(page: Path, workdir: Path, screenshot: Path | None = None) -> dict:
    """Open the page in headless Chromium; return what the in-page reporter saw (and save a screenshot)."""
    browser = chromium()
    probe = instrument(page, workdir / "instrumented.html")
    base = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={workdir / 'chromium-profile'}", "--virtual-time-budget=15000"]
    dom = subprocess.run([*base, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=180)
    match = re.search(r'<pre id="pmi-check">(.*?)</pre>', dom.stdout, re.S)
    assert match, f"the in-page reporter did not run; chromium stderr:\n{dom.stderr[-2000:]}"
    report = json.loads(match.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([*base, f"--screenshot={screenshot}", page.as_uri()], capture_output=True, timeout=180)
    return report


@pytest.fixture(scope="session")
def browser_check() -> Callable[..., dict]:
    return check_in_browser


@pytest.fixture(scope="session")
def dashboard_pipeline(pipeline_run) -> tuple[PmiPaths, object]:
    """The shared full pipeline run (tests/conftest.py); its dashboard asset wrote the page."""
    paths, result = pipeline_run
    assert result.success
    return paths, result
