"""Entry point of the `pmi` console script: one subcommand per thing a user does without the Dagster UI."""

from __future__ import annotations

import argparse
import sys

from ml.cli import allocate, backtest, dashboard, ingest, ltv, pipeline, simulate, status, train
from ml.cli.errors import EXIT_BAD_INPUT, EXIT_FAILURE, BadInputError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pmi", description="Predictive marketing intelligence.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (simulate, pipeline, train, ingest, ltv, allocate, backtest, status, dashboard):
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the subcommand, and map failures to exit codes (2 = bad input, 1 = failure)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except BadInputError as exc:
        print(f"pmi {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the top level reports, never hides
        print(f"pmi {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
