"""Feature store assets: exports of the feature marts, the Feast registry and the online store."""
