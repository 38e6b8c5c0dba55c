"""Portfolio budget optimiser: exact KKT water-filling of daily budgets over concave response curves."""

from ml.optimize.constraints import REASON_TEXT, Reason, SpendBox, spend_box
from ml.optimize.objective import ObjectiveName, ObjectiveWeights
from ml.optimize.optimizer import optimize_portfolio
from ml.optimize.problem import InfeasibleBudgetError, PortfolioProblem, ProblemValidationError
from ml.optimize.result import Allocation

__all__ = [
    "REASON_TEXT",
    "Allocation",
    "InfeasibleBudgetError",
    "ObjectiveName",
    "ObjectiveWeights",
    "PortfolioProblem",
    "ProblemValidationError",
    "Reason",
    "SpendBox",
    "optimize_portfolio",
    "spend_box",
]
