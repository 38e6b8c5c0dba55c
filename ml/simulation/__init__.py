"""Traffic simulator: a portfolio of paid campaigns, their hourly delivery, users, revenue and market feeds."""

from ml.simulation.config import SimulationConfig

__all__ = ["SimulationConfig"]
