"""Soak: N consecutive hourly cycles (`pmi loop`) on the default simulation; does it hold for weeks?

After each cycle: the marts reconcile with raw, no LTV row lacks a campaign, LTV counts every user acquired, and
the data directory's size. Prints one line per cycle and a summary: disk after cycle 48 against cycle 8 (the
retention policy reaches its steady state by then: ``ml/operations/retention.py``).

    .venv/bin/python benchmarks/hourly_soak_bench.py [--cycles 48] [--home DIR] [--from-home DIR]

``--from-home`` copies a data directory that already ran `pmi run` instead of running the full pipeline first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("MLFLOW_ENABLE_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

MB = 1024 * 1024


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cycles", type=int, default=48)
    p.add_argument("--baseline-cycle", type=int, default=8, help="Disk after this cycle is the reference.")
    p.add_argument("--home", help="Data directory to use (default: a temporary one, removed afterwards).")
    p.add_argument("--from-home", help="Copy this data directory (after `pmi run`) instead of running it.")
    return p.parse_args()


def prepare(home: Path, source: str | None) -> float:
    """A data directory after `pmi run` on the default simulation; returns the seconds it took."""
    from ml.cli.main import main

    started = time.monotonic()
    if source:
        shutil.copytree(source, home, symlinks=True)
    elif main(["run", "--home", str(home)]) != 0:
        sys.exit("pmi run failed")
    return time.monotonic() - started


def main() -> None:
    args = parse_args()
    from ml.cli.main import main as pmi
    from ml.operations.soak import check_cycle
    from ml.settings import pmi_paths

    scratch = None if args.home else tempfile.mkdtemp(prefix="pmi-soak-")
    home = Path(args.home or scratch) / "data"
    try:
        print(f"data directory: {home}", flush=True)
        print(f"full pipeline: {prepare(home, args.from_home):.0f} s", flush=True)
        paths = pmi_paths(home)
        disk, warehouse, seconds, failures = {}, {}, [], 0
        for cycle in range(1, args.cycles + 1):
            started = time.monotonic()
            code = pmi(["loop", "--home", str(home), "--cycles", "1"])
            seconds.append(time.monotonic() - started)
            check = check_cycle(paths)
            disk[cycle], warehouse[cycle] = check.disk_bytes, check.disk_parts["warehouse.duckdb"]
            failures += bool(code or check.problems)
            parts = " ".join(f"{k.split('.')[0]}={v / MB:.0f}" for k, v in check.disk_parts.items())
            print(
                f"cycle {cycle:>3}: exit {code}, {seconds[-1]:5.1f} s, LTV users {check.ltv_users:,}/"
                f"{check.users_scored:,} acquired by its as-of ({check.users:,} in all), "
                f"NULL-campaign rows {check.null_campaign_rows}, disk {check.disk_bytes / MB:.1f} "
                f"MB ({parts}) {'; '.join(check.problems) or 'reconciled'}",
                flush=True,
            )
        base, last = disk.get(args.baseline_cycle, disk[1]), disk[args.cycles]
        print(
            f"\n{args.cycles} cycles, {failures} with a failed check; cycle time median "
            f"{sorted(seconds)[len(seconds) // 2]:.1f} s, max {max(seconds):.1f} s"
        )
        print(
            f"disk after cycle {args.baseline_cycle}: {base / MB:.1f} MB, after cycle {args.cycles}: "
            f"{last / MB:.1f} MB ({last / base - 1:+.1%})"
        )
        steady = [c for c in disk if c >= args.baseline_cycle]
        print(
            f"cycles {args.baseline_cycle}-{args.cycles}: disk {min(disk[c] for c in steady) / MB:.1f}-"
            f"{max(disk[c] for c in steady) / MB:.1f} MB, of which the warehouse file "
            f"{min(warehouse[c] for c in steady) / MB:.1f}-{max(warehouse[c] for c in steady) / MB:.1f} MB"
        )
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
