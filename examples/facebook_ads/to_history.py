"""Turn the shared Facebook ads export (one row per ad, no dates) into a `pmi allocate --history` file.

Mapping (see README.md): one xyz campaign's ads, grouped into campaigns by audience segment (age x gender,
default) or by ad set (fb_campaign_id); each ad is one observation "day" of its campaign, dated backwards
from a common end date in ad_id order; spend = Spent, conversions = Total_Conversion, revenue =
Approved_Conversion x an assumed value per approved conversion (the export has no revenue).

    python examples/facebook_ads/to_history.py --out /tmp/fb_history.csv
    pmi allocate --history /tmp/fb_history.csv --total-budget 900 --out /tmp/fb_budgets.csv

With `--ingest-dir DIR` the same campaigns and days are also written as a `pmi ingest` drop folder
(campaigns.csv, daily.csv, mapping.yaml), so the warehouse pipeline can run on them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
# The dataset is read in place from ../shared beside the repository (never copied in), whatever the cwd.
SOURCE = ROOT.parent / "shared" / "datasets" / "facebook_ads" / "KAG_conversion_data.csv"
DEFAULT_CAMPAIGN = 1178
DEFAULT_VALUE_PER_APPROVED = 100.0
DEFAULT_END_DATE = "2017-08-31"
EXPORT_COLUMNS = (
    "ad_id",
    "xyz_campaign_id",
    "fb_campaign_id",
    "age",
    "gender",
    "Impressions",
    "Clicks",
    "Spent",
    "Total_Conversion",
    "Approved_Conversion",
)
DAILY_COLUMNS = ["campaign_id", "date", "spend", "impressions", "clicks", "conversions", "revenue"]
PROG = "to_history.py"
EXIT_BAD_INPUT = 2


class BadExportError(Exception):
    """The export is missing or is not the Kaggle file; the message is the one line the user sees."""


def facebook_history(
    ads: pd.DataFrame,
    xyz_campaign_id: int = DEFAULT_CAMPAIGN,
    by: str = "segment",
    value_per_approved: float = DEFAULT_VALUE_PER_APPROVED,
    end_date: str = DEFAULT_END_DATE,
) -> pd.DataFrame:
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
    history = pd.DataFrame(
        {
            "date": (pd.Timestamp(end_date) - pd.to_timedelta(days_before_end, unit="D")).dt.strftime("%Y-%m-%d"),
            "campaign_id": campaign,
            "spend": rows["Spent"].round(2),
            "impressions": rows["Impressions"],
            "clicks": rows["Clicks"],
            "conversions": rows["Total_Conversion"],
            "revenue": (rows["Approved_Conversion"] * value_per_approved).round(2),
            "age": rows["age"],
            "gender": rows["gender"],
        }
    )
    return history.sort_values(["campaign_id", "date"]).reset_index(drop=True)


def ingest_tables(history: pd.DataFrame, xyz_campaign_id: int = DEFAULT_CAMPAIGN) -> tuple[pd.DataFrame, pd.DataFrame]:
    """raw.campaigns rows (one per campaign, launched on its first day) and the daily rows, from a history.

    The export says nothing about platform, country or creative, so those are the constants the shared-export
    mapping (mapping.yaml) uses: web, ZZ (unknown country), ad.
    """
    by_campaign = history.groupby("campaign_id", sort=True)
    segments = by_campaign[["age", "gender"]].agg(lambda s: "/".join(sorted(set(map(str, s)))))
    targeting = "age " + segments["age"] + ", gender " + segments["gender"]
    campaigns = pd.DataFrame(
        {
            "campaign_id": segments.index,
            "name": f"xyz campaign {xyz_campaign_id}, " + targeting.to_numpy(),
            "network": "facebook",
            "platform": "web",
            "geo": "ZZ",
            "creative_format": "ad",
            "targeting": targeting.to_numpy(),
            "has_agency": "false",
            "creative_production_cost": "0.00",
            "auto_optimization_enabled": "false",
            "launched_at": by_campaign["date"].min().to_numpy(),
        }
    )
    daily = history[DAILY_COLUMNS].copy()
    for money in ("spend", "revenue"):  # written as exact cents so the warehouse totals equal the history's
        daily[money] = daily[money].map(lambda v: f"{v:.2f}")
    return campaigns, daily


def mapping_yaml(rows: pd.DataFrame) -> str:
    """The drop folder's mapping: its files use contract names; only view-through conversions need saying."""
    view_through = int((rows["conversions"] > rows["clicks"]).sum())
    note = (
        f"# {view_through} day(s) report more conversions than clicks (view-through), so that is allowed and warned.\n"
        if view_through
        else "# No day reports more conversions than clicks.\n"
    )
    return (
        "# `pmi ingest` mapping for the drop folder written by examples/facebook_ads/to_history.py --ingest-dir.\n"
        "# The files already use the contract's column names.\n"
        + note
        + f"daily:\n  view_through_conversions: {'true' if view_through else 'false'}\n"
    )


def write_ingest_dir(history: pd.DataFrame, folder: Path, xyz_campaign_id: int = DEFAULT_CAMPAIGN) -> None:
    """Write campaigns.csv, daily.csv and mapping.yaml for `pmi ingest --campaigns ... --daily ... --mapping ...`."""
    campaigns, daily = ingest_tables(history, xyz_campaign_id)
    folder.mkdir(parents=True, exist_ok=True)
    campaigns.to_csv(folder / "campaigns.csv", index=False)
    daily.to_csv(folder / "daily.csv", index=False)
    (folder / "mapping.yaml").write_text(mapping_yaml(history), encoding="utf-8")


def shown_path(path: Path, default: bool) -> str:
    """The default path relative to the cwd (where the user stands), a given one as given."""
    return os.path.relpath(path) if default else str(path)


def read_export(path: Path, default: bool) -> pd.DataFrame:
    """The Kaggle export, or one actionable line (as BadExportError) when it is missing or is another file."""
    shown = shown_path(path, default)
    if not path.is_file():
        raise BadExportError(
            f'{shown} not found; pass --export PATH to the Kaggle "Sales Conversion '
            'Optimization" CSV (KAG_conversion_data.csv)'
        )
    try:
        ads = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise BadExportError(f"{shown}: not a readable CSV ({str(exc).strip().splitlines()[-1]})") from exc
    missing = [c for c in EXPORT_COLUMNS if c not in ads.columns]
    if missing:
        raise BadExportError(
            f'{shown}: column {missing[0]}: missing; expected the Kaggle "Sales Conversion Optimization" CSV'
        )
    return ads


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument(
        "--export",
        "--source",
        dest="export",
        type=Path,
        default=None,
        metavar="FILE",
        help="KAG_conversion_data.csv (default: ../shared/datasets/facebook_ads/ beside the repo).",
    )
    parser.add_argument("--out", type=Path, help="History CSV to write (for `pmi allocate --history`).")
    parser.add_argument(
        "--ingest-dir",
        type=Path,
        metavar="DIR",
        help="Also (or instead) write a `pmi ingest` drop folder: campaigns.csv, daily.csv, mapping.yaml.",
    )
    parser.add_argument("--xyz-campaign-id", type=int, default=DEFAULT_CAMPAIGN)
    parser.add_argument(
        "--by",
        choices=("segment", "adset"),
        default="segment",
        help="segment: age x gender campaigns (default); adset: fb_campaign_id campaigns.",
    )
    parser.add_argument(
        "--value-per-approved",
        type=float,
        default=DEFAULT_VALUE_PER_APPROVED,
        help="Assumed revenue per approved conversion (default 100).",
    )
    parser.add_argument("--end-date", default=DEFAULT_END_DATE, help="Date of every campaign's last ad.")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command line: write the mapped history and/or the ingest drop folder; a bad export is one line, exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.out is None and args.ingest_dir is None:
        parser.error("nothing to write: pass --out FILE and/or --ingest-dir DIR")
    try:
        source, default = args.export or SOURCE, args.export is None
        ads = read_export(source, default)
        history = facebook_history(ads, args.xyz_campaign_id, args.by, args.value_per_approved, args.end_date)
        if history.empty:
            raise BadExportError(
                f"{shown_path(source, default)}: column xyz_campaign_id: no ad of campaign {args.xyz_campaign_id} "
                f"(found: {', '.join(map(str, sorted(ads['xyz_campaign_id'].unique())))})"
            )
    except BadExportError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    summary = f"{len(history)} rows, {history['campaign_id'].nunique()} campaigns"
    if args.out is not None:
        history.to_csv(args.out, index=False)
        print(f"{summary} -> {args.out}")
    if args.ingest_dir is not None:
        write_ingest_dir(history, args.ingest_dir, args.xyz_campaign_id)
        print(f"{summary} -> {args.ingest_dir}/campaigns.csv, daily.csv, mapping.yaml")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
