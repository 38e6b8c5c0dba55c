"""Media-mix modelling for channel-level data (total outcome per period, spend per channel): geometric adstock,
Hill saturation, a penalised fit with bootstrap intervals, lift-test calibration and allocation through ml/optimize."""

from ml.models.mmm.allocation import ChannelAllocation, allocate_channels, steady_state_curves
from ml.models.mmm.config import MmmConfig
from ml.models.mmm.data import MediaData, MmmInputError, media_data, read_weekly_media
from ml.models.mmm.lift import LiftTests, lift_tests, read_lift_tests
from ml.models.mmm.model import BaselineOnlyModel, fit_mmm
from ml.models.mmm.result import PARAMETERS, MmmResult, nrmse, r_squared

__all__ = [
    "PARAMETERS",
    "BaselineOnlyModel",
    "ChannelAllocation",
    "LiftTests",
    "MediaData",
    "MmmConfig",
    "MmmInputError",
    "MmmResult",
    "allocate_channels",
    "fit_mmm",
    "lift_tests",
    "media_data",
    "nrmse",
    "r_squared",
    "read_lift_tests",
    "read_weekly_media",
    "steady_state_curves",
]
