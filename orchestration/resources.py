"""Dagster resources: where pmi keeps its state."""

from __future__ import annotations

import dagster as dg

from ml.settings import PmiPaths, pmi_paths


class PmiHomeResource(dg.ConfigurableResource):
    """The data directory holding the warehouse, MLflow and Feast state (default: ``PMI_HOME`` or ./data)."""

    home: str | None = None

    def paths(self) -> PmiPaths:
        return pmi_paths(self.home).ensure()
