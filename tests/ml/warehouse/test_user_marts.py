"""The user-level marts are kept within a data day only after a build that passed its tests, and a warehouse that
keeps them still reads as in step with raw (their rows reconcile with raw up to their own as-of)."""

from __future__ import annotations

import duckdb
import pytest
from dbt.adapters.duckdb.connections import DuckDBConnectionManager

from ml.operations.daily_refresh import daily_user_value_due
from ml.operations.freshness import IN_STEP, MIXED, warehouse_freshness
from ml.simulation.live import step_one_hour
from ml.warehouse.connection import warehouse_as_of
from ml.warehouse.user_marts import (
    USER_LEVEL_MODELS,
    hourly_rebuild_reason,
    record_user_marts_built,
    record_user_marts_validated,
    user_marts_are_current,
    user_marts_as_of,
    user_marts_validated,
)
from orchestration.warehouse.project import invoke_dbt


@pytest.fixture
def home(small_warehouse_copy):
    """The session's small warehouse, copied (with no record of a tested build)."""
    return small_warehouse_copy


def dbt(paths, *args: str) -> None:
    result = invoke_dbt(paths, args[0], paths.home / "scratch_target", *args[1:])
    DuckDBConnectionManager.close_all_connections()
    assert result.success, result.exception


def hourly_build(paths) -> None:
    """What an hourly run does while the user-level marts are current: build and test everything else."""
    dbt(paths, "build", "--exclude", *USER_LEVEL_MODELS)


def test_kept_within_the_data_day_then_due_on_the_next(home):
    assert "no record" in user_marts_are_current(home)
    assert "no record" in hourly_rebuild_reason(home)
    record_user_marts_built(home)
    assert user_marts_are_current(home) is None and daily_user_value_due(home) is None
    built = user_marts_as_of(home)

    step_one_hour(home)  # the view int_warehouse_as_of already counts the new hour, before any build
    assert warehouse_as_of(home) > built and warehouse_as_of(home).date() == built.date()
    assert user_marts_are_current(home) is None
    hourly_build(home)  # their tests (the reconciliations with raw included) are left out with them
    assert user_marts_as_of(home) == built
    assert warehouse_freshness(home).state == IN_STEP

    while warehouse_as_of(home).date() == built.date():
        step_one_hour(home)
    assert "a new data day" in user_marts_are_current(home)
    assert hourly_rebuild_reason(home) is None  # the hourly job keeps them: moving them is the daily job's
    assert daily_user_value_due(home).startswith("user-level marts built as of")
    hourly_build(home)
    behind = warehouse_freshness(home)  # the campaign marts are on the new day, the user marts on the last
    assert behind.state == MIXED and set(behind.behind) == {"marts.fct_user_value", "marts.fct_user_features"}


def test_a_build_that_did_not_pass_its_tests_is_not_kept(home):
    record_user_marts_built(home)
    step_one_hour(home)
    dbt(home, "run", "--select", "fct_user_value")  # rebuilt, then stopped before its tests and the rest
    assert "the last tested build was as of" in user_marts_are_current(home)
    assert "the last tested build was as of" in hourly_rebuild_reason(home)  # never kept, whatever the day


def test_kept_user_marts_hold_exactly_the_rows_before_their_as_of(home):
    record_user_marts_built(home)
    step_one_hour(home)
    hourly_build(home)
    built = user_marts_as_of(home)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        marts = con.execute("SELECT count(*), sum(n_events) FROM marts.fct_user_value").fetchone()
        raw_before = con.execute(
            """SELECT (SELECT count(*) FROM raw.users WHERE install_ts < $t),
                      (SELECT count(*) FROM raw.revenue_events WHERE event_ts < $t),
                      (SELECT count(*) FROM raw.users)""",
            {"t": built},
        ).fetchone()
    assert marts == raw_before[:2] and raw_before[2] > raw_before[0]  # new users arrived; none is half in


def test_a_quality_gate_pass_is_kept_only_for_the_build_it_validated(home):
    assert user_marts_validated(home) is None
    record_user_marts_validated(home)  # no tested build recorded: nothing to mark
    assert user_marts_validated(home) is None
    record_user_marts_built(home)
    assert user_marts_validated(home) is None  # built and tested, not yet through the gate
    record_user_marts_validated(home)
    assert user_marts_validated(home) == user_marts_as_of(home)
    step_one_hour(home)
    hourly_build(home)
    assert user_marts_validated(home) == user_marts_as_of(home)  # kept: the pass holds
    dbt(home, "build", "--select", *USER_LEVEL_MODELS)  # rebuilt as of the new hour
    record_user_marts_built(home)
    assert user_marts_validated(home) is None
