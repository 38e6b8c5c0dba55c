"""A small simulated warehouse (6 campaigns x 120 days through dbt) and one LTV model trained on it, per session."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ml.settings import pmi_paths
from orchestration.warehouse.project import invoke_dbt

REPO = Path(__file__).resolve().parents[4]
SMALL = {"n_campaigns": 6, "days": 120, "seed": 3, "end_date": dt.date(2026, 10, 1)}
TABLES = {
    "features": "marts.fct_user_features",
    "campaign_truth": "truth.campaign_truth",
    "user_truth": "truth.user_value",
}


def run_dbt(home: Path, select: str = "+fct_user_features") -> None:
    """Build the user marts in ``home`` from raw with dbt in-process (PMI_HOME restored afterwards).

    `--full-refresh`: tests rebuild over a copied warehouse after changing old raw rows, which an incremental build
    (dbt_project/macros/incremental.sql) would not revisit.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    result = invoke_dbt(
        pmi_paths(home),
        "build",
        home / "target",
        "--full-refresh",
        "--log-path",
        str(home / "logs"),
        "--select",
        select,
        "--exclude-resource-type",
        "test",
    )
    DuckDBConnectionManager.close_all_connections()
    if not result.success:
        raise RuntimeError(f"dbt build failed: {result.exception}")


def read_tables(home: Path) -> dict[str, pd.DataFrame]:
    """The marts and truth tables the LTV tests read."""
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        return {name: con.sql(f"select * from {table}").df() for name, table in TABLES.items()}


@pytest.fixture(scope="session")
def ltv_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of the small simulated warehouse, built once per session."""
    from ml.settings import PmiPaths
    from ml.simulation import SimulationConfig
    from ml.simulation.backfill import run_backfill

    home = tmp_path_factory.getbasetemp() / "pmi_ltv_small"
    if not (home / "warehouse.duckdb").exists():
        run_backfill(SimulationConfig(**SMALL), PmiPaths(home=home).ensure())
        run_dbt(home)
    return home


@pytest.fixture(scope="session")
def ltv_frames(ltv_home: Path) -> dict[str, pd.DataFrame]:
    """``features`` (marts.fct_user_features), ``campaign_truth`` and ``user_truth`` (evaluation only)."""
    return read_tables(ltv_home)


@pytest.fixture(scope="session")
def trained_ltv(ltv_frames: dict[str, pd.DataFrame]):
    """The LTV ensemble trained by ``train_ltv`` on the small warehouse."""
    from ml.models.training.ltv import train_ltv

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return train_ltv(ltv_frames["features"], seed=1)
