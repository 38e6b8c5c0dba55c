"""Closed-loop backtest: pmi and baseline policies run the simulated market forward day by day, scored on profit."""

from ml.backtest.config import BacktestConfig
from ml.backtest.loop import BacktestResult, run_backtest

__all__ = ["BacktestConfig", "BacktestResult", "run_backtest"]
