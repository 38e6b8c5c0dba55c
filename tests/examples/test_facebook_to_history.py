"""`examples/facebook_ads/to_history.py` as a newcomer meets it: a clone without ../shared gets one actionable line,
and its `--ingest-dir` drop folder loads through the real `pmi ingest` with totals equal to the history's."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "facebook_ads" / "to_history.py"
SOURCE = ROOT.parent / "shared" / "datasets" / "facebook_ads" / "KAG_conversion_data.csv"
PMI = Path(sys.executable).parent / "pmi"


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=os.environ | env, timeout=300)


def test_clone_without_shared_data_gets_one_line_and_exit_2(tmp_path):
    """The script copied into a clone with nothing beside it: the default path is resolved from the clone's root."""
    clone = tmp_path / "clone"
    (clone / "examples" / "facebook_ads").mkdir(parents=True)
    shutil.copy(SCRIPT, clone / "examples" / "facebook_ads" / "to_history.py")
    out = tmp_path / "history.csv"
    result = run([sys.executable, "examples/facebook_ads/to_history.py", "--out", str(out)], cwd=clone)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(
        "to_history.py: ../shared/datasets/facebook_ads/KAG_conversion_data.csv not found; pass --export PATH"
    )
    assert "Sales Conversion Optimization" in result.stderr
    assert not out.exists()


def test_missing_export_option_names_the_given_path(tmp_path):
    missing = tmp_path / "nope.csv"
    result = run([sys.executable, str(SCRIPT), "--export", str(missing), "--ingest-dir", str(tmp_path / "fb")], ROOT)
    assert result.returncode == 2
    assert result.stderr == f"to_history.py: {missing} not found; pass --export PATH to the Kaggle " + (
        '"Sales Conversion Optimization" CSV (KAG_conversion_data.csv)\n'
    )
    assert not (tmp_path / "fb").exists()


def cents_total(rows: list[dict[str, str]], column: str) -> Decimal:
    return sum((Decimal(r[column]) for r in rows), Decimal("0")).quantize(Decimal("0.01"))


@pytest.mark.skipif(not SOURCE.is_file(), reason="shared Facebook dataset not available")
def test_ingest_dir_loads_with_pmi_ingest_and_reconciles_to_the_cent(tmp_path):
    history, folder, home = tmp_path / "history.csv", tmp_path / "fb", tmp_path / "home"
    made = run([sys.executable, str(SCRIPT), "--out", str(history), "--ingest-dir", str(folder)], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["campaigns.csv", "daily.csv", "mapping.yaml"]

    loaded = run(
        [str(PMI), "ingest", "--campaigns", str(folder / "campaigns.csv"), "--daily", str(folder / "daily.csv"),
         "--mapping", str(folder / "mapping.yaml")],
        cwd=tmp_path, PMI_HOME=str(home),
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert "more conversions than clicks" in loaded.stderr  # view-through days are warned, not refused

    with history.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    first_day = {}
    for r in rows:
        first_day[r["campaign_id"]] = min(first_day.get(r["campaign_id"], r["date"]), r["date"])
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        campaigns = con.execute(
            "SELECT campaign_id, network, strftime(launched_at, '%Y-%m-%d') FROM raw.campaigns ORDER BY 1"
        ).fetchall()
        totals = con.execute(
            "SELECT count(*), sum(spend), sum(impressions), sum(clicks), sum(conversions), sum(revenue) "
            "FROM raw.campaign_hourly"
        ).fetchone()
    assert campaigns == [(cid, "facebook", day) for cid, day in sorted(first_day.items())]
    assert len(campaigns) == 8
    assert totals == (
        625,
        cents_total(rows, "spend"),
        sum(int(r["impressions"]) for r in rows),
        sum(int(r["clicks"]) for r in rows),
        sum(int(r["conversions"]) for r in rows),
        cents_total(rows, "revenue"),
    )
