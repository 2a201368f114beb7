"""Margin scores (Artetxe & Schwenk 2019) on true cosines.

For a query x with neighbours y_1..y_k (cosines c_j) and the other direction's neighbourhood
terms, the margin of candidate y is

    ratio:    cos(x, y) / ((n(x) + n(y)) / 2)
    distance: cos(x, y) - (n(x) + n(y)) / 2
    absolute: cos(x, y)

where n(.) is the mean cosine of a row's k nearest neighbours in the other language
(`margin_norm: mean`) or the cosine of its k-th neighbour (`last`). The reference computes the
same quantities from squared L2 distances as 2 - d, which doubles the distance and absolute
margins; here all three are on the cosine scale.
"""

from __future__ import annotations

import numpy as np

from .config import MarginNorm, MarginType


def neighbourhood(sims: np.ndarray, ids: np.ndarray, norm: MarginNorm) -> np.ndarray:
    """Per-row neighbourhood term over the valid (id >= 0) neighbours; NaN for a row without any."""
    valid = ids >= 0
    count = valid.sum(axis=1)
    out = np.full(len(sims), np.nan, dtype=np.float32)
    has = count > 0
    if norm is MarginNorm.MEAN:
        total = np.where(valid, sims, 0.0).sum(axis=1, dtype=np.float64)
        out[has] = (total[has] / count[has]).astype(np.float32)
    else:
        # the last valid column (neighbours are sorted best first, padding is at the end)
        out[has] = sims[np.nonzero(has)[0], count[has] - 1]
    return out


def margins(sims: np.ndarray, ids: np.ndarray, own: np.ndarray, other: np.ndarray,
            margin_type: MarginType) -> np.ndarray:
    """(n, k) margins of each row's neighbours; -inf where the neighbour is missing or the
    margin is undefined (e.g. a NaN neighbourhood term)."""
    valid = ids >= 0
    safe_ids = np.where(valid, ids, 0)
    if margin_type is MarginType.ABSOLUTE:
        out = sims.astype(np.float32, copy=True)
    else:
        denom = (own[:, None] + other[safe_ids]) / np.float32(2.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            if margin_type is MarginType.RATIO:
                out = sims / denom
            else:
                out = sims - denom
    out = out.astype(np.float32, copy=False)
    out[~valid | ~np.isfinite(out)] = -np.inf
    return out
