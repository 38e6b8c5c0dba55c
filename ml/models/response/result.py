"""The fitted response curves of a portfolio: point curves, posterior draws, intervals and fit statistics.

Spend arguments are daily dollars in the units the curves were fitted in - market-neutral dollars when the
panel carried a price index (divide a nominal budget by the day's price index first) - and demand is
that of an average day of the fit window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ml.response_curves import ResponseCurves, family_names

_DRAW_COLUMNS = ("draws_scale", "draws_spend_scale", "draws_shape")
_CURVE_COLUMNS = ("family", "scale", "spend_scale", "shape")


@dataclass
class ResponseCurveSet:
    """One fitted curve per campaign with ``draws`` of shape (campaigns, n_draws, 3) as (scale, spend_scale, shape)."""

    campaign_ids: np.ndarray
    groups: np.ndarray
    curves: ResponseCurves
    draws: np.ndarray
    half_saturation_interval: np.ndarray
    stats: pd.DataFrame
    demand_effects: dict[str, float] = field(default_factory=dict)
    hyperparameters: dict[str, float] = field(default_factory=dict)
    interval_level: float = 0.9

    def __post_init__(self) -> None:
        n = len(self.campaign_ids)
        if len(self.curves) != n or self.draws.shape[0] != n or self.draws.shape[2:] != (3,):
            raise ValueError("curves, draws and campaign_ids disagree on the number of campaigns")
        self._position = {cid: i for i, cid in enumerate(self.campaign_ids)}

    def __len__(self) -> int:
        return len(self.campaign_ids)

    @property
    def n_draws(self) -> int:
        return int(self.draws.shape[1])

    def index_of(self, campaign_ids: Sequence[str] | np.ndarray | None) -> np.ndarray:
        """Positions of campaigns in this set (all campaigns for ``None``); unknown ids raise ``KeyError``."""
        if campaign_ids is None:
            return np.arange(len(self))
        return np.array(
            [self._position[cid] for cid in np.atleast_1d(np.asarray(campaign_ids, dtype=object))], dtype=int
        )

    def curves_for(self, campaign_ids: Sequence[str] | np.ndarray | None = None) -> ResponseCurves:
        """Point-estimate curves of the given campaigns, in the given order."""
        return self.curves.take(self.index_of(campaign_ids))

    def expected_conversions(self, campaign_ids: Sequence[str] | np.ndarray | None, spend: ArrayLike) -> np.ndarray:
        """Expected daily conversions per campaign at a daily spend ((campaigns,) or (campaigns, points))."""
        return self.curves_for(campaign_ids).value(spend)

    def expected_revenue(
        self, campaign_ids: Sequence[str] | np.ndarray | None, spend: ArrayLike, value_per_conversion: ArrayLike
    ) -> np.ndarray:
        """Expected daily revenue: conversions times a value per conversion supplied by the value models."""
        conversions = self.expected_conversions(campaign_ids, spend)
        value = np.asarray(value_per_conversion, dtype=float)
        return conversions * (value[:, None] if conversions.ndim == 2 and value.ndim == 1 else value)

    def marginal(self, campaign_ids: Sequence[str] | np.ndarray | None, spend: ArrayLike) -> np.ndarray:
        """Marginal conversions per extra dollar at a daily spend."""
        return self.curves_for(campaign_ids).marginal(spend)

    def saturation(self, campaign_ids: Sequence[str] | np.ndarray | None, spend: ArrayLike) -> np.ndarray:
        """Saturation level in [0, 1] at a daily spend (see ``ml.response_curves``)."""
        return self.curves_for(campaign_ids).saturation(spend)

    def spend_at_saturation(self, campaign_ids: Sequence[str] | np.ndarray | None, level: ArrayLike) -> np.ndarray:
        """Daily spend at which each campaign reaches a saturation level."""
        return self.curves_for(campaign_ids).spend_at_saturation(level)

    def spend_at_marginal(self, campaign_ids: Sequence[str] | np.ndarray | None, target: ArrayLike) -> np.ndarray:
        """Daily spend at which one more dollar buys ``target`` conversions."""
        return self.curves_for(campaign_ids).spend_at_marginal(target)

    @property
    def half_saturation_spend(self) -> np.ndarray:
        """Point estimate of each campaign's spend at 50% saturation."""
        return self.curves.half_saturation_spend

    def draw_curves(self, draw: int, campaign_ids: Sequence[str] | np.ndarray | None = None) -> ResponseCurves:
        """The curves of one stored posterior draw (the same draw index for every campaign)."""
        idx = self.index_of(campaign_ids)
        params = self.draws[idx, draw]
        return ResponseCurves.build(self.curves.family[idx], params[:, 0], params[:, 1], params[:, 2])

    def sample_curves(
        self, rng: np.random.Generator, campaign_ids: Sequence[str] | np.ndarray | None = None
    ) -> ResponseCurves:
        """One posterior draw per campaign, independently across campaigns (a Thompson-sampling step)."""
        idx = self.index_of(campaign_ids)
        params = self.draws[idx, rng.integers(0, self.n_draws, size=len(idx))]
        return ResponseCurves.build(self.curves.family[idx], params[:, 0], params[:, 1], params[:, 2])

    def summary(self) -> pd.DataFrame:
        """One row per campaign: curve, half-saturation interval and fit statistics (no draws)."""
        head = pd.DataFrame(
            {
                "campaign_id": self.campaign_ids,
                "group": self.groups,
                "family": family_names(self.curves.family),
                "scale": self.curves.scale,
                "spend_scale": self.curves.spend_scale,
                "shape": self.curves.shape,
                "half_saturation_spend": self.half_saturation_spend,
                "half_saturation_low": self.half_saturation_interval[:, 0],
                "half_saturation_high": self.half_saturation_interval[:, 1],
            }
        )
        return pd.concat([head, self.stats.reset_index(drop=True)], axis=1)

    def to_frame(self) -> pd.DataFrame:
        """Summary plus draws as list columns; settings travel in ``frame.attrs`` (parquet/MLflow friendly)."""
        frame = self.summary()
        for j, name in enumerate(_DRAW_COLUMNS):
            frame[name] = list(self.draws[:, :, j])
        frame.attrs.update(
            {
                "demand_effects": dict(self.demand_effects),
                "hyperparameters": dict(self.hyperparameters),
                "interval_level": self.interval_level,
            }
        )
        return frame

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        demand_effects: dict[str, float] | None = None,
        hyperparameters: dict[str, float] | None = None,
        interval_level: float | None = None,
    ) -> ResponseCurveSet:
        """Rebuild from :meth:`to_frame` output (or a parquet round trip of it)."""
        fixed = {
            "campaign_id",
            "group",
            *_CURVE_COLUMNS,
            "half_saturation_spend",
            "half_saturation_low",
            "half_saturation_high",
            *_DRAW_COLUMNS,
        }
        draws = np.stack([np.stack([np.asarray(v, dtype=float) for v in frame[c]]) for c in _DRAW_COLUMNS], axis=-1)
        return cls(
            campaign_ids=frame["campaign_id"].to_numpy(dtype=object),
            groups=frame["group"].to_numpy(dtype=object),
            curves=ResponseCurves.build(
                frame["family"].to_numpy(dtype=object),
                frame["scale"].to_numpy(float),
                frame["spend_scale"].to_numpy(float),
                frame["shape"].to_numpy(float),
            ),
            draws=draws,
            half_saturation_interval=frame[["half_saturation_low", "half_saturation_high"]].to_numpy(float),
            stats=frame[[c for c in frame.columns if c not in fixed]].reset_index(drop=True),
            demand_effects=dict(
                demand_effects if demand_effects is not None else frame.attrs.get("demand_effects", {})
            ),
            hyperparameters=dict(
                hyperparameters if hyperparameters is not None else frame.attrs.get("hyperparameters", {})
            ),
            interval_level=float(
                interval_level if interval_level is not None else frame.attrs.get("interval_level", 0.9)
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (lists and floats only)."""
        frame = self.to_frame()
        columns = {c: [v.tolist() if isinstance(v, np.ndarray) else _plain(v) for v in frame[c]] for c in frame}
        return {
            "interval_level": self.interval_level,
            "demand_effects": {k: float(v) for k, v in self.demand_effects.items()},
            "hyperparameters": {k: float(v) for k, v in self.hyperparameters.items()},
            "campaigns": columns,
        }

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> ResponseCurveSet:
        """Rebuild from :meth:`to_dict` output."""
        return cls.from_frame(
            pd.DataFrame(payload["campaigns"]),
            payload.get("demand_effects", {}),
            payload.get("hyperparameters", {}),
            payload.get("interval_level", 0.9),
        )


def _plain(value: Any) -> Any:
    """Numpy scalars to Python scalars for JSON."""
    return value.item() if isinstance(value, np.generic) else value
