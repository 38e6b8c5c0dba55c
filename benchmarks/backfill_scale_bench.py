"""Does the simulator's backfill grow linearly with the work? Sizes side by side in one run, the cost per row.

    .venv/bin/python benchmarks/backfill_scale_bench.py [--sizes 500 2000] [--days 180] [--users-per-campaign 5000]

Each size writes a fresh backfill (seed 7) into a temporary warehouse through `write_backfill`, the step
`simulator_backfill` runs. Prints, per size, the wall time split into drawing the day chunks, inserting each table
and the rest (the static tables, the commit), and each large table's insert cost per row in the first and last
quarter of its chunks: a cost per row that rose as the tables fill (a primary-key index growing, say) would make
the backfill superlinear. The last line gives the time ratio of the largest to the smallest size beside the ratio
of their rows.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import ml.warehouse.simulator_store as store
from ml.settings import pmi_paths
from ml.simulation import SimulationConfig
from ml.simulation.backfill import start_backfill

LARGE_TABLES = ("raw.campaign_hourly", "raw.users", "raw.revenue_events", "truth.user_value")


def timed_chunks(chunks: Iterator[dict], spent: list[float]) -> Iterator[dict]:
    """The backfill's chunks, with the time spent drawing each one recorded."""
    iterator = iter(chunks)
    while True:
        started = time.perf_counter()
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        spent.append(time.perf_counter() - started)
        yield chunk


def measure(n_campaigns: int, days: int, users_per_campaign: int) -> dict[str, object]:
    """One backfill of this size: total, drawing and per-table insert seconds, rows, per-row cost by quarter."""
    config = SimulationConfig(n_campaigns=n_campaigns, days=days, seed=7, users_per_campaign=users_per_campaign)
    inserts: dict[str, list[tuple[float, int]]] = {}
    original = store._append

    def timed_append(con, qualified, frame) -> None:
        started = time.perf_counter()
        original(con, qualified, frame)
        inserts.setdefault(qualified, []).append((time.perf_counter() - started, len(frame)))

    drawing: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = pmi_paths(Path(tmp) / "home").ensure()
        started = time.perf_counter()
        backfill = start_backfill(config)
        backfill.chunks = timed_chunks(backfill.chunks, drawing)
        store._append = timed_append
        try:
            store.write_backfill(paths.warehouse, backfill)
        finally:
            store._append = original
        total = time.perf_counter() - started
    insert_total = sum(t for parts in inserts.values() for t, _ in parts)
    per_row = {}
    for table in LARGE_TABLES:
        parts = inserts.get(table, [])
        quarter = max(1, len(parts) // 4)
        per_row[table] = tuple(
            1e6 * sum(t for t, _ in chunk) / max(sum(n for _, n in chunk), 1)
            for chunk in (parts[:quarter], parts[-quarter:])
        )
    rows = sum(n for parts in inserts.values() for _, n in parts)
    return {
        "campaigns": n_campaigns,
        "total": total,
        "drawing": sum(drawing),
        "inserting": insert_total,
        "rest": total - sum(drawing) - insert_total,
        "rows": rows,
        "chunks": len(drawing),
        "per_row": per_row,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    p.add_argument("--days", type=int, default=180)
    p.add_argument("--users-per-campaign", type=int, default=5000)
    args = p.parse_args()
    results = [measure(n, args.days, args.users_per_campaign) for n in args.sizes]
    print(
        "| campaigns | rows written | chunks | total (s) | drawing | inserting | rest | "
        + "us/row in the first / last quarter: "
        + ", ".join(LARGE_TABLES)
        + " |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        quarters = ", ".join(f"{a:.2f} / {b:.2f}" for a, b in r["per_row"].values())
        print(
            f"| {r['campaigns']:,} | {r['rows']:,} | {r['chunks']} | {r['total']:.1f} | {r['drawing']:.1f} | "
            f"{r['inserting']:.1f} | {r['rest']:.1f} | {quarters} |"
        )
    small, large = results[0], results[-1]
    print(
        f"time {large['total'] / small['total']:.2f}x for {large['rows'] / small['rows']:.2f}x the rows "
        f"({small['campaigns']:,} -> {large['campaigns']:,} campaigns)"
    )


if __name__ == "__main__":
    main()
