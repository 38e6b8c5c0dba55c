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


class StepCounter:
    """Reads a run's step events as they arrive (from a cursor, so each poll reads only what is new)."""

    def __init__(self, instance, run_id: str) -> None:
        self.instance, self.run_id = instance, run_id
        self.cursor: str | None = None
        self.finished, self.current = 0, ""

    def poll(self) -> None:
        import dagster as dg

        kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS,
                 dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_SKIPPED}
        batch = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, of_type=kinds)
        self.cursor = batch.cursor or self.cursor
        for record in batch.records:
            event = record.event_log_entry.dagster_event
            if event.event_type == dg.DagsterEventType.STEP_START:
                self.current = event.step_key or ""
            else:
                self.finished += 1


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
    steps = StepCounter(instance, run_id)
    with Progress(*columns, console=console, transient=False) as progress:
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
