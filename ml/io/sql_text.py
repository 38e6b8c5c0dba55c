"""Quoting text into SQL: the one home for literals and identifiers built into statements by hand.

DuckDB takes parameters for values but not for paths in ATTACH/COPY, file options or identifiers, and a user's data
directory, header or category may hold quotes and spaces, so every such string goes through these two functions.
"""

from __future__ import annotations


def sql_literal(value: object) -> str:
    """A value as a SQL string literal (single quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A name as a SQL identifier (double quotes doubled), whatever characters a user's header holds."""
    return '"' + name.replace('"', '""') + '"'
