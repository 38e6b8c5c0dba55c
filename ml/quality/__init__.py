"""Data-quality gates: Great Expectations suites for the raw contract tables and the marts (no Dagster here).

Names are imported on first use, so `ml.quality.plausibility` (read by `pmi ingest`) does not pull in Great
Expectations, which takes seconds to import.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ERROR": "ml.quality.results",
    "WARNING": "ml.quality.results",
    "RuleResult": "ml.quality.results",
    "TableReport": "ml.quality.results",
    "docs_index": "ml.quality.runner",
    "validate": "ml.quality.runner",
    "mart_suites": "ml.quality.suites",
    "raw_suites": "ml.quality.suites",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ml.quality' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
