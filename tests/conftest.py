"""Shared fixtures: every test that writes state gets its own PMI_HOME."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("MLFLOW_ENABLE_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

# Fixtures that build a whole warehouse or pipeline once per session: under `pytest -n N --dist loadgroup` (what
# `make test` runs) every module that uses one runs on the same worker, so each is still built once.
SHARED_BUILDS = ("pipeline_run", "small_warehouse", "ltv_home", "cdnow_sample")
# Tests that share a real external service's databases and queues run on one worker, one after another.
SERVICE_GROUP_DIRS = ("production",)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Give each module one xdist group: the first shared build it uses, else its own path, so that module- and
    session-scoped fixtures are never built twice and the read-only users of a build still precede its movers.

    First among the hooks: xdist's worker reads the groups in its own hook of this name (registered after this
    conftest, so called before it otherwise), and a group added after that is ignored: every test was then its own
    unit, a module's tests ran on both workers and a test that relies on an earlier one in its module could run
    before it, on the other worker.
    """
    modules: dict[Path, list] = defaultdict(list)
    for item in items:
        modules[Path(str(item.fspath))].append(item)
    for path, module_items in modules.items():
        used = {name for item in module_items for name in item.fixturenames}
        group = next((name for name in SHARED_BUILDS if name in used), None)
        if group is None:
            group = next((d for d in SERVICE_GROUP_DIRS if d in path.parts), str(path))
        for item in module_items:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def pmi_home(tmp_path, monkeypatch):
    """A fresh data directory exported as PMI_HOME for the duration of one test."""
    home = tmp_path / "pmi_home"
    home.mkdir()
    monkeypatch.setenv("PMI_HOME", str(home))
    return home


def build_warehouse(home, **simulation):
    """Simulate into ``home`` and run `dbt build` in-process; returns the PmiPaths of the built warehouse."""
    import datetime as dt

    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    from ml.settings import pmi_paths
    from ml.simulation import SimulationConfig
    from ml.simulation.backfill import run_backfill
    from orchestration.warehouse.project import invoke_dbt

    paths = pmi_paths(home).ensure()
    settings = {"n_campaigns": 5, "days": 45, "seed": 3, "end_date": dt.date(2026, 10, 1)} | simulation
    run_backfill(SimulationConfig(**settings), paths)
    result = invoke_dbt(paths, "build", paths.home / "target")
    DuckDBConnectionManager.close_all_connections()
    assert result.success, result.exception
    return paths


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory):
    """A small simulated portfolio (6 campaigns x 120 days) built through dbt, shared read-only by tests."""
    return build_warehouse(tmp_path_factory.mktemp("small_warehouse"), n_campaigns=6, days=120)


MODEL_TABLES = {
    "features": "marts.fct_campaign_day_features",
    "truth": "truth.campaign_truth",
    "holidays": "reference.marketing_holidays",
}


@pytest.fixture(scope="session")
def model_frames(small_warehouse):
    """Frames the campaign-level models train on: ``features``, ``truth`` (evaluation only) and ``holidays``."""
    import duckdb

    with duckdb.connect(str(small_warehouse.warehouse), read_only=True) as con:
        return {name: con.sql(f"SELECT * FROM {table}").df() for name, table in MODEL_TABLES.items()}


@pytest.fixture
def small_warehouse_copy(small_warehouse, tmp_path, monkeypatch):
    """A private, writable copy of the session's small warehouse (dbt-built, in step), exported as PMI_HOME."""
    from ml.settings import pmi_paths

    paths = pmi_paths(tmp_path / "home").ensure()
    shutil.copy(small_warehouse.warehouse, paths.warehouse)
    monkeypatch.setenv("PMI_HOME", str(paths.home))
    return paths


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory):
    """One `full_pipeline` run through Dagster (6 campaigns x 120 days), shared by every test that needs the whole
    graph: read-only tests (dashboard, gates) run before tests/orchestration, whose hourly and drift tests move it on.
    """
    from ml.cli.pipeline import run_full_pipeline
    from ml.settings import pmi_paths

    paths = pmi_paths(tmp_path_factory.mktemp("pipeline_home")).ensure()
    result = run_full_pipeline(paths, campaigns=6, days=120, seed=3, end_date="2026-10-01")
    return paths, result


# Headless Chromium: open a dashboard page as a person would and report what its charts and sections hold.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1400,6000",
]

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
