"""Data-quality gates: Great Expectations suites for the raw contract tables and the marts (no Dagster here)."""

from ml.quality.results import ERROR, WARNING, RuleResult, TableReport
from ml.quality.runner import docs_index, validate
from ml.quality.suites import mart_suites, raw_suites

__all__ = ["ERROR", "WARNING", "RuleResult", "TableReport", "docs_index", "mart_suites", "raw_suites", "validate"]
