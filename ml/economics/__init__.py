"""Unit economics: full cost accounting, and the LTV -> CPA -> ROAS -> ROI chain at any spend."""

from ml.economics.costs import CostConfig

__all__ = ["CostConfig"]
