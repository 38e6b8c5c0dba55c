"""Entry point of the `pmi` console script: one subcommand per thing a user does without the Dagster UI."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ml.cli import allocate, backtest, dashboard, ingest, loop, ltv, mmm, pipeline, simulate, status, train
from ml.cli.errors import EXIT_BAD_INPUT, EXIT_FAILURE
from ml.io.errors import BadInputError
from ml.settings import pmi_paths
from ml.warehouse.run_lock import RunLockBusy, hold_run_lock

# Commands that write the data directory: one at a time per directory (see ml/warehouse/run_lock.py).
# `pmi loop` takes the lock per cycle itself, so that a `pmi ingest` can land while it sleeps.
WRITER_COMMANDS = frozenset({"run", "ingest", "train", "simulate"})
WAIT_ENV = "PMI_WAIT_FOR_LOCK"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pmi", description="Predictive marketing intelligence.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (simulate, pipeline, loop, train, ingest, ltv, allocate, mmm, backtest, status, dashboard):
        module.add_parser(subparsers)
    for name in WRITER_COMMANDS & subparsers.choices.keys():
        try:
            subparsers.choices[name].add_argument(
                "--wait",
                action="store_true",
                help=f"If another pmi run holds the data directory, wait for it instead of exiting with 2 "
                f"(also {WAIT_ENV}=1).",
            )
        except argparse.ArgumentError:  # the subcommand defines its own --wait
            pass
    return parser


@contextmanager
def writer_lock(args: argparse.Namespace) -> Iterator[None]:
    """Hold the data directory's run lock around a writer command; other commands run without it."""
    if args.command not in WRITER_COMMANDS:
        yield
        return
    paths = pmi_paths(getattr(args, "home", None))
    wait = getattr(args, "wait", False) is True or os.environ.get(WAIT_ENV, "").strip() not in ("", "0")

    def say_waiting(busy: RunLockBusy) -> None:
        print(f"pmi {args.command}: waiting: {busy}", file=sys.stderr, flush=True)

    with hold_run_lock(paths, f"pmi {args.command}", wait=wait, on_wait=say_waiting):
        yield


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the subcommand, and map failures to exit codes (2 = bad input, 1 = failure)."""
    args = build_parser().parse_args(argv)
    try:
        with writer_lock(args):
            return int(args.handler(args) or 0)
    except (BadInputError, RunLockBusy) as exc:
        print(f"pmi {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the top level reports, never hides
        print(f"pmi {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
