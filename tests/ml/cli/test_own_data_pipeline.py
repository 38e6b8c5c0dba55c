"""A user's own data end to end, as a newcomer runs it: `pmi ingest` -> `pmi run --source warehouse` -> an applied
allocation and a dashboard, then `pmi train`, `pmi status`, `pmi dashboard` and `pmi loop` on the same home.

Two real files: the Facebook ads export as 8 age x gender campaigns with daily rows and reported revenue, and the
retailer's weekly media file, whose channels have spend but no conversions (so no per-channel curve can be fitted
and the run must say so in words instead of failing).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared" / "datasets"
FACEBOOK = SHARED / "facebook_ads" / "KAG_conversion_data.csv"
RETAIL = SHARED / "retail_mmm" / "weekly_sales_media.csv"
PMI = [sys.executable, "-m", "ml.cli.main"]
ALLOCATION_SECTIONS = (
    "portfolio",
    "users",
    "opportunities",
    "scenarios",
    "response-curves",
    "before-after",
    "profit-distribution",
    "risk",
)


def pmi(*args: str, home: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PMI_HOME"}
    return subprocess.run(
        [*PMI, *args, "--home", str(home)], cwd=ROOT, capture_output=True, text=True, env=env, timeout=timeout
    )


def query(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def section_html(page: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}" class="pmi-section">(.*?)</section>', page, re.S)
    assert match, f"section {section_id} missing"
    return match.group(1)


@pytest.fixture(scope="module")
def facebook_home(tmp_path_factory) -> Path:
    """The Facebook export as a drop folder (examples/facebook_ads/to_history.py), ingested into a fresh home."""
    if not FACEBOOK.is_file():
        pytest.skip(f"{FACEBOOK} not available")
    work = tmp_path_factory.mktemp("facebook")
    folder, home = work / "drop", work / "home"
    made = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples/facebook_ads/to_history.py"),
            "--out",
            str(work / "history.csv"),
            "--ingest-dir",
            str(folder),
        ],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    ingested = pmi(
        "ingest",
        "--campaigns",
        str(folder / "campaigns.csv"),
        "--daily",
        str(folder / "daily.csv"),
        "--mapping",
        str(folder / "mapping.yaml"),
        home=home,
    )
    assert ingested.returncode == 0, ingested.stderr
    return home


@pytest.fixture(scope="module")
def facebook_run(facebook_home) -> subprocess.CompletedProcess[str]:
    return pmi("run", "--source", "warehouse", home=facebook_home)


def test_facebook_run_allocates_every_campaign_without_simulating(facebook_home, facebook_run):
    assert facebook_run.returncode == 0, facebook_run.stdout[-3000:] + facebook_run.stderr[-3000:]
    campaigns = {r[0] for r in query(facebook_home, "SELECT campaign_id FROM raw.campaigns")}
    assert len(campaigns) == 8 and all(c.startswith("1178_") for c in campaigns)
    schemas = {r[0] for r in query(facebook_home, "SELECT DISTINCT schema_name FROM duckdb_tables()")}
    assert not {"sim", "truth"} & schemas  # nothing simulated anywhere
    assert query(facebook_home, "SELECT count(*) FROM raw.users")[0][0] == 0
    # every budget in raw came from the allocation this run applied
    sources = {r[0] for r in query(facebook_home, "SELECT DISTINCT source FROM raw.budgets")}
    runs = {r[0] for r in query(facebook_home, "SELECT run_id FROM audit.allocation_runs")}
    assert sources <= runs and len(runs) == 1
    recommended = query(facebook_home, "SELECT campaign_id, recommended_budget FROM predictions.allocation_predictions")
    assert {r[0] for r in recommended} == campaigns and all(r[1] > 0 for r in recommended)
    # value per conversion is the reported revenue per conversion (no user-level data)
    values = query(facebook_home, "SELECT DISTINCT confidence FROM predictions.campaign_ltv")
    assert values == [("reported revenue per conversion",)]


def test_facebook_summary_says_what_the_data_could_not_support(facebook_run):
    out = " ".join(facebook_run.stdout.split())
    assert "Portfolio by campaign over" in out and "revenue reported with the conversions" in out
    assert "Not run on this data: ltv: no user-level installs" in out
    assert "Recommendations of the applied allocation for 8 campaigns" in out
    assert " USD" in out


def test_facebook_dashboard_has_its_allocation_sections_filled(facebook_home, facebook_run, browser_check, tmp_path):
    page = facebook_home / "dashboard" / "index.html"
    report = browser_check(page, tmp_path)
    assert report["errors"] == []
    text = page.read_text(encoding="utf-8")
    for section in ALLOCATION_SECTIONS:
        body = section_html(text, section)
        assert "No allocation" not in body, section
        assert any(part in body for part in ("pmi-card", "plotly-graph-div", "pmi-table")), section
    charts = {c["id"]: c for c in report["charts"]}
    assert charts and all(c["rendered"] and c["traces"] and min(c["traces"]) >= 1 for c in charts.values()), charts
    assert "User LTV model" in section_html(text, "coverage")


def test_train_status_and_dashboard_work_on_the_ingested_home(facebook_home, facebook_run):
    trained = pmi("train", home=facebook_home)
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    status = pmi("status", home=facebook_home)
    assert status.returncode == 0, status.stderr
    assert "Last ingests" in status.stdout and "Current daily budgets" in status.stdout
    page = pmi("dashboard", home=facebook_home)
    assert page.returncode == 0 and "index.html" in page.stdout


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_loop_applies_one_hourly_cycle_through_csv_and_webhook(facebook_home, facebook_run):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/budgets"
        cycle = pmi("loop", "--cycles", "1", "--export-csv", "--webhook", url, home=facebook_home)
    finally:
        server.shutdown()
    assert cycle.returncode == 0, cycle.stdout[-2000:] + cycle.stderr[-2000:]
    [line] = [x for x in cycle.stdout.splitlines() if " cycle 1: run " in x]
    run_id = line.split(" cycle 1: run ")[1].split(":")[0]
    (adapter,) = query(facebook_home, f"SELECT adapter FROM audit.allocation_runs WHERE run_id = '{run_id}'")[0]
    assert adapter == "warehouse+csv+webhook"
    deliveries = dict(
        query(facebook_home, f"SELECT adapter, status FROM audit.budget_deliveries WHERE run_id = '{run_id}'")
    )
    assert deliveries["webhook"] == "delivered (HTTP 204)" and deliveries["csv"] == "written"
    exported = facebook_home / "exports" / f"budget_changes_{run_id}.csv"
    changed = query(facebook_home, f"SELECT count(*) FROM raw.budgets WHERE source = '{run_id}'")[0][0]
    assert exported.read_text().count("\n") == changed + 1
    [payload] = [p for p in _Receiver.received if p["run_id"] == run_id]
    assert len(payload["changes"]) == changed


def test_simulating_over_ingested_data_is_refused(facebook_home, facebook_run):
    before = (facebook_home / "warehouse.duckdb").read_bytes()
    refused = pmi("run", "--source", "simulator", home=facebook_home)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "loaded by `pmi ingest`; a simulation would replace them" in refused.stderr
    assert (facebook_home / "warehouse.duckdb").read_bytes() == before


def test_too_small_a_simulation_is_refused_up_front(tmp_path):
    refused = pmi("run", "--campaigns", "4", "--days", "30", home=tmp_path / "home")
    assert refused.returncode == 2
    assert refused.stderr == (
        "pmi run: --days 30: the simulator needs at least 60 days of history (28-day "
        "trailing features, 30-day LTV validation cohorts)\n"
    )


def test_retail_weekly_file_runs_to_the_end_and_says_why_there_is_no_allocation(tmp_path, browser_check):
    if not RETAIL.is_file():
        pytest.skip(f"{RETAIL} not available")
    home = tmp_path / "home"
    ingested = pmi(
        "ingest",
        "--campaigns",
        str(ROOT / "examples/retail_media/campaigns.csv"),
        "--daily",
        str(RETAIL),
        "--mapping",
        str(ROOT / "examples/retail_media/mapping.yaml"),
        home=home,
    )
    assert ingested.returncode == 0, ingested.stderr
    run = pmi("run", home=home)  # the default source picks the ingested warehouse
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = " ".join(run.stdout.split())
    assert "the warehouse as loaded: 10 campaigns" in out
    assert "Not run on this data: response_curves: no campaign reports conversions" in out
    assert "No allocation was applied on this data" in out
    page = home / "dashboard" / "index.html"
    report = browser_check(page, tmp_path)
    assert report["errors"] == []
    text = page.read_text(encoding="utf-8")
    assert "No allocation on this data: no response curve was fitted" in section_html(text, "portfolio")
    assert "no campaign reports conversions" in section_html(text, "coverage")
    assert query(home, "SELECT count(*) FROM raw.campaign_hourly")[0][0] == 2090


def test_facebook_ads_one_row_each_run_to_the_end_and_say_no_campaign_has_history(tmp_path):
    """The export through its shipped per-ad mapping: 1,143 campaigns of one daily row each (no curve possible)."""
    if not FACEBOOK.is_file():
        pytest.skip(f"{FACEBOOK} not available")
    home = tmp_path / "home"
    ingested = pmi(
        "ingest",
        "--campaigns",
        str(FACEBOOK),
        "--daily",
        str(FACEBOOK),
        "--mapping",
        str(ROOT / "examples/facebook_ads/mapping.yaml"),
        home=home,
    )
    assert ingested.returncode == 0, ingested.stderr
    run = pmi("run", "--source", "warehouse", home=home)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = " ".join(run.stdout.split())
    assert "TOTAL (1,143 campaigns)" in out and "the 1,123 smaller campaigns are in the total" in out
    assert "Not run on this data: response_curves: no campaign has 3 complete days with spend" in out
    assert query(home, "SELECT count(*) FROM raw.campaigns")[0][0] == 1143
    assert query(home, "SELECT sum(spend)::DOUBLE FROM raw.campaign_hourly")[0][0] == pytest.approx(58705.23, abs=1)
