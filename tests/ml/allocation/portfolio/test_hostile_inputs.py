"""Issue 16 for the other file commands: whatever `pmi allocate` and `pmi ltv` are given, a bad file is exit 2 with
one stderr line naming file, row and column, and no output file; exit 1 is left for pmi's own faults."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_allocate_bad_input import valid_history

from ml.allocation.portfolio import read_history
from ml.cli.main import main


def run(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().err


def allocate(capsys, history: Path, out: Path) -> str:
    code, err = run(capsys, "allocate", "--history", str(history), "--total-budget", "5000", "--out", str(out))
    assert code == 2 and len(err.splitlines()) == 1 and "error:" not in err, err
    assert not out.exists()
    return err.strip()


def test_a_history_without_a_spend_header_is_exit_2_naming_the_extra_cell(capsys, tmp_path):
    """Rows with one more cell than the header: pandas used to shift every column and end in a TypeError (exit 1)."""
    history = valid_history()
    lines = [",".join(c for c in history.columns if c != "spend")]
    lines += [",".join(str(v) for v in row) for row in history.itertuples(index=False)]
    path = tmp_path / "history.csv"
    path.write_text("\n".join(lines) + "\n")
    line = allocate(capsys, path, tmp_path / "out.csv")
    assert line == (
        f"pmi allocate: {path}: row 1, column 7 (no header): the row has 7 cells, the header 6 "
        "(no column spend in the header)"
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_history_without_a_spend_column_is_exit_2_naming_file_and_column(suffix, capsys, tmp_path):
    """No spend column at all (header and rows): one line naming the file and the missing column, no traceback."""
    path = tmp_path / f"history{suffix}"
    history = valid_history().drop(columns="spend")
    history.to_parquet(path) if suffix == ".parquet" else history.to_csv(path, index=False)
    line = allocate(capsys, path, tmp_path / "out.csv")
    assert line.startswith(f"pmi allocate: {path}: column spend: missing (columns found: date, campaign_id, "), line


@pytest.mark.parametrize(("column", "value"), [("spend", "1e308"), ("impressions", "1e300"), ("revenue", "2e12")])
def test_absurd_but_finite_numbers_in_a_history_are_exit_2(column, value, capsys, tmp_path):
    """1e308 spend parsed, then broke the curve fit (`array must not contain infs or NaNs`, exit 1)."""
    history = valid_history().astype({column: object})
    history.loc[4, column] = value
    path = tmp_path / "history.csv"
    history.to_csv(path, index=False)
    line = allocate(capsys, path, tmp_path / "out.csv")
    assert f"{path}: row 5, column {column}: {column} is implausibly large (at most 1,000,000,000,000)" in line


def test_scientific_notation_in_a_history_is_a_number(tmp_path):
    history = valid_history().astype({"spend": object})
    history.loc[0, "spend"] = "1.5e3"
    path = tmp_path / "history.csv"
    history.to_csv(path, index=False)
    daily = read_history(path).daily
    assert daily.loc[(daily["campaign_id"] == "alpha") & (daily["date"] == "2026-03-01"), "spend"].item() == 1500.0


def test_a_line_break_in_a_header_name_keeps_the_message_on_one_line(capsys, tmp_path):
    path = tmp_path / "history.csv"
    path.write_text('date,"camp\naign_id",spend,impressions,clicks,conversions,revenue\n2026-03-01,a,1,1,1,1,1\n')
    line = allocate(capsys, path, tmp_path / "out.csv")
    assert "column campaign_id: missing (columns found: date, camp\\x0aaign_id, spend" in line


def ltv(capsys, transactions: Path, out: Path, *extra: str) -> str:
    code, err = run(
        capsys,
        "ltv",
        "--transactions",
        str(transactions),
        "--calibration-end",
        "2020-10-01",
        "--horizon-days",
        "30",
        "--out",
        str(out),
        *extra,
    )
    assert code == 2 and len(err.splitlines()) == 1 and "error:" not in err, err
    assert not out.exists()
    return err.strip()


def transactions(path: Path, *extra_rows: str) -> Path:
    rows = [f"c{i % 9},2020-{1 + i % 9:02d}-{1 + i % 28:02d},{(i % 5) * 3.5}" for i in range(60)]
    path.write_text("\n".join(["customer_id,date,amount", *rows, *extra_rows]) + "\n")
    return path


def test_ltv_rows_longer_than_the_header_are_refused_not_shifted(capsys, tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,date\nc1,2020-01-01,5\nc2,2020-01-02,7\n")
    line = ltv(capsys, path, tmp_path / "ltv.csv")
    assert line == (
        f"pmi ltv: {path}: row 1, column 3 (no header): the row has 3 cells, the header 2 "
        "(no column amount in the header)"
    )


def test_an_absurd_ltv_amount_is_refused(capsys, tmp_path):
    path = transactions(tmp_path / "tx.csv", "c1,2020-03-03,1e308")
    assert "row 61, column amount: amount is implausibly large" in ltv(capsys, path, tmp_path / "ltv.csv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("columns: &c {amount: amount}\nnames: *c\n", "line 1: YAML anchors and aliases are not allowed in a mapping"),
        ("columns: {amount: amount, amount: value}\n", "line 1: amount is given twice ('amount' and 'value')"),
        ("columns: " + "[" * 30 + "]" * 30 + "\n", "line 1: nested deeper than 16 levels"),
    ],
)
def test_ltv_reads_its_mapping_through_the_shared_safe_loader(text, expected, capsys, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(text)
    line = ltv(capsys, transactions(tmp_path / "tx.csv"), tmp_path / "ltv.csv", "--mapping", str(mapping))
    assert f"{mapping}: {expected}" in line


def test_a_parquet_history_with_absurd_spend_is_refused_too(capsys, tmp_path):
    history = valid_history()
    history.loc[3, "spend"] = 1e308
    path = tmp_path / "history.parquet"
    pd.DataFrame(history).to_parquet(path, index=False)
    assert "row 4, column spend: spend is implausibly large" in allocate(capsys, path, tmp_path / "out.csv")
