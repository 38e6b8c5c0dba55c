"""`pmi ingest` of a large hourly CSV generated on the fly: rows per second and peak memory (bounded, not ~file size).

    .venv/bin/python benchmarks/ingest_large_bench.py            # ~1 GB (about 15 million hourly rows)
    .venv/bin/python benchmarks/ingest_large_bench.py --gb 0.1   # quicker

The file is written in chunks and validated through DuckDB staging (read_csv into a table, checks in SQL) capped at
STAGING_MEMORY_LIMIT (spilling to disk); the load's memory grows with the raw tables' primary-key indexes instead.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ml.ingest.run import STAGING_MEMORY_LIMIT, ingest
from ml.settings import pmi_paths

BYTES_PER_ROW = 55  # measured on the generated format
CHUNK_ROWS = 500_000
CAMPAIGN_HEADER = (
    "campaign_id,name,network,platform,geo,creative_format,targeting,has_agency,"
    "creative_production_cost,auto_optimization_enabled,launched_at"
)


def write_files(directory: Path, rows: int, campaigns: int, seed: int = 11) -> tuple[Path, Path]:
    """A campaigns file and an hourly file of ``rows`` rows (campaign-major, one row per campaign-hour)."""
    ids = np.array([f"c{i:05d}" for i in range(campaigns)])
    campaigns_path = directory / "campaigns.csv"
    campaigns_path.write_text(
        "\n".join([CAMPAIGN_HEADER, *(f"{c},{c},meta,ios,US,video,broad,false,0,false,2020-01-01" for c in ids)]) + "\n"
    )
    hours_per_campaign = -(-rows // campaigns)
    hours = pd.date_range("2021-01-01", periods=hours_per_campaign, freq="h").strftime("%Y-%m-%dT%H:%M:%S")
    rng = np.random.default_rng(seed)
    hourly_path = directory / "hourly.csv"
    with hourly_path.open("w") as fh:
        fh.write("campaign_id,hour_ts,spend,impressions,clicks,conversions,revenue\n")
        for start in range(0, rows, CHUNK_ROWS):
            index = np.arange(start, min(start + CHUNK_ROWS, rows))
            impressions = rng.integers(100, 50_000, len(index))
            clicks = rng.binomial(impressions, 0.02)
            pd.DataFrame(
                {
                    "campaign_id": ids[index // hours_per_campaign],
                    "hour_ts": np.asarray(hours)[index % hours_per_campaign],
                    "spend": (rng.integers(0, 1_000_000, len(index)) / 100).round(2),
                    "impressions": impressions,
                    "clicks": clicks,
                    "conversions": rng.binomial(clicks, 0.1),
                    "revenue": (rng.integers(0, 100_000, len(index)) / 100).round(2),
                }
            ).to_csv(fh, header=False, index=False)
    return campaigns_path, hourly_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="Approximate size of the hourly CSV (default 1).")
    parser.add_argument("--campaigns", type=int, default=2000)
    args = parser.parse_args()
    rows = int(args.gb * 1e9 / BYTES_PER_ROW)
    with tempfile.TemporaryDirectory(prefix="pmi-ingest-bench-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        campaigns, hourly = write_files(directory, rows, args.campaigns)
        generated = time.perf_counter() - started
        size_gb = hourly.stat().st_size / 1e9
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        marks: dict[str, float] = {}

        def on_step(step: str) -> None:
            if step.startswith("loading"):  # validation done: its peak, and when the load began
                marks["validated_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                marks["validated_s"] = time.perf_counter() - started

        report = ingest(pmi_paths(directory / "home"), {"campaigns": campaigns, "hourly": hourly}, on_step=on_step)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    inserted = report.tables["campaign_hourly"]["inserted"]
    print(f"hourly CSV: {size_gb:.2f} GB, {rows:,} rows ({args.campaigns:,} campaigns), generated in {generated:.1f} s")
    print(
        f"pmi ingest: {seconds:.1f} s, {inserted / seconds:,.0f} rows/s ({inserted:,} rows inserted); "
        f"validation {marks['validated_s']:.1f} s, load {seconds - marks['validated_s']:.1f} s"
    )
    print(
        f"peak RSS: before ingest {rss_before:,.0f} MB, after validation {marks['validated_rss']:,.0f} MB "
        f"(staging capped at {STAGING_MEMORY_LIMIT}), after the load {peak:,.0f} MB (primary-key indexes in memory)"
    )


if __name__ == "__main__":
    main()
