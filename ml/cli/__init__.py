"""The `pmi` command line."""
