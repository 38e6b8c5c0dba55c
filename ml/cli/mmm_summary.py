"""`pmi run` on a channel-level home: choosing the media-mix path and printing what it found."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from ml.cli.run_summary import usd
from ml.io.errors import BadInputError
from ml.settings import PmiPaths
from ml.warehouse.connection import read_sql, table_exists


def media_mix_path(paths: PmiPaths, args: argparse.Namespace) -> dict | None:
    """The media-mix op config (with the reason under ``reason``) when the home is channel-level, else None."""
    from ml.models.mmm.warehouse import channel_level_reason

    reason = channel_level_reason(paths)
    if reason is None:
        return None
    if args.mmm_bootstrap < 0:
        raise BadInputError(f"--mmm-bootstrap {args.mmm_bootstrap}: must be 0 or more")
    lift = ""
    if args.lift_tests:
        path = Path(args.lift_tests)
        if not path.is_file():
            raise BadInputError(f"--lift-tests {path}: no such file")
        lift = str(path.resolve())
    return {
        "reason": reason,
        "n_bootstrap": args.mmm_bootstrap,
        "adstock": args.adstock,
        "lift_tests": lift,
    }


def print_channel_summary(console: Console, paths: PmiPaths) -> None:
    """Fit diagnostics, each channel's contribution and ROAS with its interval, and the allocation per channel."""
    if not table_exists(paths, "predictions.channel_fit"):
        console.print("No media-mix fit was written (see the Dagster run).")
        return
    fit = read_sql(paths, "SELECT * FROM predictions.channel_fit").iloc[0]
    console.print(
        f"Media-mix model ({fit['adstock']} adstock, {int(fit['periods'])} periods, {int(fit['lift_tests'])} lift "
        f"tests): R² {fit['r2']:.3f}, NRMSE {fit['nrmse']:.4f}; out of sample (last {int(fit['holdout_periods'])} "
        f"periods) NRMSE {fit['holdout_nrmse']:.4f} vs {fit['baseline_holdout_nrmse']:.4f} for the baseline alone; "
        f"media {fit['media_share']:.1%} of the outcome"
    )
    contributions = read_sql(paths, "SELECT * FROM predictions.channel_contributions ORDER BY contribution DESC")
    plan = read_sql(paths, "SELECT * FROM predictions.channel_allocation").set_index("channel")
    console.print(f"{'channel':<12}{'share':>8}{'ROAS (90% interval)':>26}{'current':>18}{'recommended':>18}")
    for row in contributions.itertuples():
        rec = plan.loc[row.channel]
        console.print(
            f"{row.channel:<12}{row.share:>8.1%}{f'{row.roas:.2f} ({row.roas_lower:.2f}-{row.roas_upper:.2f})':>26}"
            f"{usd(rec['current_budget']):>18}{usd(rec['recommended']):>18}"
        )
    status = fit.get("allocation_status", "not applied")
    applied = (
        f"applied to raw.budgets as daily budgets through the budget gate (run {fit['run_id']})"
        if status == "applied"
        else f"not applied to raw.budgets: {status}"
    )
    console.print(
        f"Allocation per period: {usd(plan['recommended'].sum())} across {len(plan)} channels "
        f"(predictions.channel_allocation; {applied})"
    )
