"""`pmi ltv` end to end on the CDNOW sample, its no-leakage guarantee, and its bad-input contract."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml.cli import ltv
from ml.io.errors import BadInputError
from ml.models.clv.predict import OUTPUT_COLUMNS, parametric_expectations, predict_ltv
from ml.models.clv.summary import rfm_summary

CAL_END = "1997-09-30"
HORIZON = "273"


def run_ltv(*argv: str) -> int:
    """Parse through the subcommand's own parser (main.py may not be wired yet) and run it."""
    parser = argparse.ArgumentParser(prog="pmi")
    ltv.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["ltv", *argv])
    assert args.handler is ltv.run
    return args.handler(args)


def read_csv_out(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"customer_id": str})


@pytest.fixture(scope="module")
def base_output(cdnow_sample_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("ltv") / "ltv.csv"
    assert (
        run_ltv(
            "--transactions",
            str(cdnow_sample_csv),
            "--calibration-end",
            CAL_END,
            "--horizon-days",
            HORIZON,
            "--out",
            str(out),
        )
        == 0
    )
    return read_csv_out(out)


def test_output_columns_and_one_row_per_calibration_customer(base_output, cdnow_sample):
    assert list(base_output.columns) == OUTPUT_COLUMNS
    seen = set(cdnow_sample.loc[cdnow_sample["date"] <= CAL_END, "customer_id"])
    assert len(base_output) == len(seen) == 2357
    assert set(base_output["customer_id"]) == seen  # ids kept as text: leading zeros survive
    assert base_output["customer_id"].is_unique
    assert base_output[OUTPUT_COLUMNS[1:]].notna().all().all()


def test_values_are_sane_and_quantiles_ordered(base_output):
    q = base_output[["value_p10", "value_p50", "value_p90"]].to_numpy()
    assert (q >= 0).all()
    assert (q[:, 0] <= q[:, 1]).all() and (q[:, 1] <= q[:, 2]).all()
    assert base_output["p_alive"].between(0, 1).all()
    assert (base_output["predicted_purchases"] >= 0).all() and (base_output["predicted_value"] >= 0).all()
    assert (base_output["value_p10"] == 0).mean() > 0.9  # most customers most likely buy nothing: p10 is honest


def test_value_interval_is_roughly_calibrated_on_the_holdout(base_output, cdnow_sample):
    """The [p10, p90] band should hold about 80% of customers' actual holdout spend (more, given the mass at 0)."""
    truth = rfm_summary(cdnow_sample, CAL_END, holdout_end="1998-06-30")["holdout_value"]
    actual = truth.reindex(base_output["customer_id"]).to_numpy()
    inside = (actual >= base_output["value_p10"].to_numpy() - 1e-6) & (actual <= base_output["value_p90"].to_numpy())
    assert 0.75 <= inside.mean() <= 0.97
    total = base_output["predicted_value"].sum()
    assert 0.6 * actual.sum() <= total <= 1.3 * actual.sum()


def test_transactions_after_calibration_end_are_not_used(base_output, cdnow_sample, tmp_path):
    """Rewrite every holdout row (amounts, dates, new customers, deletions): the output must not move."""
    rng = np.random.default_rng(0)
    tx = cdnow_sample.copy()
    hold = tx["date"] > CAL_END
    tx.loc[hold, "amount"] = rng.uniform(0, 500, hold.sum())
    tx.loc[hold, "date"] = pd.Timestamp(CAL_END) + pd.to_timedelta(rng.integers(1, 400, hold.sum()), unit="D")
    tx = tx.drop(tx.index[hold.to_numpy()][::3])
    newcomers = pd.DataFrame(
        {
            "customer_id": ["9991", "9992"],
            "date": pd.to_datetime(["1997-10-01", "1998-01-01"]),
            "amount": [10.0, 20.0],
            "cds": [1, 1],
        }
    )
    tx = pd.concat([tx, newcomers]).sample(frac=1.0, random_state=1)  # row order must not matter either
    path = tmp_path / "changed.csv"
    tx.assign(date=tx["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    out = tmp_path / "changed_ltv.csv"
    assert (
        run_ltv("--transactions", str(path), "--calibration-end", CAL_END, "--horizon-days", HORIZON, "--out", str(out))
        == 0
    )
    pd.testing.assert_frame_equal(read_csv_out(out), base_output)


def test_parquet_in_and_out_with_bgnbd_values(cdnow_sample, base_output, tmp_path):
    src = tmp_path / "tx.parquet"
    cdnow_sample[["customer_id", "date", "amount"]].to_parquet(src, index=False)
    out = tmp_path / "ltv.parquet"
    assert (
        run_ltv(
            "--transactions",
            str(src),
            "--calibration-end",
            "19970930",
            "--horizon-days",
            HORIZON,
            "--out",
            str(out),
            "--model",
            "bgnbd",
        )
        == 0
    )
    got = pd.read_parquet(out)
    assert list(got.columns) == OUTPUT_COLUMNS
    same = ["customer_id", "predicted_purchases", "p_alive"]
    pd.testing.assert_frame_equal(got[same], base_output[same], check_exact=False, atol=1e-6)
    # With --model bgnbd, predicted_value is BG/NBD purchases x Gamma-Gamma spend x the inner-split total factor.
    result = predict_ltv(cdnow_sample, CAL_END, int(HORIZON), model="bgnbd", draws=10)
    summary = rfm_summary(cdnow_sample[cdnow_sample["date"] <= CAL_END], CAL_END)
    plain = parametric_expectations(result.fit, summary, float(HORIZON))["predicted_value"].to_numpy()
    assert result.calibration_factor == pytest.approx(result.validation["calibration_factor_bgnbd_gg"])
    np.testing.assert_allclose(got["predicted_value"], plain * result.calibration_factor, atol=1e-6)


def test_predict_ltv_reports_its_choice(cdnow_sample):
    result = predict_ltv(cdnow_sample, CAL_END, 90, model="auto", draws=50)
    assert result.value_source in ("ensemble", "bgnbd+gg")
    assert result.validation["inner_window_days"] == 90
    v = result.validation
    chose_ensemble = v["inner_deviance_ensemble"] < v["inner_deviance_bgnbd_gg"]
    assert (result.value_source == "ensemble") == chose_ensemble
    # The level comes from the source whose calibrated total transferred better inside the calibration window.
    assert (result.level_source == "ensemble") == (
        abs(v["transfer_log_error_ensemble"]) < abs(v["transfer_log_error_bgnbd_gg"])
    )
    if result.level_source == result.value_source:
        level = "ensemble" if chose_ensemble else "bgnbd_gg"
        assert result.calibration_factor == pytest.approx(v[f"calibration_factor_{level}"])
    assert "calibration window" in result.reason and "transferred" in result.reason
    assert result.total.low < result.table["predicted_value"].sum() < result.total.high


GOOD_HEADER = "customer_id,date,amount\n"
BAD_INPUTS = {
    "empty file": ("", r"empty file"),
    "header only": (GOOD_HEADER, r"header only"),
    "missing column": ("customer_id,date,value\n1,2020-01-01,3\n", r"column amount: missing"),
    "unparsable date": (GOOD_HEADER + "1,2020-01-01,3\n2,2020-02-30,4\n", r"row 2, column date: unparsable"),
    "negative amount": (
        GOOD_HEADER + "1,2020-01-01,3\n1,2020-01-02,3\n2,2020-01-03,-1\n",
        r"row 3, column amount: negative",
    ),
    "non-numeric amount": (GOOD_HEADER + "1,2020-01-01,$3\n", r"row 1, column amount: amount is not a number"),
    "NaN amount": (GOOD_HEADER + "1,2020-01-01,3\n2,2020-01-01,NaN\n", r"row 2, column amount: amount is not a num"),
    "missing amount": (GOOD_HEADER + "1,2020-01-01,\n", r"row 1, column amount: missing amount"),
    "missing customer": (GOOD_HEADER + "1,2020-01-01,3\n,2020-01-01,3\n", r"row 2, column customer_id: missing"),
    "blank line keeps numbering": (GOOD_HEADER + "1,2020-01-01,3\n\n2,20200101x,3\n", r"row 3, column date"),
    "ragged row": (
        GOOD_HEADER + "1,2020-01-01,3\n2,2020-01-01,3,9\n",
        r"row 2, column 4 \(no header\): the row has 4 cells, the header 3$",
    ),
    "short row": (GOOD_HEADER + "1,2020-01-01,3\n2,2020-01-01\n", r"row 2, column amount: missing amount$"),
    "unclosed quote": (GOOD_HEADER + '1,2020-01-01,3\n2,"2020-01-01,3\n', r"row 2, column date: a quoted cell is ne"),
    "nothing before calibration end": (GOOD_HEADER + "1,2021-01-01,3\n", r"column date: no transaction on or before"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_names_file_row_column_and_writes_nothing(case, tmp_path):
    content, expected = BAD_INPUTS[case]
    src = tmp_path / "tx.csv"
    src.write_text(content)
    out = tmp_path / "out" / "ltv.csv"
    out.parent.mkdir()
    with pytest.raises(BadInputError, match=expected) as err:
        run_ltv(
            "--transactions", str(src), "--calibration-end", "2020-12-31", "--horizon-days", "30", "--out", str(out)
        )
    assert str(err.value).startswith(f"{src}:")
    assert "\n" not in str(err.value)
    assert list(out.parent.iterdir()) == []


def test_bad_parquet_date_and_bad_options(tmp_path):
    src = tmp_path / "tx.parquet"
    pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "date": pd.to_datetime(["2020-01-01", None, "2020-01-03"]),
            "amount": [1.0, 2.0, 3.0],
        }
    ).to_parquet(src, index=False)
    out = tmp_path / "ltv.csv"
    with pytest.raises(BadInputError, match=rf"^{src}: row 2, column date: missing date$"):
        run_ltv(
            "--transactions", str(src), "--calibration-end", "2020-12-31", "--horizon-days", "30", "--out", str(out)
        )
    for option, value, expected in [
        ("--calibration-end", "30/09/1997", "--calibration-end"),
        ("--horizon-days", "-5", "--horizon-days"),
        ("--horizon-days", "ten", "--horizon"),
        ("--draws", "0", "--draws"),
        ("--out", str(tmp_path / "x.xlsx"), "--out"),
    ]:
        argv = {
            "--transactions": str(src),
            "--calibration-end": "2020-12-31",
            "--horizon-days": "30",
            "--out": str(out),
            option: value,
        }
        with pytest.raises(BadInputError, match=expected):
            run_ltv(*[part for pair in argv.items() for part in pair])
    with pytest.raises(BadInputError, match="file not found"):
        run_ltv(
            "--transactions",
            str(tmp_path / "nope.csv"),
            "--calibration-end",
            "2020-12-31",
            "--horizon-days",
            "30",
            "--out",
            str(out),
        )
    assert not out.exists()


def test_main_exit_code_and_one_line_on_stderr(tmp_path, capsys):
    """Through `pmi`'s own main(): exit code 2 and exactly one line on stderr."""
    from ml.cli import main as cli_main

    assert "ltv" in cli_main.build_parser().format_help()
    src = tmp_path / "tx.csv"
    src.write_text(GOOD_HEADER + "1,2020-01-01,oops\n")
    out = tmp_path / "ltv.csv"
    code = cli_main.main(
        [
            "ltv",
            "--transactions",
            str(src),
            "--calibration-end",
            "2020-12-31",
            "--horizon-days",
            "30",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert err.count("\n") == 1 and "row 1, column amount" in err


def test_cli_prints_the_total_inside_its_interval(cdnow_sample_csv, tmp_path, capsys):
    """The printed 90% interval brackets the printed total, which is the written predicted_value's sum."""
    out = tmp_path / "ltv.csv"
    capsys.readouterr()
    code = run_ltv(
        "--transactions", str(cdnow_sample_csv), "--calibration-end", CAL_END, "--horizon-days", HORIZON,
        "--out", str(out), "--model", "bgnbd", "--draws", "50",
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    total = float(printed.split("purchases, ")[1].split(" value")[0].replace(",", ""))
    low, high = (float(v.replace(",", "")) for v in printed.split("interval: ")[1].split(" (")[0].split(" .. "))
    assert low < total < high
    assert total == pytest.approx(read_csv_out(out)["predicted_value"].sum(), rel=1e-6)
    assert "level transfer" in printed and "parameters" in printed
