"""Feature store: exports of the marts served through Feast (offline point-in-time joins and an online store)."""
