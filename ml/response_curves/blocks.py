"""One kind of curve for a run (or index set) of campaigns: value, slope and inverse slope without per-campaign
branching, so a portfolio evaluates in one numpy call per kind."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ml.response_curves.hill import (
    concave_spend_at_marginal,
    hill_marginal,
    hill_value,
    s_shaped_spend_at_marginal,
    safe_log,
)

# Internal kinds: a Hill shape exactly 1 has a closed-form inverse, above 1 the curve is S-shaped.
KIND_NAMES = ("hill", "hill1", "exp", "log", "hill_s")


@dataclass(frozen=True, eq=False)
class KindBlock:
    """One kind's parameters for a contiguous run (or index set) of campaigns.

    Kind "hill_s" is an S-shaped Hill curve (shape > 1): convex, then concave. ``seg_lo``/``seg_hi`` (when set)
    replace it on [seg_lo, seg_hi] by the chord between those points: its concave envelope on a spend box, which
    is what the KKT solver maximises before the on/off decision (``ml/optimize/nonconcave.py``).
    """

    kind: str  # one of KIND_NAMES
    where: slice | np.ndarray
    scale: np.ndarray
    spend_scale: np.ndarray
    shape: np.ndarray
    seg_lo: np.ndarray | None = None
    seg_hi: np.ndarray | None = None

    def columns(self) -> KindBlock:
        """The same block with parameters as columns, to evaluate a (campaigns, points) grid of spends."""
        seg = {} if self.seg_lo is None else {"seg_lo": self.seg_lo[:, None], "seg_hi": self.seg_hi[:, None]}
        return replace(
            self, scale=self.scale[:, None], spend_scale=self.spend_scale[:, None], shape=self.shape[:, None], **seg
        )

    def _segment(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The linear piece of the envelope: ends, value at the lower end and slope (NaN ends: none)."""
        lo, hi = self.seg_lo, self.seg_hi
        with np.errstate(invalid="ignore", divide="ignore"):
            f_lo = hill_value(self.scale, self.spend_scale, self.shape, np.nan_to_num(lo))
            f_hi = hill_value(self.scale, self.spend_scale, self.shape, np.nan_to_num(hi))
            slope = np.where(hi > lo, (f_hi - f_lo) / (hi - lo), 0.0)
        return lo, hi, f_lo, slope

    def value(self, s: np.ndarray) -> np.ndarray:
        if self.kind == "hill_s":
            out = hill_value(self.scale, self.spend_scale, self.shape, s)
            if self.seg_lo is None:
                return out
            lo, hi, f_lo, slope = self._segment()
            inside = (s > lo) & (s < hi)
            return np.where(inside, f_lo + slope * (s - np.nan_to_num(lo)), out)
        if self.kind == "exp":
            return self.scale * -np.expm1(-(s / self.spend_scale))
        if self.kind == "log":
            return self.scale * np.log1p(s / self.spend_scale)
        return hill_value(self.scale, self.spend_scale, None if self.kind == "hill1" else self.shape, s)

    def marginal(self, s: np.ndarray) -> np.ndarray:
        if self.kind == "hill_s":
            out = hill_marginal(self.scale, self.spend_scale, self.shape, s)
            if self.seg_lo is None:
                return out
            lo, hi, _, slope = self._segment()
            return np.where((s >= lo) & (s < hi), slope, out)
        x = s / self.spend_scale
        if self.kind == "exp":
            return self.scale / self.spend_scale * np.exp(-x)
        if self.kind == "log":
            return self.scale / (self.spend_scale + s)
        if self.kind == "hill1":
            return self.scale / self.spend_scale / (1.0 + x) ** 2
        return hill_marginal(self.scale, self.spend_scale, self.shape, s)

    def spend_at_marginal(self, target: np.ndarray, upper: np.ndarray | None = None) -> np.ndarray:
        """Spend where the marginal response equals `target` (0 if below target from the first dollar)."""
        if self.kind == "hill_s":
            return s_shaped_spend_at_marginal(
                self.scale, self.spend_scale, self.shape, self.seg_lo, self.seg_hi, target
            )
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            ratio = target * self.spend_scale / self.scale  # target in units of the slope scale vmax/k
            if self.kind == "exp":
                x = -safe_log(ratio)
            elif self.kind == "log":
                x = 1.0 / ratio - 1.0
            elif self.kind == "hill1":
                x = 1.0 / np.sqrt(ratio) - 1.0
            else:
                x = concave_spend_at_marginal(self.shape, ratio, self.spend_scale, upper)
            return np.where(ratio <= 0.0, np.inf, self.spend_scale * np.maximum(x, 0.0))
