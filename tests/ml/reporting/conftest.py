"""Fixtures for the dashboard tests: one small full pipeline run (the Chromium checker is in tests/conftest.py)."""

from __future__ import annotations

import pytest

from ml.settings import PmiPaths


@pytest.fixture(scope="session")
def dashboard_pipeline(pipeline_run) -> tuple[PmiPaths, object]:
    """The shared full pipeline run (tests/conftest.py); its dashboard asset wrote the page."""
    paths, result = pipeline_run
    assert result.success
    return paths, result
