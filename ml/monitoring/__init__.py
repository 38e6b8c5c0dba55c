"""Self-checks: how accurate past predictions were, stored per metric and model version."""
