"""The reference's own unit-test expectations for its mining function (stopes
test_mine_index_utils: hand-made 3x3 distance/index arrays, k=3, threshold 1.04, ratio margin),
checked against this project's margin, extraction and selection functions.

The reference stores squared L2 distances d of unit vectors and scores 2 - d (= 2 cos); the ratio
margin is scale-free, so feeding cos = 1 - d/2 must give its ratio matrices exactly. Intended
differences (see algo.md, "Reference test cases"):
* union: the reference lists a pair found in both directions twice; here it appears once, with
  the better score and direction 'both';
* dedup: the reference's cases use no one-to-one step; here one_to_one is the default, so the
  expectations are checked with dedup none, and one_to_one is checked separately (it must keep
  the best pairs, which the row-order bug did not).
"""

import numpy as np
import pytest

from align.mine.autothreshold import decide
from align.mine.blend import choose
from align.mine.config import MarginNorm, MarginType, MineType, ThresholdOn
from align.mine.margin import margins, neighbourhood
from align.mine.select import BOTH, BWD, FWD, combine, one_to_one, threshold

D_X2Y = np.array([[0.2, 0.3, 0.6], [0.7, 0.2, 0.4], [0.1, 0.0, 1.0]])
I_X2Y = np.array([[0, 1, 2], [1, 2, 0], [0, 2, 1]])
D_Y2X = np.array([[0.8, 0.3, 0.1], [0.7, 0.2, 0.9], [0.1, 0.0, 1.0]])
I_Y2X = np.array([[1, 2, 0], [0, 2, 1], [0, 1, 2]])
# the reference's documented ratio margins (its comments), per neighbour column
RATIO_X2Y = np.array([[1.11340206, 1.12087912, 0.85714286],
                      [0.87640449, 1.125, 1.01052632],
                      [1.17525773, 1.2244898, 0.65934066]])
RATIO_Y2X = np.array([[0.75789474, 1.05154639, 1.17525773],
                      [0.85714286, 1.18681319, 0.74157303],
                      [1.16326531, 1.25, 0.6122449]])
THRESHOLD = 1.04


def _margins():
    sx, sy = (1 - D_X2Y / 2).astype(np.float32), (1 - D_Y2X / 2).astype(np.float32)
    nx = neighbourhood(sx, I_X2Y, MarginNorm.MEAN)
    ny = neighbourhood(sy, I_Y2X, MarginNorm.MEAN)
    return margins(sx, I_X2Y, nx, ny, MarginType.RATIO), margins(sy, I_Y2X, ny, nx, MarginType.RATIO)


def _mine(mine_type: str, k_extract: int = 1, dedup: bool = False):
    mx, my = _margins()
    fwd = choose(mx, I_X2Y, k_extract, alpha=0.5)
    bwd = choose(my, I_Y2X, k_extract, alpha=0.5)
    p = threshold(combine(fwd, bwd, MineType(mine_type)), ThresholdOn.MARGIN, THRESHOLD, None)
    return one_to_one(p) if dedup else p


def test_ratio_margins_equal_the_reference_matrices():
    mx, my = _margins()
    np.testing.assert_allclose(mx, RATIO_X2Y, rtol=1e-6)
    np.testing.assert_allclose(my, RATIO_Y2X, rtol=1e-6)


@pytest.mark.parametrize("mine_type,src,tgt", [
    ("forward", [2, 1, 0], [2, 2, 1]),
    ("backward", [1, 2, 0], [2, 1, 0]),
])
def test_forward_backward_exact_pairs_in_score_order(mine_type, src, tgt):
    p = _mine(mine_type)
    assert p.src.tolist() == src and p.tgt.tolist() == tgt
    assert np.all(np.diff(p.score) <= 0)


def test_union_lists_each_pair_once():
    # reference: src [1,2,2,0,1,0], tgt [2,2,1,0,2,1] -- (1,2) twice (backward 1.25, forward 1.125)
    p = _mine("union")
    assert p.src.tolist() == [1, 2, 2, 0, 0] and p.tgt.tolist() == [2, 2, 1, 0, 1]
    assert p.direction.tolist() == [BOTH, FWD, BWD, BWD, FWD]
    np.testing.assert_allclose(p.margin, [1.25, 1.2244898, 1.18681319, 1.17525773, 1.12087912], rtol=1e-6)


def test_k_extract_2_forward_is_up_to_two_pairs_per_row():
    p = _mine("forward", k_extract=2)
    assert p.src.tolist() == [2, 2, 1, 0, 0] and p.tgt.tolist() == [2, 0, 2, 1, 0]
    # row 1's second candidate (1.0105) is below the threshold
    assert len(p) == 5


def test_one_to_one_keeps_the_best_pair_in_forward_and_backward():
    # forward candidates by score: (2,2) 1.224, (1,2) 1.125, (0,1) 1.121; in row order the old
    # code kept (0,1), (1,2) and dropped the best pair (2,2)
    f = _mine("forward", dedup=True)
    assert list(zip(f.src.tolist(), f.tgt.tolist())) == [(2, 2), (0, 1)]
    b = _mine("backward", dedup=True)
    assert list(zip(b.src.tolist(), b.tgt.tolist())) == [(1, 2), (2, 1), (0, 0)]
    u = _mine("union", dedup=True)
    assert list(zip(u.src.tolist(), u.tgt.tolist())) == [(1, 2), (2, 1), (0, 0)]


def test_one_to_one_on_forward_with_rows_out_of_score_order():
    # a larger random case: forward + one_to_one equals the greedy oracle on score-sorted pairs
    rng = np.random.default_rng(4)
    n, k = 60, 5
    ids = np.stack([rng.choice(20, k, replace=False) for _ in range(n)])  # 60 sources -> 20 targets: collisions
    m = rng.uniform(0.9, 1.3, (n, k)).astype(np.float32)
    for mt, ch in (("forward", choose(m, ids, 1, alpha=0.5)),):
        got = one_to_one(threshold(combine(ch, None, MineType(mt)), ThresholdOn.MARGIN, 1.0, None))
        best = m.max(axis=1)
        cand = sorted(((float(best[i]), i, int(ids[i, m[i].argmax()])) for i in range(n) if best[i] >= 1.0),
                      key=lambda x: (-x[0], x[1], x[2]))
        used_s, used_t, want = set(), set(), []
        for _, s, t in cand:
            if s not in used_s and t not in used_t:
                used_s.add(s), used_t.add(t), want.append((s, t))
        assert list(zip(got.src.tolist(), got.tgt.tolist())) == want


def test_runner_up_is_the_best_candidate_not_extracted():
    mx, _ = _margins()
    ch = choose(mx, I_X2Y, 1, alpha=0.5)
    np.testing.assert_allclose(ch.runner_up_margin, [1.11340206, 1.01052632, 1.17525773], rtol=1e-6)
    ch2 = choose(mx, I_X2Y, 2, alpha=0.5)
    np.testing.assert_allclose(ch2.runner_up_margin, [0.85714286, 0.87640449, 0.65934066], rtol=1e-6)


def test_fixed_threshold_is_reported_as_fixed():
    d = decide(np.array([1.0, 1.1]), np.array([1.0]), np.array([0.9]), "mixture", fixed=1.04)
    assert d.threshold == 1.04 and d.method == "fixed"
