"""Margin values on a hand-made case, computed by hand in the comments."""

import numpy as np
import pytest

from align.mine.config import MarginNorm, MarginType
from align.mine.margin import margins, neighbourhood

# Two sources, three targets, k = 2 neighbours per row.
# x2y: source 0 -> targets (0: cos .9, 1: cos .5); source 1 -> targets (2: .8, 0: .6)
X2Y_SIMS = np.array([[0.9, 0.5], [0.8, 0.6]], np.float32)
X2Y_IDS = np.array([[0, 1], [2, 0]])
# y2x: target 0 -> (0: .9, 1: .6); target 1 -> (0: .5, 1: .3); target 2 -> (1: .8, 0: .2)
Y2X_SIMS = np.array([[0.9, 0.6], [0.5, 0.3], [0.8, 0.2]], np.float32)
Y2X_IDS = np.array([[0, 1], [0, 1], [1, 0]])


def test_neighbourhood_mean_and_last():
    # mean: source 0: (.9+.5)/2 = .7 ; source 1: (.8+.6)/2 = .7
    assert neighbourhood(X2Y_SIMS, X2Y_IDS, MarginNorm.MEAN) == pytest.approx([0.7, 0.7])
    # targets: (.9+.6)/2 = .75 ; (.5+.3)/2 = .4 ; (.8+.2)/2 = .5
    assert neighbourhood(Y2X_SIMS, Y2X_IDS, MarginNorm.MEAN) == pytest.approx([0.75, 0.4, 0.5])
    # last = the k-th cosine: .5, .6 and .6, .3, .2
    assert neighbourhood(X2Y_SIMS, X2Y_IDS, MarginNorm.LAST) == pytest.approx([0.5, 0.6])
    assert neighbourhood(Y2X_SIMS, Y2X_IDS, MarginNorm.LAST) == pytest.approx([0.6, 0.3, 0.2])


def test_ratio_distance_absolute_by_hand():
    nx = np.array([0.7, 0.7], np.float32)
    ny = np.array([0.75, 0.4, 0.5], np.float32)
    ratio = margins(X2Y_SIMS, X2Y_IDS, nx, ny, MarginType.RATIO)
    # (0,0): .9 / ((.7+.75)/2) = .9/.725 = 1.241379 ; (0,1): .5 / ((.7+.4)/2) = .5/.55 = 0.909091
    # (1,2): .8 / ((.7+.5)/2)  = .8/.6   = 1.333333 ; (1,0): .6 / ((.7+.75)/2) = .6/.725 = 0.827586
    assert ratio == pytest.approx(np.array([[1.241379, 0.909091], [1.333333, 0.827586]]), abs=1e-5)
    dist = margins(X2Y_SIMS, X2Y_IDS, nx, ny, MarginType.DISTANCE)
    # .9-.725 = .175 ; .5-.55 = -.05 ; .8-.6 = .2 ; .6-.725 = -.125 (cosine scale, not 2x)
    assert dist == pytest.approx(np.array([[0.175, -0.05], [0.2, -0.125]]), abs=1e-6)
    absolute = margins(X2Y_SIMS, X2Y_IDS, nx, ny, MarginType.ABSOLUTE)
    assert absolute == pytest.approx(X2Y_SIMS)


def test_missing_neighbours_are_ignored_not_crashing():
    # faiss pads with id -1 (sim NaN): the mean uses the valid ones, the margin is -inf there.
    sims = np.array([[0.9, np.nan], [np.nan, np.nan]], np.float32)
    ids = np.array([[1, -1], [-1, -1]])
    nb = neighbourhood(sims, ids, MarginNorm.MEAN)
    assert nb[0] == pytest.approx(0.9) and np.isnan(nb[1])
    assert neighbourhood(sims, ids, MarginNorm.LAST)[0] == pytest.approx(0.9)
    m = margins(sims, ids, nb, np.array([0.5, 0.7], np.float32), MarginType.RATIO)
    # (0,1): .9 / ((.9 + .7)/2) = .9/.8 = 1.125
    assert m[0, 0] == pytest.approx(1.125)
    assert np.isneginf(m[0, 1]) and np.isneginf(m[1]).all()
