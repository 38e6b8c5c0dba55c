"""Shared fixtures: every test that writes state gets its own PMI_HOME."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("MLFLOW_ENABLE_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture
def pmi_home(tmp_path, monkeypatch):
    """A fresh data directory exported as PMI_HOME for the duration of one test."""
    home = tmp_path / "pmi_home"
    home.mkdir()
    monkeypatch.setenv("PMI_HOME", str(home))
    return home
