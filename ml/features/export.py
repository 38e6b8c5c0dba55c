"""Export the feature marts to the Parquet files Feast reads, each with the timestamp its values became known.

Memory budget: each export is one DuckDB ``COPY ... TO`` that streams the mart to Parquet inside DuckDB (bounded by
DuckDB's memory limit, spilling to disk beyond it); no table passes through pandas, whatever the number of users.
"""

from __future__ import annotations

from pathlib import Path

from ml.io.atomic import atomic_target
from ml.io.sql_text import sql_literal
from ml.settings import PmiPaths
from ml.warehouse.connection import connect

# file name -> SQL over the marts; every query yields its entity key(s) and feature_ts.
FEATURE_EXPORTS: dict[str, str] = {
    "user_features": """
        SELECT *, least(install_ts + INTERVAL 7 DAY, as_of_ts) AS feature_ts FROM marts.fct_user_features
    """,
    "campaign_day_features": "SELECT *, date::TIMESTAMP AS feature_ts FROM marts.fct_campaign_day_features",
    "market_day_features": """
        SELECT network || ':' || geo AS market_id, date::TIMESTAMP AS feature_ts, * FROM marts.fct_market_day_features
    """,
}
# Money is DECIMAL and sums of counts are HUGEINT in the warehouse; Feast serves them as Float64.
_WIDE_NUMERIC = ("DECIMAL", "HUGEINT")


def _as_feast_types(con, sql: str) -> str:
    """Wrap a query so DECIMAL and HUGEINT columns come out as DOUBLE."""
    columns = con.execute(f"DESCRIBE ({sql})").fetchall()
    select = ", ".join(
        f"CAST({name} AS DOUBLE) AS {name}" if dtype.startswith(_WIDE_NUMERIC) else name for name, dtype, *_ in columns
    )
    return f"SELECT {select} FROM ({sql})"


def feature_data_dir(paths: PmiPaths) -> Path:
    return paths.feast_dir / "data"


def _export_is_current(con, final: Path, mart: str) -> bool:
    """True when the Parquet file already holds the mart as built: same as-of and the same number of rows."""
    if not final.exists():
        return False
    exported = con.execute("SELECT max(as_of_ts), count(*) FROM read_parquet(?)", [str(final)]).fetchone()
    return exported == con.execute(f"SELECT max(as_of_ts), count(*) FROM {mart}").fetchone()


def export_feature_tables(paths: PmiPaths, keep_current_user_export: bool = False) -> dict[str, int]:
    """Write each feature table to Parquet atomically (temp file, then rename) and return row counts.

    ``keep_current_user_export`` (the hourly job, which rebuilds the user-level marts once per data day) leaves
    ``user_features.parquet`` as it is when it already holds the mart's build; rewriting 10M users each hour took
    most of this step at 2,000 campaigns.
    """
    target = feature_data_dir(paths)
    target.mkdir(parents=True, exist_ok=True)
    counts = {}
    con = connect(paths.warehouse, read_only=True)
    try:
        for name, sql in FEATURE_EXPORTS.items():
            final = target / f"{name}.parquet"
            if name == "user_features" and keep_current_user_export:
                if _export_is_current(con, final, "marts.fct_user_features"):
                    counts[name] = con.execute("SELECT count(*) FROM read_parquet(?)", [str(final)]).fetchone()[0]
                    continue
            with atomic_target(final) as partial:
                con.execute(f"COPY ({_as_feast_types(con, sql)}) TO {sql_literal(partial)} (FORMAT PARQUET)")
            counts[name] = con.execute("SELECT count(*) FROM read_parquet(?)", [str(final)]).fetchone()[0]
    finally:
        con.close()
    return counts
