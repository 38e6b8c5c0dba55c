"""Run a Dagster job in process with a progress bar that advances as each step finishes.

The job runs in a worker thread; the main thread polls the run's event log (the persistent instance under
PMI_HOME), so the bar shows real step completions, and the run stays visible in `dagster dev` afterwards.
Unless verbose, whatever the run prints goes to its log file (`ml.cli.run_log`) so stdout keeps only the results;
the bar draws on stderr, and only when stderr is a terminal.
"""

from __future__ import annotations

import sys
import threading
import uuid
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ml.cli.run_log import (
    captured_output,
    default_log_dir,
    quiet_telemetry_env,
    run_log_path,
    terminal_stderr,
    verbose_from_env,
)

POLL_SECONDS = 0.5
_last_log: dict[str, Path | None] = {"path": None}


class StepCounter:
    """Reads a run's step events as they arrive (from a cursor, so each poll reads only what is new)."""

    def __init__(self, instance, run_id: str) -> None:
        self.instance, self.run_id = instance, run_id
        self.cursor: str | None = None
        self.finished, self.current = 0, ""

    def poll(self) -> None:
        import dagster as dg

        kinds = {
            dg.DagsterEventType.STEP_START,
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
            dg.DagsterEventType.STEP_SKIPPED,
        }
        batch = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, of_type=kinds)
        self.cursor = batch.cursor or self.cursor
        for record in batch.records:
            event = record.event_log_entry.dagster_event
            if event.event_type == dg.DagsterEventType.STEP_START:
                self.current = event.step_key or ""
            else:
                self.finished += 1


def last_run_log() -> Path | None:
    """The log file of this process's latest `execute_with_progress` run (None if it ran verbose or none ran)."""
    return _last_log["path"]


def bar_console(console: Console, terminal: TextIO | None, width: int | None) -> Console | None:
    """Where the bar draws: a console the caller pointed at its own file (tests, embedding) keeps it; otherwise
    the terminal behind stderr, or nowhere when stderr is not a terminal (pipes and CI logs stay clean)."""
    if console.file not in (sys.stdout, sys.stderr):
        return console
    if terminal is None:
        return None
    return Console(file=terminal, width=width, force_terminal=True)


def run_job(
    job,
    run_config: dict[str, Any],
    instance,
    run_id: str,
    bar: Console | None,
    label: str,
    partition_key: str | None = None,
):
    """Execute ``job`` in a worker thread while ``bar`` (if any) counts its finished steps; return its result."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = job.execute_in_process(
                run_config=run_config,
                instance=instance,
                run_id=run_id,
                raise_on_error=False,
                partition_key=partition_key,
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name=f"pmi-{job.name}", daemon=True)
    if bar is None:
        worker.start()
        worker.join()
    else:
        total = len(job.graph.nodes)
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[step]}"),
        )
        steps = StepCounter(instance, run_id)
        # No stdout/stderr redirection by rich: the run's own output belongs to the log (or, verbose, in place).
        with Progress(*columns, console=bar, transient=False, redirect_stdout=False, redirect_stderr=False) as progress:
            task = progress.add_task(label, total=total, step="")
            worker.start()
            while worker.is_alive():
                worker.join(POLL_SECONDS)
                steps.poll()
                progress.update(task, completed=min(steps.finished, total), step=steps.current)
            steps.poll()
            progress.update(task, completed=steps.finished, step="")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def execute_with_progress(
    job,
    run_config: dict[str, Any],
    instance,
    console: Console,
    label: str,
    *,
    verbose: bool | None = None,
    log_dir: Path | None = None,
    partition_key: str | None = None,
):
    """Execute ``job`` in process (raise_on_error=False) with a progress bar; return the Dagster result.

    ``partition_key`` is the run's partition for a partitioned job (the hourly job's data day).

    Quiet (the default; ``verbose=None`` reads ``PMI_VERBOSE``): fds 1 and 2 go to
    ``<log_dir or PMI_HOME/logs>/<job>-<UTC time>-<run id>.log`` for the run, and ``Log: <path>`` is printed on
    ``console`` afterwards (`last_run_log()` returns it). Verbose: the run prints where it always did.
    """
    quiet_telemetry_env()
    verbose = verbose_from_env() if verbose is None else verbose
    run_id = str(uuid.uuid4())
    if verbose:
        _last_log["path"] = None
        with terminal_stderr() as (terminal, width):
            return run_job(
                job, run_config, instance, run_id, bar_console(console, terminal, width), label, partition_key
            )
    path = run_log_path(log_dir or default_log_dir(run_config, instance), job.name, run_id)
    _last_log["path"] = path
    try:
        with captured_output(path, header=f"pmi {job.name}: Dagster run {run_id}") as (terminal, width):
            return run_job(
                job, run_config, instance, run_id, bar_console(console, terminal, width), label, partition_key
            )
    finally:
        console.print(f"Log: {path}", highlight=False, soft_wrap=True)
