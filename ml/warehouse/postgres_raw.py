"""Copy the warehouse's raw tables (the data contract) from DuckDB into PostgreSQL, for dbt's `postgres` target.

The simulator and `pmi ingest` write `raw` into the DuckDB file; `dbt build --target postgres` reads `raw` in the
PostgreSQL database ``PMI_PG_WAREHOUSE_DB``. A load replaces the six tables in ONE transaction (TRUNCATE, then
COPY), so a reader sees the previous load or the new one, never a mix, and a failed load changes nothing; re-running
it gives the same tables. The tables are emptied in place rather than swapped in from a staging schema because dbt's
staging views depend on them (PostgreSQL binds a view to a table's identity: a swapped-in table would leave the views
on the old one). Memory stays bounded: DuckDB hands over Arrow record batches of ``batch_rows`` rows, each written as
CSV into PostgreSQL's ``COPY ... FROM STDIN`` before the next is read. DuckDB's postgres extension is not used: it is
not installed here and nothing may be downloaded at run time.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.csv as pa_csv

from ml.settings import ProductionSettings
from ml.warehouse.connection import connect as connect_duckdb
from ml.warehouse.raw_schema import RAW_SCHEMA, RAW_TABLES

DEFAULT_BATCH_ROWS = 200_000

# DuckDB contract types -> PostgreSQL types, with the type name information_schema reports for each.
PG_TYPES = {
    "VARCHAR": ("varchar", "character varying"),
    "BOOLEAN": ("boolean", "boolean"),
    "BIGINT": ("bigint", "bigint"),
    "DOUBLE": ("double precision", "double precision"),
    "DATE": ("date", "date"),
    "TIMESTAMP": ("timestamp", "timestamp without time zone"),
    "DECIMAL(18,2)": ("numeric(18,2)", "numeric"),
}


class RawLoadError(RuntimeError):
    """A load that cannot be done as asked; nothing was changed in PostgreSQL."""


def pg_connect(settings: ProductionSettings, database: str):
    """A psycopg2 connection to one database of the configured server (autocommit off: one transaction)."""
    import psycopg2

    return psycopg2.connect(
        host=settings.pg_host,
        port=settings.pg_port,
        user=settings.pg_user,
        password=settings.pg_password or None,
        dbname=database,
    )


def create_warehouse_database(settings: ProductionSettings, database: str | None = None) -> bool:
    """Create the warehouse database unless it exists; True when created.

    It is created with the byte-order ``C`` collation from ``template0``: DuckDB compares strings by their bytes, so
    any ORDER BY on text inside the models (e.g. the holiday names joined per date) gives the same result on both.
    """
    from psycopg2 import sql

    name = database or settings.warehouse_db
    con = pg_connect(settings, "postgres")
    con.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    try:
        cur = con.cursor()
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone():
            return False
        cur.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'").format(
                sql.Identifier(name)
            )
        )
        return True
    finally:
        con.close()


def create_table_sql(table: str) -> str:
    """PostgreSQL DDL of one raw table with the contract's primary key (duplicates are refused, as in DuckDB)."""
    columns, key = RAW_TABLES[table]
    cols = ",\n  ".join(f"{name} {PG_TYPES[dtype][0]}" for name, dtype in columns.items())
    return f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{table} (\n  {cols},\n  PRIMARY KEY ({', '.join(key)})\n)"


def _check_columns(cur, table: str) -> None:
    """Refuse a PostgreSQL table whose columns are not the contract's (an older layout): say which differ."""
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        [RAW_SCHEMA, table],
    )
    found = cur.fetchall()
    expected = [(name, PG_TYPES[dtype][1]) for name, dtype in RAW_TABLES[table][0].items()]
    if found != expected:
        raise RawLoadError(
            f"PostgreSQL table {RAW_SCHEMA}.{table} has columns {found}, the contract expects {expected}; "
            f"drop it (DROP SCHEMA {RAW_SCHEMA} CASCADE) and load again"
        )


def _copy_table(duck, cur, table: str, batch_rows: int) -> int:
    """Stream one DuckDB table into the (emptied) PostgreSQL table, one Arrow batch at a time; rows copied."""
    columns = list(RAW_TABLES[table][0])
    # A relation's reader streams (a DB-API result would first copy every row).
    reader = duck.sql(f"SELECT {', '.join(columns)} FROM {RAW_SCHEMA}.{table}").to_arrow_reader(batch_rows)
    copy = f"COPY {RAW_SCHEMA}.{table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
    # Strings are always quoted and NULL is an unquoted empty field, so PostgreSQL tells '' from NULL.
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    copied = 0
    for batch in reader:
        if batch.num_rows == 0:
            continue
        buffer = io.BytesIO()
        pa_csv.write_csv(batch, buffer, write_options=options)
        buffer.seek(0)
        cur.copy_expert(copy, buffer)
        copied += batch.num_rows
    return copied


def load_raw_into_postgres(
    warehouse: Path,
    settings: ProductionSettings,
    database: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> dict[str, int]:
    """Replace PostgreSQL's ``raw`` tables with the DuckDB warehouse's, atomically; return rows per table.

    The database must exist (``create_warehouse_database``). Row counts are checked against DuckDB before the
    commit, so a short copy is rolled back rather than published.
    """
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be >= 1, got {batch_rows}")
    duck = connect_duckdb(Path(warehouse), read_only=True)
    try:
        duck.execute("SET enable_progress_bar = false")  # a long scan would draw one on the caller's terminal
        duck.execute("BEGIN TRANSACTION")  # one snapshot: the counts and every table's rows from the same state
        present = {
            name
            for (name,) in duck.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [RAW_SCHEMA]
            ).fetchall()
        }
        missing = sorted(set(RAW_TABLES) - present)
        if missing:
            raise RawLoadError(
                f"{warehouse} has no {', '.join(f'{RAW_SCHEMA}.{t}' for t in missing)}: simulate or ingest first"
            )
        source_counts = {
            table: duck.execute(f"SELECT count(*) FROM {RAW_SCHEMA}.{table}").fetchall()[0][0] for table in RAW_TABLES
        }
        con = pg_connect(settings, database or settings.warehouse_db)
        try:
            cur = con.cursor()
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
            for table in RAW_TABLES:
                cur.execute(create_table_sql(table))
                _check_columns(cur, table)
            cur.execute(f"TRUNCATE {', '.join(f'{RAW_SCHEMA}.{t}' for t in RAW_TABLES)}")
            copied = {table: _copy_table(duck, cur, table, batch_rows) for table in RAW_TABLES}
            short = {t: (copied[t], source_counts[t]) for t in RAW_TABLES if copied[t] != source_counts[t]}
            if short:
                raise RawLoadError(f"copied rows differ from DuckDB's (copied, source): {short}")
            for table in RAW_TABLES:
                cur.execute(f"ANALYZE {RAW_SCHEMA}.{table}")  # planner statistics for dbt's joins
            con.commit()
        except BaseException:
            con.rollback()
            raise
        finally:
            con.close()
    finally:
        duck.close()
    return copied


def dbt_postgres_env(settings: ProductionSettings, database: str | None = None) -> dict[str, str]:
    """The variables dbt_project/profiles.yml's `postgres` output reads, from the typed settings (for dbt's env)."""
    return {
        "PMI_PG_HOST": settings.pg_host,
        "PMI_PG_PORT": str(settings.pg_port),
        "PMI_PG_USER": settings.pg_user,
        "PMI_PG_PASSWORD": settings.pg_password,
        "PMI_PG_WAREHOUSE_DB": database or settings.warehouse_db,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m ml.warehouse.postgres_raw [--home DIR] [--batch-rows N]``: load ``$PMI_HOME``'s raw tables into
    ``PMI_PG_WAREHOUSE_DB`` (created when missing), before ``dbt build --target postgres``; one line per failure."""
    import argparse
    import sys

    import psycopg2

    from ml.settings import ProfileError, pmi_paths, production_settings

    parser = argparse.ArgumentParser(prog="python -m ml.warehouse.postgres_raw", description=main.__doc__)
    parser.add_argument("--home", default=None, help="data directory (default: $PMI_HOME or ./data)")
    parser.add_argument("--batch-rows", type=int, default=DEFAULT_BATCH_ROWS, help="rows per Arrow batch / COPY")
    args = parser.parse_args(argv)
    try:
        settings = production_settings()
        warehouse = pmi_paths(args.home).warehouse
        if not warehouse.exists():  # before creating any database
            raise FileNotFoundError(f"no warehouse at {warehouse}: run `pmi simulate` or `pmi run` first")
        created = create_warehouse_database(settings)
        counts = load_raw_into_postgres(warehouse, settings, batch_rows=args.batch_rows)
    except (ProfileError, RawLoadError, FileNotFoundError, ValueError, psycopg2.Error) as exc:
        print(f"error: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    where = f"{settings.pg_host}:{settings.pg_port}/{settings.warehouse_db}"
    print(
        f"{'created and ' if created else ''}loaded {where}: " + ", ".join(f"raw.{t} {n:,}" for t, n in counts.items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
