"""Data-quality gates as Dagster asset checks."""
