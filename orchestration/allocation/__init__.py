"""Allocation assets, the hourly job and its schedule."""
