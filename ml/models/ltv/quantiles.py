"""Per-user LTV quantiles from out-of-sample residuals: conformal ratio quantiles in bins of the predicted mean.

User value is zero for most users and log-normal for payers, so its spread scales with its level. Users of a
hold-out set the learners never saw are grouped by whether they already paid and whether their 7-day window is
complete, then binned by predicted future value; within a bin the empirical quantiles of ``actual / predicted``
future value, times a user's predicted future value, give the quantiles. Cheap (no extra models) and calibrated
on data the learners did not fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX_BINS = 20
MIN_ROWS_PER_BIN = 200


def _group(known: np.ndarray, observed_days: np.ndarray) -> np.ndarray:
    """0..3: (already paid) x (full 7-day window observed)."""
    return (np.asarray(known) > 0).astype(int) * 2 + (np.asarray(observed_days) >= 7).astype(int)


@dataclass
class ConformalQuantiles:
    """Bin edges on predicted future value and ratio quantiles per bin, for each user group."""

    levels: tuple[float, ...] = (0.1, 0.5, 0.9)
    edges: dict[int, np.ndarray] = field(default_factory=dict)
    ratios: dict[int, np.ndarray] = field(default_factory=dict)  # group -> (bins x levels)
    fallback: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def fit(
        self, predicted: np.ndarray, actual: np.ndarray, known: np.ndarray, observed_days: np.ndarray
    ) -> ConformalQuantiles:
        """Learn ratio quantiles of future value from hold-out predictions and outcomes."""
        predicted = np.maximum(np.asarray(predicted, dtype=float), 1e-9)
        ratio = np.asarray(actual, dtype=float) / predicted
        self.fallback = np.quantile(ratio, self.levels) if len(ratio) else np.zeros(len(self.levels))
        groups = _group(known, observed_days)
        self.edges, self.ratios = {}, {}
        for g in np.unique(groups):
            rows = groups == g
            n_bins = int(np.clip(rows.sum() // MIN_ROWS_PER_BIN, 1, MAX_BINS))
            edges = np.unique(np.quantile(predicted[rows], np.linspace(0, 1, n_bins + 1)[1:-1]))
            bins = np.searchsorted(edges, predicted[rows], side="right")
            table = np.vstack(
                [
                    np.quantile(ratio[rows][bins == b], self.levels) if (bins == b).any() else self.fallback
                    for b in range(len(edges) + 1)
                ]
            )
            self.edges[int(g)], self.ratios[int(g)] = edges, table
        return self

    def predict(self, predicted: np.ndarray, known: np.ndarray, observed_days: np.ndarray) -> np.ndarray:
        """Quantiles of future value (rows x levels), non-decreasing across levels."""
        predicted = np.maximum(np.asarray(predicted, dtype=float), 0.0)
        out = np.tile(self.fallback, (len(predicted), 1))
        groups = _group(known, observed_days)
        for g, edges in self.edges.items():
            rows = groups == g
            out[rows] = self.ratios[g][np.searchsorted(edges, predicted[rows], side="right")]
        return np.maximum.accumulate(np.maximum(out, 0.0), axis=1) * predicted[:, None]
