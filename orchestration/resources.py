"""Dagster resources: where pmi keeps its state."""

from __future__ import annotations

import dagster as dg
from pydantic import PrivateAttr

from ml.settings import PmiPaths, pmi_paths
from ml.warehouse.run_lock import RunLockBusy, acquire_run_lock, release_run_lock
from orchestration.production import run_lock_delegated
from orchestration.warehouse.project import code_location_home


class PmiHomeResource(dg.ConfigurableResource):
    """The data directory holding the warehouse, MLflow and Feast state (default: ``PMI_HOME`` or ./data).

    A run holds the directory's run lock from setup to teardown, so a job launched from the UI or a schedule
    never writes under a `pmi` command (or another run); a `pmi` command executing the job in its own process
    already holds the lock, and the re-entrant acquire lets its job through. A step on a Celery worker (production
    profile) runs while the launching process holds the lock for its run (``run_lock_delegated``) and takes none.
    """

    home: str | None = None
    _locked: PmiPaths | None = PrivateAttr(default=None)

    def location(self) -> PmiPaths:
        """The configured home, else ``PMI_HOME``, else the repository's ./data (whatever the cwd)."""
        return pmi_paths(self.home) if self.home else code_location_home()

    def paths(self) -> PmiPaths:
        return self.location().ensure()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        paths = self.paths()
        if context.run is not None and run_lock_delegated(context.run.tags, paths.home):
            return
        command = f"dagster run {context.run.run_id}" if context.run is not None else "dagster"
        try:
            acquire_run_lock(paths, command)
        except RunLockBusy as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        self._locked = paths

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._locked is not None:
            release_run_lock(self._locked)
            self._locked = None
