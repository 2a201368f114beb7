"""Smith-Waterman against a brute-force oracle: the best local alignment score is the best
global (Needleman-Wunsch) score over all pairs of substrings."""

from functools import lru_cache

from hypothesis import given, settings, strategies as st

from align.text.sw import SwParams, smith_waterman


def global_score(a: str, b: str, p: SwParams) -> int:
    @lru_cache(maxsize=None)
    def f(i: int, j: int) -> int:
        if i == 0:
            return p.gap * j
        if j == 0:
            return p.gap * i
        s = p.match if a[i - 1] == b[j - 1] else p.mismatch
        return max(f(i - 1, j - 1) + s, f(i - 1, j) + p.gap, f(i, j - 1) + p.gap)

    return f(len(a), len(b))


def brute_force_local(a: str, b: str, p: SwParams) -> int:
    best = 0
    for i0 in range(len(a)):
        for i1 in range(i0 + 1, len(a) + 1):
            for j0 in range(len(b)):
                for j1 in range(j0 + 1, len(b) + 1):
                    best = max(best, global_score(a[i0:i1], b[j0:j1], p))
    return best


small = st.text(alphabet="abc ", max_size=7)
params = st.sampled_from([SwParams(), SwParams(2, -1, -1), SwParams(3, -2, -1), SwParams(100, 0, -50)])


@settings(max_examples=150, deadline=None)
@given(small, small, params)
def test_score_and_span_match_brute_force(a, b, p):
    r = smith_waterman(a, b, p)
    best = brute_force_local(a, b, p)
    assert r.raw == best
    if best > 0:
        # the reported spans really achieve the best score
        assert global_score(a[r.pattern_start:r.pattern_end], b[r.text_start:r.text_end], p) == best
    else:
        assert r.text_start == r.text_end


@settings(max_examples=60, deadline=None)
@given(small, st.text(alphabet="abc ", max_size=12), st.integers(0, 12), st.integers(0, 12))
def test_interval_restriction(a, b, lo, hi):
    lo, hi = min(lo, hi, len(b)), min(max(lo, hi), len(b))
    r = smith_waterman(a, b, SwParams(), lo, hi)
    assert r.raw == brute_force_local(a, b[lo:hi], SwParams())
    if r.raw > 0:
        assert lo <= r.text_start < r.text_end <= hi


def test_normalised_score_is_one_only_for_exact_match():
    text = "she sells sea shells by the sea shore"
    assert smith_waterman("sea shells", text).score == 1.0
    r = smith_waterman("sea shells", text)
    assert text[r.text_start:r.text_end] == "sea shells"
    noisy = smith_waterman("see shells", text)
    assert 0.5 < noisy.score < 1.0
    # A partial match is normalised by the pattern's length: "shells" of "shells zzzzzz".
    part = smith_waterman("shells zzzzzz", text)
    assert abs(part.score - 6 * 100 / (100 * 13)) < 0.08


def test_traceback_kernel_equals_start_tracking_kernel():
    """sw_kernel (score matrix + traceback) and sw_kernel_linear (each cell carries its path's
    start) must agree exactly, ties included: the search's spans depend on it. Small alphabets
    and integer scores make ties between the diagonal and the gaps common."""
    import numpy as np

    from align.text.sw import sw_kernel, sw_kernel_linear

    rng = np.random.default_rng(7)
    scores = [(100, -100, -100), (2, -1, -1), (3, -2, -1), (1, -1, -2), (100, 0, -50), (5, -1, -3)]
    for t in range(20000):
        alpha = int(rng.integers(1, 5))
        a = rng.integers(0, alpha, int(rng.integers(0, 14))).astype(np.uint32)
        b = rng.integers(0, alpha, int(rng.integers(0, 26))).astype(np.uint32)
        lo = int(rng.integers(0, len(b) + 1))
        hi = int(rng.integers(lo, len(b) + 1))
        args = (a, b, lo, hi, *scores[t % len(scores)])
        assert tuple(sw_kernel(*args)) == tuple(sw_kernel_linear(*args)), args


def test_pattern_codes_match_numpy_oracle():
    """The numba 3-gram ids of a pattern equal a direct numpy computation."""
    import random

    import numpy as np

    from align.text.search import TrigramIndex

    rng = random.Random(3)
    clean = "".join(rng.choice("abcde ") for _ in range(3000))
    ix = TrigramIndex(clean)
    chars = sorted(set(clean))
    for _ in range(300):
        p = "".join(rng.choice("abcdexy \u00e9") for _ in range(rng.randint(1, 25)))
        ids = [chars.index(ch) if ch in chars else len(chars) for ch in " " + p + " "]
        k = len(chars) + 1
        codes = {ids[i] * k * k + ids[i + 1] * k + ids[i + 2] for i in range(len(p))}
        want = sorted(int(np.searchsorted(ix._uniq, c)) for c in codes if c in set(ix._uniq.tolist()))
        assert ix.pattern_codes(p).tolist() == want
