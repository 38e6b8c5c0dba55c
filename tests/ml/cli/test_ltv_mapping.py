"""`pmi ltv --mapping` / `--separator` / `--date-format`: real logs in their own layout, and every bad mapping is
one line on stderr with exit 2 and nothing written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ml.cli.main import main
from ml.models.clv.predict import OUTPUT_COLUMNS

ROOT = Path(__file__).resolve().parents[3]
CDNOW = ROOT.parent / "shared" / "datasets" / "cdnow"
MASTER = CDNOW / "CDNOW_master.txt"
SAMPLE = CDNOW / "CDNOW_sample.txt"
MAPPING = ROOT / "examples" / "cdnow" / "mapping.yaml"
# The standard CDNOW exercise (benchmarks/ltv_cdnow_bench.py): 39 weeks of calibration, the next 39 weeks predicted.
CAL_END, HOLDOUT_END, HORIZON = "1997-09-30", "1998-06-30", "273"
needs_cdnow = pytest.mark.skipif(not MASTER.is_file() or not SAMPLE.is_file(), reason="CDNOW data not available")


def run_ltv(capsys, transactions: Path, out: Path, *extra: str) -> tuple[int, str]:
    """The real `pmi` entry point; returns (exit code, stderr)."""
    capsys.readouterr()
    code = main(["ltv", "--transactions", str(transactions), "--calibration-end", CAL_END, "--horizon-days", HORIZON,
                 "--out", str(out), *extra])  # fmt: skip
    return code, capsys.readouterr().err


@needs_cdnow
def test_cdnow_master_with_the_example_mapping(capsys, tmp_path):
    out = tmp_path / "cdnow_ltv.csv"
    code, err = run_ltv(capsys, MASTER, out, "--mapping", str(MAPPING))
    assert code == 0, err
    table = pd.read_csv(out, dtype={"customer_id": str})
    master = pd.read_csv(MASTER, sep=r"\s+", dtype={"customer_id": str, "date": str})
    assert list(table.columns) == OUTPUT_COLUMNS
    assert len(table) == table["customer_id"].nunique() == 23_570  # everyone's first purchase is in Q1 1997
    assert set(table["customer_id"]) == set(master["customer_id"])  # ids kept as text: "00001" stays "00001"
    quantiles = table[["value_p10", "value_p50", "value_p90"]].to_numpy()
    assert (quantiles >= 0).all() and (quantiles[:, 0] <= quantiles[:, 1]).all()
    assert (quantiles[:, 1] <= quantiles[:, 2]).all() and table["p_alive"].between(0, 1).all()
    holdout = master[(master["date"] > CAL_END.replace("-", "")) & (master["date"] <= HOLDOUT_END.replace("-", ""))]
    assert 0.6 <= table["predicted_value"].sum() / holdout["dollar_value"].sum() <= 1.3


@needs_cdnow
def test_headerless_mapping_and_plain_flags_read_the_same_log(capsys, tmp_path):
    """CDNOW_sample.txt has no header; the same log as ';'-separated day/month/year needs only the two flags."""
    headerless = tmp_path / "sample.yaml"
    headerless.write_text(
        "separator: whitespace\ndate_format: '%Y%m%d'\nheader: false\n"
        "names: [master_id, sample_id, day, cds, dollars]\n"
        "columns: {customer_id: sample_id, date: day, amount: dollars}\n"
    )
    out_mapped = tmp_path / "mapped.csv"
    code, err = run_ltv(capsys, SAMPLE, out_mapped, "--mapping", str(headerless), "--model", "bgnbd")
    assert code == 0, err

    raw = pd.read_csv(SAMPLE, sep=r"\s+", header=None, dtype=str, names=["m", "customer_id", "date", "cds", "amount"])
    semicolons = tmp_path / "sample.txt"
    raw.assign(date=pd.to_datetime(raw["date"], format="%Y%m%d").dt.strftime("%d/%m/%Y"))[
        ["customer_id", "date", "amount"]
    ].to_csv(semicolons, sep=";", index=False)
    out_flags = tmp_path / "flags.csv"
    code, err = run_ltv(capsys, semicolons, out_flags, "--separator", ";", "--date-format", "%d/%m/%Y",
                        "--model", "bgnbd")  # fmt: skip
    assert code == 0, err
    mapped, flags = (pd.read_csv(p, dtype={"customer_id": str}) for p in (out_mapped, out_flags))
    assert len(mapped) == 2357
    pd.testing.assert_frame_equal(mapped, flags)


MASTER_HEAD = " customer_id  date number_of_cds  dollar_value\n 00001 19970101  1   11.77\n 00002 19970112  1   12.00\n"
GOOD = "separator: whitespace\ndate_format: '%Y%m%d'\ncolumns:\n  amount: dollar_value\n"
BAD_MAPPINGS = {
    "unknown key": (GOOD + "sep: ','\n", "sep: unknown key"),
    "unknown ltv column": ("separator: whitespace\ncolumns: {value: dollar_value}\n", "columns.value: not a transac"),
    "column not in the file": ("separator: whitespace\ncolumns: {amount: dollars}\n", "columns.amount: column 'd"),
    "column not mapped": ("separator: whitespace\n", "columns.amount: not mapped"),
    "column used twice": (GOOD + "  date: dollar_value\n", "columns.date: column 'dollar_value' is already"),
    "bad date directive": (GOOD.replace("%Y%m%d", "%Y%m%Q"), "date_format: '%Y%m%Q' is not a usable date format"),
    "date format without a year": (GOOD.replace("%Y%m%d", "%m%d"), "date_format: '%m%d' needs a year"),
    "date format not text": (GOOD.replace("'%Y%m%d'", "19970101"), "date_format: expected a date format"),
    "two-character separator": (GOOD.replace("whitespace", "'::'"), 'separator: expected "whitespace" or one'),
    "quote as separator": (GOOD.replace("whitespace", "'\"'"), "separator: expected"),
    "header not a boolean": (GOOD + "header: maybe\n", "header: expected true or false"),
    "no header without names": (GOOD + "header: false\n", "names: header: false needs names"),
    "names with a header": (GOOD + "names: [a, b, c, d]\n", "names: only with header: false"),
    "anchor and alias": ("columns: &c {amount: dollar_value}\nseparator: whitespace\nnames: *c\n", "line 1: YAML anch"),
    "anchor alone": (GOOD.replace("whitespace", "&s whitespace"), "line 1: YAML anchors and aliases"),
    "not YAML": ("columns: [unclosed\n", "not valid YAML"),
    "not a mapping": ("- separator\n- whitespace\n", "expected a mapping with keys"),
    "python tag": (GOOD + "header: !!python/object:os.system {}\n", "not valid YAML"),
    "over 64 KB": (GOOD + "# padding\n" * 7000, "a mapping file may hold at most 64 KB"),
    "date format not matching the data": (GOOD.replace("%Y%m%d", "%d/%m/%Y"), "row 1, column date: does not match"),
}


@pytest.mark.parametrize("case", list(BAD_MAPPINGS))
def test_bad_mapping_is_one_line_naming_file_and_column(case, capsys, tmp_path):
    text, expected = BAD_MAPPINGS[case]
    transactions, mapping, out = tmp_path / "master.txt", tmp_path / "mapping.yaml", tmp_path / "ltv.csv"
    transactions.write_text(MASTER_HEAD)
    mapping.write_text(text)
    code, err = run_ltv(capsys, transactions, out, "--mapping", str(mapping))
    assert code == 2 and not out.exists()
    assert err.count("\n") == 1 and expected in err, err
    named = transactions if "row 1" in expected else mapping
    assert err.startswith(f"pmi ltv: {named}: ")


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--separator", "ab", '--separator: expected "whitespace" or one character'),
        ("--date-format", "%Y-%m-%Q", "--date-format: '%Y-%m-%Q' is not a usable date format"),
        ("--mapping", "missing.yaml", "missing.yaml: mapping file not found"),
    ],
)
def test_bad_flags_are_one_line(flag, value, expected, capsys, tmp_path):
    transactions, out = tmp_path / "master.txt", tmp_path / "ltv.csv"
    transactions.write_text(MASTER_HEAD)
    code, err = run_ltv(capsys, transactions, out, flag, str(tmp_path / value) if flag == "--mapping" else value)
    assert code == 2 and not out.exists()
    assert err.count("\n") == 1 and expected in err, err


def test_whitespace_file_without_a_mapping_says_how_to_read_it(capsys, tmp_path):
    transactions, out = tmp_path / "master.txt", tmp_path / "ltv.csv"
    transactions.write_text(MASTER_HEAD)
    code, err = run_ltv(capsys, transactions, out)
    assert code == 2 and err.count("\n") == 1
    assert "column customer_id: missing" in err and "set --separator or the mapping's separator" in err
