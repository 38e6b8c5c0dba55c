"""The committed example mappings load the shared real-world files, and the raw totals equal the files' to the cent."""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from ingest_helpers import ingest_args, run_pmi

ROOT = Path(__file__).resolve().parents[3]
DATASETS = ROOT.parent / "shared" / "datasets"
FACEBOOK = DATASETS / "facebook_ads" / "KAG_conversion_data.csv"
RETAIL = DATASETS / "retail_mmm" / "weekly_sales_media.csv"
CENT = Decimal("0.01")


def cents(text: str) -> Decimal:
    """A money cell as the warehouse stores it: rounded half away from zero to cents."""
    return Decimal(text).quantize(CENT, rounding=ROUND_HALF_UP)


def raw_totals(home: Path) -> tuple:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT count(*), sum(spend), sum(impressions), sum(conversions), sum(revenue) FROM raw.campaign_hourly"
        ).fetchall()[0]


@pytest.mark.skipif(not FACEBOOK.exists(), reason="shared Facebook dataset not present")
def test_facebook_export_loads_and_reconciles_to_the_cent(tmp_path, capsys):
    args = ingest_args(
        {"--campaigns": FACEBOOK, "--daily": FACEBOOK},
        tmp_path,
        "--mapping",
        str(ROOT / "examples" / "facebook_ads" / "mapping.yaml"),
    )
    code, out, err = run_pmi(capsys, args)
    assert code == 0, err
    assert "218 row(s) with more conversions than clicks" in err
    with FACEBOOK.open(newline="") as fh:
        ads = list(csv.DictReader(fh))
    expected = (
        len(ads),
        sum(cents(a["Spent"]) for a in ads),
        sum(int(a["Impressions"]) for a in ads),
        sum(int(a["Total_Conversion"]) for a in ads),
        Decimal("0.00"),
    )
    assert raw_totals(tmp_path) == expected
    assert expected[3] == 3264  # the dataset README's total


@pytest.mark.skipif(not RETAIL.exists(), reason="shared retail dataset not present")
def test_retail_weekly_media_loads_as_daily_rows_and_reconciles_to_the_cent(tmp_path, capsys):
    example = ROOT / "examples" / "retail_media"
    args = ingest_args(
        {"--campaigns": example / "campaigns.csv", "--daily": RETAIL},
        tmp_path,
        "--mapping",
        str(example / "mapping.yaml"),
    )
    code, out, err = run_pmi(capsys, args)
    assert code == 0, err
    with RETAIL.open(newline="") as fh:
        weeks = list(csv.DictReader(fh))
    channels = [c[len("mdsp_") :] for c in weeks[0] if c.startswith("mdsp_")]
    expected = (
        len(weeks) * len(channels),
        sum(cents(w[f"mdsp_{c}"]) for w in weeks for c in channels),
        sum(int(w[f"mdip_{c}"]) for w in weeks for c in channels),
        0,
        Decimal("0.00"),
    )
    assert raw_totals(tmp_path) == expected
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        first = con.execute("SELECT min(hour_ts)::VARCHAR, count(DISTINCT campaign_id) FROM raw.campaign_hourly")
        assert first.fetchall() == [("2014-08-03 00:00:00", len(channels))]
