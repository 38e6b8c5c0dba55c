"""`pmi ltv`: per-customer purchases, value, value quantiles and P(alive) for a future window, from a transaction log.

Contract (docs/contract.md §2): `--transactions` (CSV or Parquet: customer_id, date, amount; other columns are
ignored), `--calibration-end DATE`, `--horizon-days N`, `--out FILE` (CSV or Parquet). Only transactions on or
before the calibration end are used. Every input problem is reported as one line naming the file, the 1-based
data row and the column, and nothing is written unless the whole run succeeds (temp file + atomic rename).
Other layouts (whitespace or ';' separated, other column names, dates like 01/31/1997, no header line) are read
through `--mapping FILE` or `--separator` / `--date-format` (ml/cli/ltv_mapping.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console

from ml.cli.ltv_mapping import (
    PLAIN,
    TRANSACTION_COLUMNS,
    TransactionFormat,
    parse_formatted_dates,
    read_delimited,
    resolve_format,
    select_columns,
)
from ml.cli.steps import step
from ml.io.atomic import write_table_atomically
from ml.io.cells import parse_timestamps, raise_first, text_cells
from ml.io.errors import BadInputError
from ml.io.tables import CSV_SUFFIXES, PARQUET_SUFFIXES, check_readable, read_parquet_rows
from ml.quality.plausibility import MAX_AMOUNT, printable

REQUIRED = TRANSACTION_COLUMNS  # the contract columns of --transactions


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ltv",
        help="Predict customer lifetime value over a future window from a transaction log.",
        description="Fit BG/NBD (purchases, P(alive)) and Gamma-Gamma (spend) on transactions up to the calibration "
        "end, optionally a LightGBM+XGBoost ensemble trained on an inner time split (which also calibrates the "
        "portfolio total; its level comes from whichever source transfers better one window later inside the "
        "calibration period), print the total with a 90% interval, and write one row "
        "per customer: customer_id, predicted_purchases, predicted_value, value_p10, value_p50, "
        "value_p90, p_alive for the window (calibration end, calibration end + N days].",
    )
    p.add_argument(
        "--transactions",
        required=True,
        metavar="FILE",
        help="CSV or Parquet (by extension) with columns customer_id, date (ISO or YYYYMMDD), amount (>= 0);"
        " other columns are ignored. Other layouts: --mapping, --separator, --date-format.",
    )
    p.add_argument(
        "--mapping",
        metavar="FILE",
        help="YAML saying how to read --transactions: columns: {customer_id: COL, date: COL, amount: COL},"
        " separator (whitespace or one character), date_format (e.g. %%Y%%m%%d), header: false with "
        "names: [...]. Example: examples/cdnow/mapping.yaml.",
    )
    p.add_argument(
        "--separator",
        metavar="SEP",
        help="Cell separator of a text --transactions file: whitespace or one character (default: comma);"
        " overrides the mapping's.",
    )
    p.add_argument(
        "--date-format",
        metavar="FORMAT",
        help="strptime format of the date column, e.g. %%Y%%m%%d or %%d/%%m/%%Y (default: ISO dates or "
        "YYYYMMDD); overrides the mapping's.",
    )
    p.add_argument(
        "--calibration-end",
        required=True,
        metavar="DATE",
        help="Last day of history to use, inclusive (ISO or YYYYMMDD); later transactions are ignored.",
    )
    p.add_argument("--horizon-days", required=True, metavar="N", help="Length of the prediction window in days.")
    p.add_argument("--out", required=True, metavar="FILE", help="Output file, CSV or Parquet (.parquet/.pq).")
    p.add_argument(
        "--model",
        choices=("auto", "bgnbd", "ensemble"),
        default="auto",
        help="Source of predicted_value: auto (default) uses the ensemble when it beats BG/NBD+Gamma-Gamma "
        "on an inner time split of the calibration period; bgnbd never trains it; ensemble always "
        "uses it when there is enough history.",
    )
    p.add_argument(
        "--draws",
        default="500",
        metavar="N",
        help="Monte Carlo draws per customer for the value quantiles (default 500).",
    )
    p.add_argument(
        "--seed",
        default="0",
        metavar="N",
        help="Random seed (default 0); the output is deterministic for a given seed.",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Predict and write; a bad-input message quoting the user's bytes (a header name, a key) stays one line."""
    try:
        return _run(args)
    except BadInputError as exc:
        raise BadInputError(printable(str(exc))) from exc


def _run(args: argparse.Namespace) -> int:
    from ml.models.clv.predict import OUTPUT_COLUMNS, predict_ltv  # deferred: keeps `pmi --help` fast
    from ml.models.clv.total import TOTAL_INTERVAL

    horizon = _parse_int("--horizon-days", args.horizon_days, minimum=1, what="a positive whole number of days")
    draws = _parse_int("--draws", args.draws, minimum=1, what="a positive whole number")
    seed = _parse_int("--seed", args.seed, minimum=0, what="a non-negative whole number")
    cal_end = _parse_date_option("--calibration-end", args.calibration_end)
    out = _check_out(args.out)
    path = Path(args.transactions)
    fmt = resolve_format(None if args.mapping is None else Path(args.mapping), args.separator, args.date_format)
    with step(f"Reading {path}"):
        tx = read_transactions(path, fmt)
    tx = tx[tx["date"] <= cal_end]
    if tx.empty:
        raise BadInputError(f"{path}: column date: no transaction on or before the calibration end {cal_end.date()}")
    with step(f"Fitting BG/NBD + Gamma-Gamma and the boosted model on {tx['customer_id'].nunique():,} customers"):
        result = predict_ltv(tx, cal_end, horizon, model=args.model, draws=draws, seed=seed)
    table = result.table[OUTPUT_COLUMNS]
    write_table_atomically(table, out)

    console = Console(soft_wrap=True, highlight=False)
    bg, gg = result.fit.bgnbd, result.fit.gamma_gamma
    console.print(f"ltv: {len(table):,} customers at {cal_end.date()}, {horizon}-day window -> {out}", markup=False)
    console.print(
        f"BG/NBD (days): r={bg.r:.4f} alpha={bg.alpha:.3f} a={bg.a:.4f} b={bg.b:.4f}; spend: "
        + (
            f"Gamma-Gamma p={gg.p:.4f} q={gg.q:.4f} gamma={gg.gamma:.4f}"
            if result.fit.spend_model == "gamma-gamma"
            else result.fit.spend_model
        ),
        markup=False,
    )
    source = "ensemble (LightGBM+XGBoost)" if result.value_source == "ensemble" else "BG/NBD + Gamma-Gamma"
    console.print(f"predicted_value from {source}: {result.reason}", markup=False)
    console.print(
        f"total: {table['predicted_purchases'].sum():,.1f} purchases, {table['predicted_value'].sum():,.2f} value",
        markup=False,
    )
    if result.total is not None:
        t = result.total
        console.print(
            f"total value {TOTAL_INTERVAL:.0%} interval: {t.low:,.2f} .. {t.high:,.2f} (log sd: purchase and spend "
            f"noise {t.noise_sd:.3f}, parameters {t.parameter_sd:.3f}, calibration {t.factor_sd:.3f}, level "
            f"transfer {t.transfer_sd:.3f})",
            markup=False,
        )
    return 0


def read_transactions(path: Path, fmt: TransactionFormat = PLAIN) -> pd.DataFrame:
    """Read and validate a transaction file; returns customer_id, date (datetime64, day), amount (float)."""
    check_readable(path)
    if path.stat().st_size == 0:
        raise BadInputError(f"{path}: empty file")
    if path.name.lower().endswith(PARQUET_SUFFIXES):
        raw = read_parquet_rows(path)  # typed columns: only the mapping's column names and date format apply
    else:
        raw = read_delimited(path, fmt)
    raw = select_columns(raw, path, fmt)
    if len(raw) == 0:
        raise BadInputError(f"{path}: header only, no data rows")

    ids = raw["customer_id"]
    id_text, bad_id = text_cells(ids)
    dates, date_problem = (
        _parse_dates(raw["date"]) if fmt.date_format is None else parse_formatted_dates(raw["date"], fmt.date_format)
    )
    amounts, amount_problem = _parse_amounts(raw["amount"])
    id_problem = np.where(bad_id, "missing customer id", "").astype(object)
    raise_first(path, raw, [("customer_id", id_problem), ("date", date_problem), ("amount", amount_problem)])
    return pd.DataFrame(
        {
            "customer_id": id_text.to_numpy(dtype=object) if ids.dtype == object else ids.to_numpy(),
            "date": dates,
            "amount": amounts,
        }
    )


def _parse_dates(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Days (times truncated, offsets converted to UTC) and a problem label per row ('' = ok)."""
    parsed, problem = parse_timestamps(values)
    return pd.to_datetime(parsed).normalize().to_numpy(), problem


def _parse_amounts(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Amounts as float and a problem label per row ('' = ok): missing, not a number, not finite, negative."""
    problem = np.full(len(values), "", dtype=object)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        number = values.astype(float).to_numpy()
        missing = values.isna().to_numpy()
    else:
        text = values.astype("string").str.strip()
        missing = (text == "").fillna(True).to_numpy() | values.isna().to_numpy()
        number = pd.to_numeric(text.mask(missing), errors="coerce").astype(float).to_numpy()
    with np.errstate(invalid="ignore"):
        problem[number < 0] = "negative amount"
    problem[np.isfinite(number) & (number > MAX_AMOUNT)] = f"amount is implausibly large (at most {MAX_AMOUNT:,.0f})"
    problem[np.isinf(number)] = "amount is not finite"
    problem[np.isnan(number) & ~missing] = "amount is not a number"
    problem[missing] = "missing amount"
    return number, problem


def _parse_date_option(option: str, value: str) -> pd.Timestamp:
    parsed, problem = _parse_dates(pd.Series([value], dtype=object))
    if problem[0]:
        raise BadInputError(f"{option}: expected a date as YYYY-MM-DD or YYYYMMDD, got {value!r}")
    return pd.Timestamp(parsed[0])


def _parse_int(option: str, value: str, minimum: int, what: str) -> int:
    """Integers are parsed here rather than by argparse so a bad value is one clear line and exit code 2."""
    try:
        number = int(str(value).strip())
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise BadInputError(f"{option}: expected {what}, got {value!r}")
    return number


def _check_out(value: str) -> Path:
    out = Path(value)
    if not out.name.lower().endswith(PARQUET_SUFFIXES + CSV_SUFFIXES):
        raise BadInputError(f"--out: {out}: expected a .csv or .parquet file name")
    if not out.parent.is_dir():
        raise BadInputError(f"--out: {out}: directory {out.parent} does not exist")
    return out
