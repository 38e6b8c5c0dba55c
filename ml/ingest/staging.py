"""Turning a staged user file into contract columns (as trimmed text), through the `--mapping` of its kind."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import duckdb

from ml.ingest.mapping import FileMapping
from ml.ingest.specs import FileKind
from ml.io.errors import BadInputError
from ml.io.sql_text import sql_identifier, sql_literal


def _text(source: str) -> str:
    return f"NULLIF(trim(CAST({sql_identifier(source)} AS VARCHAR)), '')"


def _refuse_shadowing(
    kind: FileKind, name: str, mapping: FileMapping, source: str | None, names: list[str], path: Path
) -> None:
    """A contract column taken from elsewhere while the file has a column of that very name is ambiguous."""
    if name not in names or source == name:
        return
    given = (
        f"sets {kind.name}.{name} to the constant {mapping.constants[name]!r}"
        if source is None
        else f"takes {kind.name}.{name} from column {source}"
    )
    raise BadInputError(
        f"{path}: column {name}: the mapping {given}, but the file has a column {name} too; rename or drop one of them"
    )


def _column_expression(
    kind: FileKind,
    name: str,
    mapping: FileMapping,
    overrides: dict[str, str],
    names: list[str],
    path: Path,
    used: set[str],
) -> str:
    spec = kind.column(name)
    if name in mapping.constants:
        _refuse_shadowing(kind, name, mapping, None, names, path)
        return sql_literal(mapping.constants[name])
    mapped = overrides.get(name) or mapping.columns.get(name)
    if mapped in names:  # a mapped column missing from the file is reported below, naming it
        _refuse_shadowing(kind, name, mapping, mapped, names, path)
    source = mapped or (name if name in names else None)
    if source is None:
        if spec.required:
            hint = " (or map it in --mapping)" if not mapping.columns else ""
            raise BadInputError(f"{path}: column {name}: missing required column{hint}")
        return spec.default
    if source not in names:
        raise BadInputError(
            f"{path}: column {source}: the mapping takes {kind.name}.{name} from it, but the file has no such column"
        )
    used.add(source)
    text = _text(source)
    return text if spec.required else f"COALESCE({text}, {spec.default})"


def build_stage(
    con: duckdb.DuckDBPyConnection,
    kind: FileKind,
    mapping: FileMapping,
    source_table: str,
    names: list[str],
    path: Path,
    warnings: list[str],
) -> str:
    """Create the view ``stg_<kind>``: ``_row`` (1-based data row) + every contract column as text; returns its name."""
    used: set[str] = set()
    groups = mapping.campaigns_from_columns or {"": {}}
    selects = []
    if mapping.campaigns_from_columns and "campaign_id" in names:
        raise BadInputError(
            f"{path}: column campaign_id: the mapping's campaigns_from_columns names the campaigns, "
            "but the file has a campaign_id column too; rename or drop one of them"
        )
    for campaign, overrides in groups.items():
        parts = ["(s.rowid + 1) AS _row"]
        for name in kind.column_names:
            if campaign and name == "campaign_id":
                parts.append(f"{sql_literal(campaign)} AS campaign_id")
            else:
                expr = _column_expression(kind, name, mapping, overrides, names, path, used)
                parts.append(f"{expr} AS {name}")
        selects.append(f"SELECT {', '.join(parts)} FROM {source_table} s")
    table = f"stg_{kind.name}"
    con.execute(f"CREATE VIEW {table} AS {' UNION ALL '.join(selects)}")  # typed once, below
    # a channel-level file's total outcome and controls are kept too (ml/ingest/outcomes.py), not ignored
    kept = {mapping.total_outcome} | {n for n in names if any(fnmatch.fnmatchcase(n, p) for p in mapping.controls)}
    extra = [n for n in names if n not in used and n not in kept]
    if extra:
        shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        warnings.append(f"{path}: ignored column(s) not in the contract: {shown}")
    return table
