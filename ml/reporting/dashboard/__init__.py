"""The executive dashboard: one self-contained HTML page built from the warehouse after each allocation run."""

from ml.reporting.dashboard.page import DashboardPage, build_dashboard, dashboard_path

__all__ = ["DashboardPage", "build_dashboard", "dashboard_path"]
