"""Where pmi keeps its state: one data directory (``PMI_HOME``) holding the warehouse, MLflow and Feast."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

DEFAULT_HOME = "data"


class PmiPaths(BaseModel):
    """Absolute paths of everything pmi writes, derived from one home directory so tests can redirect it."""

    home: Path

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def mlflow_dir(self) -> Path:
        return self.home / "mlflow"

    @property
    def feast_dir(self) -> Path:
        return self.home / "feast"

    @property
    def dashboard_page(self) -> Path:
        """The executive dashboard (one self-contained HTML page)."""
        return self.home / "dashboard" / "index.html"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    def ensure(self) -> PmiPaths:
        """Create the home directory (idempotent) and return self."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self


def pmi_paths(home: str | os.PathLike[str] | None = None) -> PmiPaths:
    """Resolve the data directory: explicit argument, else ``PMI_HOME``, else ``./data``.

    The resolved absolute path is exported back to ``PMI_HOME`` so that child processes (dbt) agree.
    """
    raw = home if home is not None else os.environ.get("PMI_HOME", DEFAULT_HOME)
    path = Path(raw).expanduser().resolve()
    os.environ["PMI_HOME"] = str(path)
    return PmiPaths(home=path)
