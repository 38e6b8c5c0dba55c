"""Running pmi for weeks: retention of its own history, run hygiene, warehouse freshness and output safety.

No Dagster here: the Dagster-specific parts (run deletion, marking dead runs failed) live in
``orchestration/housekeeping.py`` and are handed the instance.
"""
