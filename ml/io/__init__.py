"""File helpers shared by every layer (no layer above is imported here)."""
