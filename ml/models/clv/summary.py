"""From a transaction log to the per-customer RFM summary the BG/NBD and Gamma-Gamma models are fitted on.

Conventions (those of Fader & Hardie and of the CDNOW reference summaries, so fits are comparable):
- Several transactions by one customer on one day are one purchase whose value is their sum: the models describe
  purchase occasions, and same-day rows are usually one basket split by the source system.
- frequency x = number of repeat purchase days (the first day is the acquisition, not a repeat).
- recency t_x = time from the first to the last purchase day; age T = time from the first purchase day to the
  calibration end. Both in units of `time_unit_days` days (1 = days, 7 = weeks as in the CDNOW summary files).
- monetary_value = mean value of the repeat purchases (0 when x = 0), as the Gamma-Gamma model defines zbar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TRANSACTION_COLUMNS = ("customer_id", "date", "amount")


def daily_purchases(transactions: pd.DataFrame) -> pd.DataFrame:
    """One row per (customer, day) with the summed amount, sorted by customer then day.

    `transactions` needs `customer_id`, `date` (datetime-like; times are truncated to the day) and `amount`.
    """
    frame = pd.DataFrame(
        {
            "customer_id": transactions["customer_id"].to_numpy(),
            "date": pd.to_datetime(transactions["date"]).dt.normalize().to_numpy(),
            "amount": transactions["amount"].to_numpy(dtype=float),
        }
    )
    out = frame.groupby(["customer_id", "date"], sort=True, as_index=False)["amount"].sum()
    return out.reset_index(drop=True)


def rfm_summary(
    transactions: pd.DataFrame,
    calibration_end: pd.Timestamp | str,
    holdout_end: pd.Timestamp | str | None = None,
    time_unit_days: float = 1.0,
    daily: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Summary at `calibration_end` (inclusive) of every customer with a purchase on or before it.

    Columns: frequency, recency, T, monetary_value, first_value, total_value, last_value (calibration period);
    with `holdout_end`, also holdout_purchases and holdout_value over (calibration_end, holdout_end] - the targets
    for evaluation, never used for fitting. Index: customer_id, sorted. Pass `daily` (from `daily_purchases`) to
    avoid re-aggregating when summarising the same log at several dates.
    """
    cal_end = pd.Timestamp(calibration_end).normalize()
    days = daily_purchases(transactions) if daily is None else daily
    cal = days[days["date"] <= cal_end]
    if cal.empty:
        return _empty_summary(holdout_end is not None)

    cust_codes, customers = pd.factorize(cal["customer_id"], sort=True)
    day_num = ((cal["date"] - cal_end).dt.days).to_numpy(dtype=float)  # <= 0, days relative to calibration end
    amount = cal["amount"].to_numpy(dtype=float)
    n = len(customers)
    count = np.bincount(cust_codes, minlength=n).astype(float)
    # Rows are sorted by (customer, day), so a customer's first row is their first purchase day.
    starts = np.r_[0, np.cumsum(count)[:-1]].astype(int)
    ends = (starts + count - 1).astype(int)
    first_day, last_day = day_num[starts], day_num[ends]
    first_value, last_value = amount[starts], amount[ends]
    total = np.bincount(cust_codes, weights=amount, minlength=n)
    frequency = count - 1.0
    repeat_total = total - first_value
    monetary = np.divide(repeat_total, frequency, out=np.zeros(n), where=frequency > 0)

    out = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last_day - first_day) / time_unit_days,
            "T": -first_day / time_unit_days,
            "monetary_value": monetary,
            "first_value": first_value,
            "total_value": total,
            "last_value": last_value,
        },
        index=pd.Index(customers, name="customer_id"),
    )

    if holdout_end is not None:
        hold_end = pd.Timestamp(holdout_end).normalize()
        hold = days[(days["date"] > cal_end) & (days["date"] <= hold_end)]
        hold = hold[hold["customer_id"].isin(out.index)]
        grouped = hold.groupby("customer_id")["amount"].agg(["size", "sum"])
        out["holdout_purchases"] = grouped["size"].reindex(out.index, fill_value=0).astype(float)
        out["holdout_value"] = grouped["sum"].reindex(out.index, fill_value=0.0).astype(float)
    return out


def _empty_summary(with_holdout: bool) -> pd.DataFrame:
    columns = ["frequency", "recency", "T", "monetary_value", "first_value", "total_value", "last_value"]
    if with_holdout:
        columns += ["holdout_purchases", "holdout_value"]
    return pd.DataFrame({c: pd.Series(dtype=float) for c in columns}, index=pd.Index([], name="customer_id"))
