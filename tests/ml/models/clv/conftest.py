"""Shared CDNOW fixtures for the CLV tests (the real data in ../shared/datasets/cdnow, read in place)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

CDNOW = Path(__file__).resolve().parents[4] / ".." / "shared" / "datasets" / "cdnow"
CALIBRATION_END = pd.Timestamp("1997-09-30")
HOLDOUT_END = pd.Timestamp("1998-06-30")


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"CDNOW data not available at {path}")
    return path


@pytest.fixture(scope="session")
def cdnow_dir() -> Path:
    return _require(CDNOW)


@pytest.fixture(scope="session")
def cdnow_sample(cdnow_dir: Path) -> pd.DataFrame:
    """The 1/10 CDNOW sample as a transaction log: customer_id (the sample's 4-digit id), date, amount, cds."""
    raw = pd.read_csv(
        _require(cdnow_dir / "CDNOW_sample.txt"),
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"master_id": str, "customer_id": str, "date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["amount"].astype(float),
            "cds": raw["cds"],
        }
    )


@pytest.fixture(scope="session")
def cdnow_sample_csv(cdnow_sample: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample written as a contract CSV (dates as YYYYMMDD, plus an extra column that must be ignored)."""
    path = tmp_path_factory.mktemp("cdnow") / "transactions.csv"
    out = cdnow_sample.assign(date=cdnow_sample["date"].dt.strftime("%Y%m%d"))
    out[["customer_id", "date", "amount", "cds"]].to_csv(path, index=False)
    return path
