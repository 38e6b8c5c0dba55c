"""Expected daily conversions against daily spend, one curve per campaign, families mixed in one vectorised object.

Parameters, one array each: ``family`` (int8 codes of ``CurveFamily``), ``scale`` (maximum daily conversions for
Hill and exponential; the log family's multiplier), ``spend_scale`` (Hill: the half-saturation spend) and ``shape``
(Hill only; stored as 1 elsewhere). Hill with shape in (0, 1], exponential and log are increasing and concave; a
Hill shape above 1 is S-shaped (a threshold before it responds), which the optimiser handles through ``envelope``
and an on/off decision.

The *saturation level* in [0, 1] is the share of the attainable maximum already bought for the bounded families;
the log family has no maximum, so its level is the share of the initial efficiency already lost,
``1 - marginal(spend) / marginal(0) = spend / (spend + spend_scale)`` - the number a shape-1 Hill curve with the
same ``spend_scale`` reports, so ``spend_scale`` is the 50% point in every family except the exponential one,
whose 50% point is ``spend_scale * ln 2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike

from ml.response_curves.blocks import KIND_NAMES, KindBlock
from ml.response_curves.family import CurveFamily, family_codes
from ml.response_curves.hill import tangent_spend


def _kinds(family: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Internal kind per campaign (see ``KIND_NAMES``)."""
    hill = np.where(shape == 1.0, 1, np.where(shape > 1.0, 4, 0))
    return np.where(family == CurveFamily.HILL, hill, family + 1)


@dataclass(frozen=True, eq=False)
class ResponseCurves:
    """Conversions-per-day response of every campaign (see the module docstring); build with ``build`` or the
    per-family constructors, which coerce names and broadcast."""

    family: np.ndarray
    scale: np.ndarray
    spend_scale: np.ndarray
    shape: np.ndarray
    seg_lo: np.ndarray | None = None  # envelope mode (see `envelope`): linear piece per S-shaped campaign
    seg_hi: np.ndarray | None = None

    @classmethod
    def build(cls, family: object, scale: object, spend_scale: object, shape: object = 1.0) -> ResponseCurves:
        """Broadcast and coerce inputs (family: members, codes or names); shape is set to 1 off Hill."""
        fam = family_codes(family)
        scale_a = np.atleast_1d(np.asarray(scale, dtype=float))
        n = max(scale_a.size, fam.size, np.size(spend_scale), np.size(shape))
        k_a, shape_a = np.asarray(spend_scale, dtype=float), np.asarray(shape, dtype=float)
        fam, sc, k, sh = np.broadcast_arrays(fam, scale_a, k_a, shape_a)
        fam, sc, k, sh = (np.ascontiguousarray(np.broadcast_to(a, (n,))) for a in (fam, sc, k, sh))
        return cls(fam, sc, k, np.where(fam == CurveFamily.HILL, sh, 1.0))

    @classmethod
    def hill(cls, max_conversions: object, half_saturation_spend: object, shape: object) -> ResponseCurves:
        return cls.build(CurveFamily.HILL, max_conversions, half_saturation_spend, shape)

    @classmethod
    def exponential(cls, max_conversions: object, spend_scale: object) -> ResponseCurves:
        return cls.build(CurveFamily.EXPONENTIAL, max_conversions, spend_scale)

    @classmethod
    def log(cls, scale: object, spend_scale: object) -> ResponseCurves:
        return cls.build(CurveFamily.LOG, scale, spend_scale)

    def __len__(self) -> int:
        return self.scale.size

    def take(self, index: ArrayLike) -> ResponseCurves:
        """The curves of a subset (or permutation) of campaigns."""
        index = np.asarray(index)
        seg = (None, None) if self.seg_lo is None else (self.seg_lo[index], self.seg_hi[index])
        return ResponseCurves(self.family[index], self.scale[index], self.spend_scale[index], self.shape[index], *seg)

    @property
    def s_shaped(self) -> np.ndarray:
        """Campaigns whose curve is not concave (Hill shape > 1)."""
        return (self.family == CurveFamily.HILL) & (self.shape > 1.0)

    def envelope(self, floor: np.ndarray, ceiling: np.ndarray) -> ResponseCurves:
        """The curves with each S-shaped one replaced by its concave envelope on [floor, ceiling]: the chord from
        the floor to the tangent point (or to the ceiling, if that comes first), then the curve itself."""
        s = self.s_shaped
        lo = np.where(s, np.asarray(floor, float), np.nan)
        hi = np.full(lo.shape, np.nan)
        if s.any():
            b = tangent_spend(self.scale[s], self.spend_scale[s], self.shape[s], lo[s])
            hi[s] = np.minimum(b, np.asarray(ceiling, float)[s])
        hi = np.where(s & (hi > lo), hi, np.nan)
        lo = np.where(np.isnan(hi), np.nan, lo)
        return ResponseCurves(self.family, self.scale, self.spend_scale, self.shape, lo, hi)

    def exact(self) -> ResponseCurves:
        """The curves themselves (no envelope)."""
        return ResponseCurves(self.family, self.scale, self.spend_scale, self.shape)

    def family_order(self) -> np.ndarray:
        """A permutation grouping campaigns by internal kind, so per-family work runs on contiguous slices."""
        return np.argsort(_kinds(self.family, self.shape), kind="stable")

    @cached_property
    def _blocks(self) -> tuple[KindBlock, ...]:
        kinds = _kinds(self.family, self.shape)
        blocks = []
        sorted_ = kinds.size < 2 or bool(np.all(kinds[1:] >= kinds[:-1]))
        for kind in np.unique(kinds):
            if sorted_:
                start, stop = np.searchsorted(kinds, [kind, kind + 1])
                where: slice | np.ndarray = slice(int(start), int(stop))
            else:
                where = np.flatnonzero(kinds == kind)
            seg = (None, None) if self.seg_lo is None else (self.seg_lo[where], self.seg_hi[where])
            blocks.append(
                KindBlock(KIND_NAMES[kind], where, self.scale[where], self.spend_scale[where], self.shape[where], *seg)
            )
        return tuple(blocks)

    def _apply(self, method: str, x: ArrayLike, upper: np.ndarray | None = None) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.ndim == 2:  # (campaigns, points): every campaign's curve at several spends
            out = np.empty(x.shape)
            for block in self._blocks:
                out[block.where] = getattr(block.columns(), method)(x[block.where])
            return out
        x = np.broadcast_to(x, self.scale.shape)
        blocks = self._blocks
        if len(blocks) == 1 and isinstance(blocks[0].where, slice):
            args = (x,) if upper is None else (x, upper)
            return getattr(blocks[0], method)(*args)
        out = np.empty(self.scale.shape)
        for block in blocks:
            if method == "spend_at_marginal":
                out[block.where] = block.spend_at_marginal(
                    x[block.where], None if upper is None else upper[block.where]
                )
            else:
                out[block.where] = getattr(block, method)(x[block.where])
        return out

    def value(self, spend: ArrayLike) -> np.ndarray:
        """Expected conversions per day at each campaign's spend ((campaigns,) or (campaigns, points))."""
        return self._apply("value", np.maximum(spend, 0.0))

    def marginal(self, spend: ArrayLike) -> np.ndarray:
        """Extra conversions per extra dollar at each campaign's spend (infinite at 0 for Hill shape < 1)."""
        return self._apply("marginal", np.maximum(spend, 0.0))

    def spend_at_marginal(self, target: ArrayLike, upper: ArrayLike | None = None) -> np.ndarray:
        """Spend at which the marginal response falls to `target` per campaign (inf if target <= 0).

        `upper`, if given, must hold spends at or above the answer (e.g. the answer for smaller targets); it
        only speeds up the Hill Newton iteration.
        """
        if upper is None:
            return self._apply("spend_at_marginal", target)
        return self._apply("spend_at_marginal", target, np.asarray(upper, dtype=float))

    def _columns(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """Family masks and parameters shaped to broadcast against ``x`` ((campaigns,) or (campaigns, points))."""
        arrays = (self.family == CurveFamily.HILL, self.family == CurveFamily.EXPONENTIAL, self.spend_scale, self.shape)
        return tuple(a[:, None] for a in arrays) if x.ndim == 2 else arrays

    def saturation(self, spend: ArrayLike) -> np.ndarray:
        """Saturation level in [0, 1] at ``spend``, increasing (see the module docstring)."""
        s = np.maximum(np.asarray(spend, dtype=float), 0.0)
        hill, expo, k, shape = self._columns(s)
        x = s / k
        r = np.power(x, np.where(hill, shape, 1.0))
        return np.where(hill, r / (1.0 + r), np.where(expo, -np.expm1(-x), x / (1.0 + x)))

    def spend_at_saturation(self, level: ArrayLike) -> np.ndarray:
        """Daily spend at which the saturation level reaches ``level`` (0.5: the half-saturation spend)."""
        q = np.clip(np.asarray(level, dtype=float), 0.0, 1.0)
        hill, expo, k, shape = self._columns(q)
        with np.errstate(divide="ignore"):
            odds = q / (1.0 - q)
            hill_spend = np.power(odds, 1.0 / np.where(hill, shape, 1.0))
            return k * np.where(hill, hill_spend, np.where(expo, -np.log1p(-q), odds))

    @property
    def half_saturation_spend(self) -> np.ndarray:
        """Spend at a saturation level of one half."""
        return self.spend_at_saturation(np.full(len(self), 0.5))
