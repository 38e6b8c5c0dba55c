"""The progress bar of `pmi run` / `pmi train` counts a real Dagster run's finished steps."""

from __future__ import annotations

import io

import dagster as dg
from rich.console import Console

from ml.cli.job_progress import StepCounter, execute_with_progress


@dg.op
def first() -> int:
    return 1


@dg.op
def second(value: int) -> int:
    return value + 1


@dg.op
def third(value: int) -> int:
    if value != 2:
        raise ValueError("the chain broke")
    return value


@dg.job
def three_steps():
    third(second(first()))


def test_the_bar_counts_every_finished_step():
    instance = dg.DagsterInstance.ephemeral()
    output = io.StringIO()
    result = execute_with_progress(three_steps, {}, instance, Console(file=output, width=100), "three steps")
    assert result.success
    counter = StepCounter(instance, result.run_id)
    counter.poll()
    assert counter.finished == 3
    counter.poll()  # from its cursor: nothing new, nothing counted twice
    assert counter.finished == 3
    assert "3/3" in output.getvalue()
