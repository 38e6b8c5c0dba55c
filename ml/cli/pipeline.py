"""`pmi run`: materialise the whole Dagster graph into PMI_HOME (simulated or ingested data) and print a summary."""

from __future__ import annotations

import argparse
import os
import time

from rich.console import Console

from ml.cli.job_progress import execute_with_progress
from ml.cli.mmm_summary import media_mix_path, print_channel_summary
from ml.cli.run_summary import print_recommendations, print_skipped, print_summary
from ml.cli.simulate import USERS_PER_CAMPAIGN_HELP
from ml.ingest.source import AUTO, SIMULATOR, WAREHOUSE, ingested_row_counts, resolve_source
from ml.io.errors import BadInputError
from ml.models.mmm.config import ADSTOCKS
from ml.settings import PmiPaths, is_production, pmi_paths

MIN_SIMULATED_DAYS = 60  # below this the 28-day features and the LTV validation cohorts have nothing to learn from
MIN_SIMULATED_CAMPAIGNS = 2


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run",
        help="Run the whole pipeline into PMI_HOME (simulator, or your ingested data).",
        description="Build the warehouse (dbt), the features, the models, an applied "
        "allocation, monitoring and the dashboard, then print a summary. Runs "
        "through Dagster, so the run appears in the Dagster UI (`make dagster`).",
    )
    p.add_argument("--home", help="Data directory (default: $PMI_HOME or ./data).")
    p.add_argument(
        "--source",
        default=AUTO,
        help="Where the raw data come from: 'simulator' (replaces raw with a simulation), 'warehouse' "
        "(what `pmi ingest` loaded, left as it is), or a drop folder to ingest first (campaigns.csv, "
        "hourly.csv | daily.csv, ... mapping.yaml). Default: the ingested warehouse if the data "
        "directory holds one, else the simulator.",
    )
    p.add_argument("--campaigns", type=int, default=24, help="Number of simulated campaigns (default 24).")
    p.add_argument("--days", type=int, default=180, help="Days of hourly history to simulate (default 180).")
    p.add_argument("--seed", type=int, default=7, help="Simulator seed (default 7).")
    p.add_argument("--users-per-campaign", type=int, default=None, help=USERS_PER_CAMPAIGN_HELP)
    p.add_argument(
        "--adstock",
        default="geometric",
        choices=ADSTOCKS,
        help="Channel-level homes only (media-mix path): carry-over form, geometric (default) or weibull.",
    )
    p.add_argument(
        "--mmm-bootstrap",
        type=int,
        default=100,
        metavar="N",
        help="Channel-level homes only: bootstrap refits behind the media-mix intervals (default 100).",
    )
    p.add_argument(
        "--lift-tests",
        metavar="FILE",
        help="Channel-level homes only: lift tests (channel, start, end, lift, lift_se) to calibrate the "
        "media-mix model; kept in raw.lift_tests for later runs.",
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="Show dbt's and the libraries' output live instead of writing it to PMI_HOME/logs.",
    )
    p.set_defaults(handler=run)


def check_simulation_size(campaigns: int, days: int) -> None:
    """Refuse, up front and in one line, a simulation too small for the models to learn anything from."""
    if campaigns < MIN_SIMULATED_CAMPAIGNS:
        raise BadInputError(
            f"--campaigns {campaigns}: the simulator needs at least {MIN_SIMULATED_CAMPAIGNS} "
            "campaigns (an allocation moves budget between campaigns)"
        )
    if days < MIN_SIMULATED_DAYS:
        raise BadInputError(
            f"--days {days}: the simulator needs at least {MIN_SIMULATED_DAYS} days of history "
            "(28-day trailing features, 30-day LTV validation cohorts)"
        )


def dagster_instance(paths: PmiPaths):
    """A persistent Dagster instance under PMI_HOME so `dagster dev` shows the runs pmi made.

    Opening it marks runs a killed pmi left "STARTED" as failed and prunes old history (orchestration/housekeeping.py).
    """
    import dagster as dg

    from orchestration.housekeeping import housekeeping
    from orchestration.production import write_instance_yaml

    dagster_home = paths.home / "dagster"
    write_instance_yaml(dagster_home)  # sqlite under PMI_HOME, or PostgreSQL in the production profile
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    instance = dg.DagsterInstance.get()
    housekeeping(instance, paths)
    return instance


def pmi_job(name: str, paths: PmiPaths):
    """A job of the pmi code location, with the dbt manifest prepared first (never at import).

    It is parsed for the data directory the job will run on: dbt's profile names it, and a parse for another one
    would make every dbt step of the run parse the whole project again ("profile has changed").
    """
    from orchestration.warehouse.project import prepare_dbt_manifest

    prepare_dbt_manifest(paths)
    from orchestration.definitions import defs

    return defs.resolve_job_def(name)


def home_run_config(paths: PmiPaths) -> dict:
    """Run config every pmi job shares: quiet console logs and the data directory."""
    return {
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
        "resources": {"pmi_home": {"config": {"home": str(paths.home)}}},
    }


def run_full_pipeline(
    paths: PmiPaths,
    campaigns: int = 24,
    days: int = 180,
    seed: int = 7,
    end_date: str = "",
    console: Console | None = None,
    source: str = SIMULATOR,
    verbose: bool = False,
    users_per_campaign: int | None = None,
    media_mix: dict | None = None,
):
    """Materialise every asset of the `full_pipeline` job in this process (of `media_mix_pipeline` when
    ``media_mix`` holds the media-mix model's op config); return the Dagster result."""
    job = pmi_job("media_mix_pipeline" if media_mix is not None else "full_pipeline", paths)
    simulator = {
        "n_campaigns": campaigns,
        "days": days,
        "seed": seed,
        "end_date": end_date,
        "source": source,
        "users_per_campaign": users_per_campaign or 0,
    }
    ops = {"simulator_backfill": {"config": simulator}}
    if media_mix is not None:
        ops["media_mix_model"] = {"config": media_mix}
    run_config = {"ops": ops} | home_run_config(paths)
    if is_production():
        return run_on_workers(paths, run_config, job.name)
    if console is None:
        return job.execute_in_process(run_config=run_config, instance=dagster_instance(paths), raise_on_error=False)
    return execute_with_progress(job, run_config, dagster_instance(paths), console, "full pipeline", verbose=verbose)


def run_on_workers(paths: PmiPaths, run_config: dict, job_name: str = "full_pipeline"):
    """Production profile: hold the run lock here while Celery workers execute the steps (in parallel)."""
    from ml.warehouse.run_lock import hold_run_lock
    from orchestration.production import execute_on_workers

    pmi_job(job_name, paths)  # prepares the dbt manifest the workers load
    with hold_run_lock(paths, "pmi run (production)"):
        return execute_on_workers(run_config, dagster_instance(paths))


def run(args: argparse.Namespace) -> int:
    console = Console(width=max(Console().width, 120), soft_wrap=True)
    paths = pmi_paths(args.home).ensure()
    source = resolve_source(paths, args.source)
    media_mix = None  # the media-mix model's op config on a channel-level home
    if source == SIMULATOR:
        check_simulation_size(args.campaigns, args.days)
        if args.users_per_campaign is not None and args.users_per_campaign < 1:
            raise BadInputError(f"--users-per-campaign {args.users_per_campaign}: must be at least 1")
        what = f"simulator: {args.campaigns} campaigns x {args.days} days, seed {args.seed}"
    elif source == WAREHOUSE:
        counts = ingested_row_counts(paths)
        what = f"the warehouse as loaded: {counts['campaigns']:,} campaigns, {counts['campaign_hourly']:,} rows"
        media_mix = media_mix_path(paths, args)
    else:
        what = f"drop folder {source}, ingested first"
    if media_mix is None and args.lift_tests:
        raise BadInputError("--lift-tests: only a channel-level home (a total outcome, no conversions) uses lift tests")
    started = time.monotonic()
    console.print(f"Running the full pipeline into {paths.home} ({what})")
    if media_mix is not None:
        console.print(f"Path: media-mix model, because the home holds {media_mix.pop('reason')}")
    result = run_full_pipeline(
        paths,
        args.campaigns,
        args.days,
        args.seed,
        console=console,
        source=source,
        verbose=args.verbose,
        users_per_campaign=args.users_per_campaign,
        media_mix=media_mix,
    )
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        console.print(f"[red]pipeline failed at {failed}; see the Dagster run {result.run_id}[/red]")
        return 1
    print_summary(console, paths)
    print_skipped(console, paths)
    if media_mix is not None:
        print_channel_summary(console, paths)
    else:
        print_recommendations(console, paths)
    console.print(f"Finished in {time.monotonic() - started:.0f}s. Warehouse: {paths.warehouse}")
    console.print(
        f"Dagster run {result.run_id}: `make dagster PMI_HOME={paths.home}` (from the repository root) "
        "shows it on http://127.0.0.1:3000."
    )
    # The run succeeded, so its `executive_dashboard` asset rewrote the page.
    console.print(f"Executive dashboard: {paths.dashboard_page}  (`pmi dashboard --serve` serves it)")
    return 0
