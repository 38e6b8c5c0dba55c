"""Read-only summaries of the warehouse for people (terminal tables, later the dashboard)."""
