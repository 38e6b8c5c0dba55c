"""Turn the shared Facebook ads export (one row per ad, no dates) into a `pmi allocate --history` file.

Mapping (see README.md): one xyz campaign's ads, grouped into campaigns by audience segment (age x gender,
default) or by ad set (fb_campaign_id); each ad is one observation "day" of its campaign, dated backwards
from a common end date in ad_id order; spend = Spent, conversions = Total_Conversion, revenue =
Approved_Conversion x an assumed value per approved conversion (the export has no revenue).

    python examples/facebook_ads/to_history.py --out /tmp/fb_history.csv
    pmi allocate --history /tmp/fb_history.csv --total-budget 900 --out /tmp/fb_budgets.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

SOURCE = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "facebook_ads" / "KAG_conversion_data.csv"
DEFAULT_CAMPAIGN = 1178
DEFAULT_VALUE_PER_APPROVED = 100.0
DEFAULT_END_DATE = "2017-08-31"


def facebook_history(ads: pd.DataFrame, xyz_campaign_id: int = DEFAULT_CAMPAIGN, by: str = "segment",
                     value_per_approved: float = DEFAULT_VALUE_PER_APPROVED,
                     end_date: str = DEFAULT_END_DATE) -> pd.DataFrame:
    """History rows (date, campaign_id, spend, impressions, clicks, conversions, revenue) from the ad-level file."""
    rows = ads[ads["xyz_campaign_id"] == xyz_campaign_id].sort_values("ad_id", kind="stable")
    if by == "segment":
        campaign = str(xyz_campaign_id) + "_" + rows["age"].astype(str) + "_" + rows["gender"].astype(str)
    elif by == "adset":
        campaign = rows["fb_campaign_id"].astype(str)
    else:
        raise ValueError(f"by must be 'segment' or 'adset', got {by!r}")
    # The last ad of every campaign falls on the common end date, so "the last 7 days" means the same for all.
    days_before_end = campaign.groupby(campaign).cumcount(ascending=False)
    history = pd.DataFrame({
        "date": (pd.Timestamp(end_date) - pd.to_timedelta(days_before_end, unit="D")).dt.strftime("%Y-%m-%d"),
        "campaign_id": campaign,
        "spend": rows["Spent"].round(2),
        "impressions": rows["Impressions"],
        "clicks": rows["Clicks"],
        "conversions": rows["Total_Conversion"],
        "revenue": (rows["Approved_Conversion"] * value_per_approved).round(2),
        "age": rows["age"],
        "gender": rows["gender"],
    })
    return history.sort_values(["campaign_id", "date"]).reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    """Command line: write the mapped history so `pmi allocate --history` can read it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help="KAG_conversion_data.csv (default: ../shared).")
    parser.add_argument("--out", type=Path, required=True, help="History CSV to write.")
    parser.add_argument("--xyz-campaign-id", type=int, default=DEFAULT_CAMPAIGN)
    parser.add_argument("--by", choices=("segment", "adset"), default="segment",
                        help="segment: age x gender campaigns (default); adset: fb_campaign_id campaigns.")
    parser.add_argument("--value-per-approved", type=float, default=DEFAULT_VALUE_PER_APPROVED,
                        help="Assumed revenue per approved conversion (default 100).")
    parser.add_argument("--end-date", default=DEFAULT_END_DATE, help="Date of every campaign's last ad.")
    args = parser.parse_args(argv)
    history = facebook_history(pd.read_csv(args.source), args.xyz_campaign_id, args.by, args.value_per_approved,
                               args.end_date)
    history.to_csv(args.out, index=False)
    print(f"{len(history)} rows, {history['campaign_id'].nunique()} campaigns -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
