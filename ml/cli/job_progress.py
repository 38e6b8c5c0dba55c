"""Run a Dagster job in process with a progress bar that advances as each step finishes.

The job runs in a worker thread; the main thread polls the run's event log (the persistent instance under
PMI_HOME), so the bar shows real step completions, and the run stays visible in `dagster dev` afterwards.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

POLL_SECONDS = 0.5


def _finished_steps(instance, run_id: str) -> tuple[int, str]:
    """Steps that succeeded, failed or were skipped so far, and the step that started last."""
    import dagster as dg

    done, current = 0, ""
    finished = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_SKIPPED}
    for record in instance.get_records_for_run(run_id, limit=100_000).records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        if event.event_type in finished:
            done += 1
        elif event.event_type == dg.DagsterEventType.STEP_START:
            current = event.step_key or ""
    return done, current


def execute_with_progress(job, run_config: dict[str, Any], instance, console: Console, label: str):
    """Execute ``job`` in process (raise_on_error=False) while a bar counts its finished steps."""
    run_id = str(uuid.uuid4())
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = job.execute_in_process(run_config=run_config, instance=instance, run_id=run_id,
                                                       raise_on_error=False)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = exc

    total = len(job.graph.nodes)
    worker = threading.Thread(target=work, name=f"pmi-{job.name}", daemon=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("[dim]{task.fields[step]}"))
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(label, total=total, step="")
        worker.start()
        while worker.is_alive():
            worker.join(POLL_SECONDS)
            done, current = _finished_steps(instance, run_id)
            progress.update(task, completed=min(done, total), step=current)
        progress.update(task, completed=_finished_steps(instance, run_id)[0], step="")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
