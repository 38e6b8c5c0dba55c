"""Turning a staged user file into contract columns (as trimmed text), through the `--mapping` of its kind."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ml.cli.errors import BadInputError
from ml.ingest.mapping import FileMapping
from ml.ingest.specs import FileKind


def quote_ident(name: str) -> str:
    """A column name as a SQL identifier, whatever characters the user's header holds."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A Python string as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _text(source: str) -> str:
    return f"NULLIF(trim(CAST({quote_ident(source)} AS VARCHAR)), '')"


def _column_expression(kind: FileKind, name: str, mapping: FileMapping, overrides: dict[str, str],
                       names: list[str], path: Path, used: set[str]) -> str:
    spec = kind.column(name)
    if name in mapping.constants:
        return quote_literal(mapping.constants[name])
    source = overrides.get(name) or mapping.columns.get(name) or (name if name in names else None)
    if source is None:
        if spec.required:
            hint = " (or map it in --mapping)" if not mapping.columns else ""
            raise BadInputError(f"{path}: column {name}: missing required column{hint}")
        return spec.default
    if source not in names:
        raise BadInputError(f"{path}: column {source}: the mapping takes {kind.name}.{name} from it, "
                            "but the file has no such column")
    used.add(source)
    text = _text(source)
    return text if spec.required else f"COALESCE({text}, {spec.default})"


def build_stage(con: duckdb.DuckDBPyConnection, kind: FileKind, mapping: FileMapping, source_table: str,
                names: list[str], path: Path, warnings: list[str]) -> str:
    """Create the view ``stg_<kind>``: ``_row`` (1-based data row) + every contract column as text; returns its name."""
    used: set[str] = set()
    groups = mapping.campaigns_from_columns or {"": {}}
    selects = []
    for campaign, overrides in groups.items():
        parts = ["(s.rowid + 1) AS _row"]
        for name in kind.column_names:
            if campaign and name == "campaign_id":
                parts.append(f"{quote_literal(campaign)} AS campaign_id")
            else:
                expr = _column_expression(kind, name, mapping, overrides, names, path, used)
                parts.append(f"{expr} AS {name}")
        selects.append(f"SELECT {', '.join(parts)} FROM {source_table} s")
    table = f"stg_{kind.name}"
    con.execute(f"CREATE VIEW {table} AS {' UNION ALL '.join(selects)}")  # typed once, below
    extra = [n for n in names if n not in used]
    if extra:
        shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        warnings.append(f"{path}: ignored column(s) not in the contract: {shown}")
    return table
