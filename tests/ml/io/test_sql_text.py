"""Quoted text reaches DuckDB unchanged, whatever quotes, spaces or semicolons it holds."""

import duckdb
import pytest

from ml.io.sql_text import sql_identifier, sql_literal

AWKWARD = ["plain", "it's", "''", 'say "hi"', "a b; DROP TABLE t; --", "", "ünï €", "O'Brien's \"camp\""]


@pytest.mark.parametrize("text", AWKWARD)
def test_literal_round_trips(text: str) -> None:
    assert duckdb.connect().execute(f"SELECT {sql_literal(text)}").fetchone()[0] == text


@pytest.mark.parametrize("text", [t for t in AWKWARD if t])
def test_identifier_names_a_column(text: str) -> None:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t ({sql_identifier(text)} INTEGER)")
    con.execute(f"INSERT INTO t ({sql_identifier(text)}) VALUES (7)")
    assert con.execute("DESCRIBE t").fetchone()[0] == text
    assert con.execute(f"SELECT {sql_identifier(text)} FROM t").fetchone()[0] == 7


def test_literal_takes_any_value() -> None:
    assert sql_literal(3.5) == "'3.5'"
