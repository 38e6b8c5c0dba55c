"""The library behind `pmi allocate`: read a campaign export, fit response curves, optimise and explain budgets."""

from ml.allocate_cli.curves import fit_curves
from ml.allocate_cli.history import CampaignHistory, read_history
from ml.allocate_cli.inputs import default_current, read_constraints, read_current
from ml.allocate_cli.pipeline import AllocationRun, allocate, write_atomic
from ml.allocate_cli.problem import RunOptions
from ml.allocate_cli.report import OUTPUT_COLUMNS

__all__ = [
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
    "write_atomic",
]
