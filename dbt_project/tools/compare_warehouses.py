"""Compare every dbt-built relation of two DuckDB warehouses exactly: the same relations, column types and rows.

For refactoring the SQL (e.g. making it portable across adapters) without changing what the DuckDB build produces:
build the old project into one warehouse and the new one into a copy of the same raw data, then

    .venv/bin/python dbt_project/tools/compare_warehouses.py OLD.duckdb NEW.duckdb

Rows are compared as multisets (``EXCEPT ALL`` both ways), so row order does not matter but duplicates do.
Prints one line per relation; exit status 0 only when everything is identical.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

DBT_SCHEMAS = ("staging", "intermediate", "marts", "reference")


def relations(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    """(schema, name) of every table and view of the dbt schemas in one attached warehouse."""
    return con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_catalog = ? AND table_schema IN (SELECT unnest(?)) ORDER BY 1, 2",
        [catalog, list(DBT_SCHEMAS)],
    ).fetchall()


def columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [catalog, schema, table],
    ).fetchall()


def compare(old: Path, new: Path) -> list[str]:
    """One report line per relation (and per relation present on one side only); identical lines end in 'same'."""
    for path in (old, new):
        if not path.exists():
            raise FileNotFoundError(f"no warehouse at {path}")
    con = duckdb.connect()
    con.execute(f"ATTACH '{old}' AS old_wh (READ_ONLY)")
    con.execute(f"ATTACH '{new}' AS new_wh (READ_ONLY)")
    old_rel, new_rel = relations(con, "old_wh"), relations(con, "new_wh")
    lines = [f"{s}.{t}: only in old" for s, t in old_rel if (s, t) not in new_rel]
    lines += [f"{s}.{t}: only in new" for s, t in new_rel if (s, t) not in old_rel]
    for schema, table in (r for r in old_rel if r in new_rel):
        old_cols, new_cols = columns(con, "old_wh", schema, table), columns(con, "new_wh", schema, table)
        if old_cols != new_cols:
            changed = [(a, b) for a, b in zip(old_cols, new_cols, strict=False) if a != b]
            lines.append(f"{schema}.{table}: columns differ {changed or (len(old_cols), len(new_cols))}")
            continue
        rows = con.execute(f"SELECT count(*) FROM old_wh.{schema}.{table}").fetchall()[0][0]
        only_old, only_new = (
            con.execute(
                f"SELECT count(*) FROM (FROM {a}.{schema}.{table} EXCEPT ALL FROM {b}.{schema}.{table})"
            ).fetchall()[0][0]
            for a, b in (("old_wh", "new_wh"), ("new_wh", "old_wh"))
        )
        verdict = "same" if only_old == only_new == 0 else f"{only_old} rows only in old, {only_new} only in new"
        lines.append(f"{schema}.{table}: {rows} rows, {verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    try:
        lines = compare(args.old, args.new)
    except (FileNotFoundError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    identical = all(line.endswith(", same") for line in lines)
    print("IDENTICAL" if identical else "DIFFERENT")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
