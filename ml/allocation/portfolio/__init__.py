"""Portfolio allocation from a campaign export (the library behind `pmi allocate`): read, fit, optimise, explain."""

from ml.allocation.portfolio.curves import fit_curves
from ml.allocation.portfolio.history import CampaignHistory, read_history
from ml.allocation.portfolio.inputs import default_current, read_constraints, read_current
from ml.allocation.portfolio.pipeline import AllocationRun, allocate
from ml.allocation.portfolio.problem import RunOptions
from ml.allocation.portfolio.report import EXACT_COLUMNS, OUTPUT_COLUMNS

__all__ = [
    "EXACT_COLUMNS",
    "OUTPUT_COLUMNS",
    "AllocationRun",
    "CampaignHistory",
    "RunOptions",
    "allocate",
    "default_current",
    "fit_curves",
    "read_constraints",
    "read_current",
    "read_history",
]
