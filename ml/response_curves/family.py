"""The three response-curve families and their names, so configs, stored curves and arrays share one vocabulary.

In arrays a family is its int8 code (the enum's value), which keeps per-family dispatch vectorised; in configs,
files and metric names it is the member's lower-case name ("hill", "exponential", "log"), which is what
``str()`` and f-strings of a member give.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike


class CurveFamily(IntEnum):
    """Hill ``scale * r / (1 + r)`` with ``r = (spend / spend_scale) ** shape``; exponential
    ``scale * (1 - exp(-spend / spend_scale))``; log ``scale * log1p(spend / spend_scale)``."""

    HILL = 0
    EXPONENTIAL = 1
    LOG = 2

    def __str__(self) -> str:
        return self.name.lower()

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


FAMILY_NAMES: tuple[str, ...] = tuple(str(f) for f in CurveFamily)
_CODE_OF_NAME = {**{name: i for i, name in enumerate(FAMILY_NAMES)}, **{str(i): i for i in range(len(FAMILY_NAMES))}}


def family_codes(family: ArrayLike) -> np.ndarray:
    """int8 codes of families given as members, codes or names (any case); unknown names raise ``ValueError``."""
    fam = np.asarray(family)
    if fam.dtype.kind not in "UO":
        return fam.astype(np.int8)
    labels, inverse = np.unique(np.char.lower(fam.astype(str)), return_inverse=True)
    unknown = [str(label) for label in labels if label not in _CODE_OF_NAME]
    if unknown:
        raise ValueError(f"unknown response-curve families: {unknown}; known: {list(FAMILY_NAMES)}")
    return np.array([_CODE_OF_NAME[label] for label in labels], dtype=np.int8)[inverse].reshape(fam.shape)


def family_names(codes: ArrayLike) -> np.ndarray:
    """The names of family codes (an object array), as stored in files and tables."""
    return np.array(FAMILY_NAMES, dtype=object)[np.asarray(codes, dtype=int)]
