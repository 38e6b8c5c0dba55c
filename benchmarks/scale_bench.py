"""Scale: `pmi run` at 100, 500 and 2,000 campaigns x 180 days, each stage's wall time and peak RSS, then one
`hourly_allocation` cycle (`pmi loop`), so the growth of cost with work is visible.

    .venv/bin/python benchmarks/scale_bench.py [--sizes 100 500 2000] [--users-per-campaign 5000] [--limit-gb 14]

Each size runs in a fresh PMI_HOME, as a child process under `prlimit --as` (a runaway stage dies alone instead of
taking the shared machine with it). RSS is sampled every 0.25 s over the child's whole process tree (dbt included)
and attributed to the Dagster step running at that moment (step start/end from the run's event log); a step's
"peak RSS" is the tree's peak while it ran, so it includes what earlier steps left allocated. The default 5,000
users per campaign gives about 10 million users at 2,000 campaigns. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GB = 1024**3
SAMPLE_SECONDS = 0.25


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2000], help="Campaign counts to run.")
    p.add_argument("--days", type=int, default=180)
    p.add_argument("--users-per-campaign", type=int, default=5000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--limit-gb", type=float, default=14.0, help="Address-space limit of each measured process.")
    p.add_argument("--keep", help="Keep the data directories under this folder (default: a temporary one).")
    return p.parse_args()


class TreeSampler:
    """Samples the summed RSS of a process and all its descendants until stopped."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _rss(self) -> int:
        total = 0
        for proc in [self.root, *self.root.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.time(), self._rss()))
            except psutil.Error:
                return
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> list[tuple[float, int]]:
        self._stop.set()
        self._thread.join()
        return self.samples


def measured(cmd: list[str], limit_gb: float, log: Path) -> tuple[int, float, list[tuple[float, int]]]:
    """Run ``cmd`` under an address-space limit; return exit code, wall seconds and RSS samples."""
    limited = ["prlimit", f"--as={int(limit_gb * GB)}", "--", *cmd]
    env = os.environ | {"GX_ANALYTICS_ENABLED": "False", "DO_NOT_TRACK": "1", "MLFLOW_ENABLE_TELEMETRY": "false"}
    started = time.time()
    with log.open("w") as out:
        proc = subprocess.Popen(limited, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
        sampler = TreeSampler(proc.pid)
        code = proc.wait()
    return code, time.time() - started, sampler.stop()


def step_windows(home: Path) -> list[tuple[str, float, float, str]]:
    """(step, start, end, status) of every step of the newest full_pipeline run in ``home``'s Dagster instance."""
    import dagster as dg

    from ml.cli.pipeline import dagster_instance
    from ml.settings import pmi_paths

    instance = dagster_instance(pmi_paths(home))
    runs = instance.get_runs(filters=dg.RunsFilter(job_name="full_pipeline"), limit=1)
    if not runs:
        return []
    starts: dict[str, float] = {}
    windows = []
    for record in instance.all_logs(runs[0].run_id):
        event = record.dagster_event
        if event is None or record.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[record.step_key] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and record.step_key in starts:
            status = "ok" if event.event_type_value == "STEP_SUCCESS" else "FAILED"
            windows.append((record.step_key, starts.pop(record.step_key), record.timestamp, status))
    windows += [(step, start, time.time(), "killed") for step, start in starts.items()]
    return sorted(windows, key=lambda w: w[1])


def peak(samples: list[tuple[float, int]], start: float = 0.0, end: float = float("inf")) -> float:
    inside = [rss for t, rss in samples if start <= t <= end]
    return max(inside, default=0) / GB


def run_size(n: int, args: argparse.Namespace, folder: Path) -> Iterator[tuple[str, str, str, str]]:
    """Rows (stage, seconds, peak GB, status) for one portfolio size, as each measurement ends."""
    home = folder / f"c{n}"
    pmi = str(ROOT / ".venv" / "bin" / "pmi")
    code, wall, samples = measured(
        [
            pmi,
            "run",
            "--home",
            str(home),
            "--source",
            "simulator",
            "--campaigns",
            str(n),
            "--days",
            str(args.days),
            "--seed",
            str(args.seed),
            "--users-per-campaign",
            str(args.users_per_campaign),
        ],
        args.limit_gb,
        folder / f"run_c{n}.log",
    )
    for step, start, end, status in step_windows(home):
        yield step, f"{end - start:.1f}", f"{peak(samples, start, end):.2f}", status
    yield "**pmi run (total)**", f"{wall:.1f}", f"{peak(samples):.2f}", "ok" if code == 0 else f"exit {code}"
    if code == 0:
        code, wall, samples = measured([pmi, "loop", "--home", str(home)], args.limit_gb, folder / f"loop_c{n}.log")
        yield (
            "**hourly_allocation (pmi loop, 1 cycle)**",
            f"{wall:.1f}",
            f"{peak(samples):.2f}",
            "ok" if code == 0 else f"exit {code}",
        )


def main() -> None:
    args = parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="pmi_scale_"))
    folder.mkdir(parents=True, exist_ok=True)
    print(
        f"{args.days} days, {args.users_per_campaign:,} users per campaign, seed {args.seed}, "
        f"limit {args.limit_gb:g} GB address space; logs in {folder}",
        flush=True,
    )
    for n in args.sizes:
        print(f"\n### {n:,} campaigns (about {n * args.users_per_campaign / 1e6:.1f} M users)\n")
        print("| stage | seconds | peak RSS (GB) | status |\n| --- | ---: | ---: | --- |", flush=True)
        for row in run_size(n, args, folder):
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
