"""The range of Hill shapes a response fit may take, set per fit.

A Hill shape above 1 is an S-shaped (thresholded) curve. Whether the fit may find one is a modelling choice of
each fit, not of the code: the same estimation serves the warehouse loop (concave, the default) and `pmi allocate`
on exports whose curves no one drew. ``ResponseFitConfig.hill_shape_max`` sets it for the duration of one fit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
from scipy import special

# Hill shape n = hill_shape_max() * expit(theta[2]); the Beta prior is on n / hill_shape_max(). Above 1 a curve is
# S-shaped (a threshold before it responds), which the optimiser handles (``ml/optimize/nonconcave.py``) and
# `pmi allocate`, the warehouse loop and the backtest pass through. Every path fits with the default, 1 (concave):
# a range of 3 spread the simulator's concave campaigns past 1 (greedy's closed-loop profit on tuning seed 0 fell
# 5.3%), and for `pmi allocate` it gained on the unowned-curves benchmark's tuning seeds but lost on its held-out
# ones (README, Known gaps). ``ResponseFitConfig.hill_shape_max`` sets it per fit.
DEFAULT_HILL_SHAPE_MAX = 1.0
_hill_shape_max: ContextVar[float] = ContextVar("hill_shape_max", default=DEFAULT_HILL_SHAPE_MAX)


def hill_shape_max() -> float:
    """The largest Hill shape the fit in progress may take."""
    return _hill_shape_max.get()


@contextmanager
def hill_shape_range(shape_max: float) -> Iterator[None]:
    """Fit with Hill shapes in (0, ``shape_max``) inside the block (per thread and task, as a context variable)."""
    token = _hill_shape_max.set(float(shape_max))
    try:
        yield
    finally:
        _hill_shape_max.reset(token)


def hill_shape(eta: np.ndarray | float) -> np.ndarray:
    """The Hill shape of a logit-shape parameter."""
    return hill_shape_max() * special.expit(eta)


def hill_logit(shape: np.ndarray | float) -> np.ndarray:
    """The logit-shape parameter of a Hill shape in (0, hill_shape_max())."""
    return special.logit(np.asarray(shape, dtype=float) / hill_shape_max())
