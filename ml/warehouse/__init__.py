"""The DuckDB warehouse: raw-table contract, atomic loads and connections."""
