"""Reporting: the executive dashboard, regenerated after each allocation run."""
