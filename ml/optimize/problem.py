"""The typed portfolio budget problem: per-campaign arrays, costs and constraints, validated up front.

Validation is vectorised but names the first offending campaign and field, because a budget run over
thousands of campaigns is only debuggable if the error says which row to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from ml.economics.costs import CostConfig
from ml.response_curves import CurveFamily, ResponseCurves

# The safety net's default move of any budget per run or period: the one definition every config imports.
DEFAULT_MAX_CHANGE_PCT = 0.25
# Cost rates are CostConfig's (ml/economics/costs.py); the optimiser takes its defaults from there.
_DEFAULT_COSTS = CostConfig()
DEFAULT_OVERHEAD_PCT = _DEFAULT_COSTS.overhead_pct
DEFAULT_AGENCY_FEE_PCT = _DEFAULT_COSTS.agency_fee_pct
DEFAULT_AMORTISATION_DAYS = _DEFAULT_COSTS.creative_amortisation_days


class ProblemValidationError(ValueError):
    """An input that cannot describe a campaign (the message names the campaign and the field)."""


class InfeasibleBudgetError(ProblemValidationError):
    """The floors (locks, min_spend, change limits) alone need more than the total budget."""


_PER_CAMPAIGN_FLOAT = (
    "current_budget",
    "value_per_conversion",
    "creative_production_cost",
    "min_spend",
    "max_spend",
    "max_change_pct",
    "min_change",
    "min_roas",
    "max_cpa",
)
_PER_CAMPAIGN_BOOL = ("has_agency", "locked")


@dataclass(frozen=True, eq=False)
class PortfolioProblem:
    """Everything the allocator needs, one entry per campaign (scalars broadcast to every campaign).

    Spends are daily media spend in the account currency. `max_change_pct` is the safety net against the
    current budget (inf = no limit); `min_change` is an absolute floor of that limit (a minimum test budget: the
    allowed move is max(max_change_pct x current, min_change)), so a campaign at budget 0 can be launched.
    `min_roas` caps spend where the marginal ROAS (value per extra media dollar) falls to it; `max_cpa` caps
    spend where the marginal CPA (media dollars per extra conversion) rises to it.
    """

    total_budget: float
    current_budget: np.ndarray
    curves: ResponseCurves
    value_per_conversion: np.ndarray
    campaign_id: np.ndarray | None = None
    has_agency: np.ndarray = False  # type: ignore[assignment]
    creative_production_cost: np.ndarray = 0.0  # type: ignore[assignment]
    min_spend: np.ndarray = 0.0  # type: ignore[assignment]
    max_spend: np.ndarray = np.inf  # type: ignore[assignment]
    max_change_pct: np.ndarray = DEFAULT_MAX_CHANGE_PCT  # type: ignore[assignment]
    min_change: np.ndarray = 0.0  # type: ignore[assignment]
    min_roas: np.ndarray = 0.0  # type: ignore[assignment]
    max_cpa: np.ndarray = np.inf  # type: ignore[assignment]
    locked: np.ndarray = False  # type: ignore[assignment]
    overhead_pct: float = DEFAULT_OVERHEAD_PCT
    agency_fee_pct: float = DEFAULT_AGENCY_FEE_PCT
    amortisation_days: float = DEFAULT_AMORTISATION_DAYS

    def __post_init__(self) -> None:
        n = len(self.curves)
        setter = object.__setattr__
        for name in _PER_CAMPAIGN_FLOAT + _PER_CAMPAIGN_BOOL:
            dtype = bool if name in _PER_CAMPAIGN_BOOL else float
            raw = getattr(self, name)
            try:
                value = np.broadcast_to(np.asarray(raw, dtype=dtype), (n,))
            except ValueError as exc:
                raise ProblemValidationError(
                    f"{name}: expected a scalar or {n} values (one per campaign), got shape {np.shape(raw)}"
                ) from exc
            setter(self, name, value)
        if self.campaign_id is not None:
            ids = np.asarray(self.campaign_id)
            if ids.shape != (n,):
                raise ProblemValidationError(f"campaign_id: expected {n} ids, got shape {ids.shape}")
            if len(pd.unique(ids)) != n:
                dup = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
                raise ProblemValidationError(f"campaign_id: duplicate id {dup!r}")
            setter(self, "campaign_id", ids)
        for name in ("total_budget", "overhead_pct", "agency_fee_pct", "amortisation_days"):
            setter(self, name, float(getattr(self, name)))
        self._validate()

    @property
    def n_campaigns(self) -> int:
        return len(self.curves)

    @property
    def cost_multiplier(self) -> np.ndarray:
        """Total cost per media dollar: 1 + overhead + agency fee where an agency runs the campaign."""
        return 1.0 + self.overhead_pct + self.agency_fee_pct * self.has_agency

    @property
    def fixed_daily_cost(self) -> np.ndarray:
        """Creative production amortised per day; paid only while the campaign spends."""
        return self.creative_production_cost / self.amortisation_days

    def campaign_name(self, index: int) -> str:
        """How errors and reports refer to a campaign: its id, or its row number without ids."""
        return f"'{self.campaign_id[index]}'" if self.campaign_id is not None else f"#{index}"

    def _fail(self, bad: np.ndarray, name: str, rule: str, values: np.ndarray | None = None) -> None:
        if bad.any():
            i = int(np.argmax(bad))
            shown = getattr(self, name) if values is None else values
            raise ProblemValidationError(
                f"campaign {self.campaign_name(i)} (row {i}): {name} {rule}, "
                f"got {shown[i]!r} ({int(bad.sum())} campaign(s) affected)"
            )

    def _validate(self) -> None:
        budget = self.total_budget
        if not (np.isfinite(budget) and budget >= 0):
            raise ProblemValidationError(f"total_budget must be finite and >= 0, got {budget!r}")
        for name in ("overhead_pct", "agency_fee_pct"):
            if not (np.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ProblemValidationError(f"{name} must be finite and >= 0, got {getattr(self, name)!r}")
        if not (np.isfinite(self.amortisation_days) and self.amortisation_days > 0):
            raise ProblemValidationError(f"amortisation_days must be > 0, got {self.amortisation_days!r}")
        c = self.curves
        if not all(a.shape == (self.n_campaigns,) for a in (c.family, c.scale, c.spend_scale, c.shape)):
            raise ProblemValidationError("curves: family, scale, spend_scale and shape need one value per campaign")
        self._fail(
            ~np.isin(c.family, [f.value for f in CurveFamily]),
            "curve family",
            "must be 0 (hill), 1 (exponential) or 2 (log)",
            c.family,
        )
        self._fail(~(np.isfinite(c.scale) & (c.scale > 0)), "curve scale", "must be finite and > 0", c.scale)
        self._fail(
            ~(np.isfinite(c.spend_scale) & (c.spend_scale > 0)),
            "curve spend_scale",
            "must be finite and > 0",
            c.spend_scale,
        )
        hill = c.family == CurveFamily.HILL
        self._fail(
            hill & ~(np.isfinite(c.shape) & (c.shape > 0)),
            "hill shape",
            "must be finite and > 0 (above 1: S-shaped, decided on/off on its concave envelope)",
            c.shape,
        )
        finite_nonneg = ("current_budget", "value_per_conversion", "creative_production_cost", "min_spend")
        for name in finite_nonneg:
            value = getattr(self, name)
            self._fail(~(np.isfinite(value) & (value >= 0)), name, "must be finite and >= 0")
        for name in ("max_spend", "max_change_pct", "min_change", "min_roas"):
            self._fail(~(getattr(self, name) >= 0), name, "must be >= 0 (inf allowed)")
        self._fail(~(self.max_cpa > 0), "max_cpa", "must be > 0 (inf for no cap)")
        self._fail(self.max_spend < self.min_spend, "max_spend", "must be >= min_spend")

    def replace(self, **changes: object) -> PortfolioProblem:
        """A copy with some fields changed (validated again)."""
        kwargs = {f.name: getattr(self, f.name) for f in fields(self)}
        kwargs.update(changes)
        return PortfolioProblem(**kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, total_budget: float, **settings: float) -> PortfolioProblem:
        """Build from one row per campaign; curve columns are `curve_family`, `curve_scale`,
        `curve_spend_scale` and `curve_shape` (optional), every other column is named like the field."""
        shape = frame["curve_shape"] if "curve_shape" in frame else 1.0
        curves = ResponseCurves.build(
            frame["curve_family"].to_numpy(),
            frame["curve_scale"].to_numpy(),
            frame["curve_spend_scale"].to_numpy(),
            np.asarray(shape, dtype=float),
        )
        columns = {
            name: frame[name].to_numpy()
            for name in (*_PER_CAMPAIGN_FLOAT, *_PER_CAMPAIGN_BOOL, "campaign_id")
            if name in frame
        }
        return cls(total_budget=total_budget, curves=curves, **columns, **settings)  # type: ignore[arg-type]
