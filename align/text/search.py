"""Finding where a transcript best matches inside an interval of the clean text.

Phase 1 ranks windows of the text (as long as the pattern) by how many of the pattern's
3-grams they contain; phase 2 runs Smith-Waterman around the best few windows. The 3-gram
index is built once per document: occurrence positions grouped by 3-gram code (CSR layout), so
counting a pattern's 3-grams in an interval is a binary search plus a contiguous slice per code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .sw import MAX_MATRIX_CELLS, SwParams, encode, sw_best_raw, sw_fill, sw_kernel, sw_trace


@dataclass(frozen=True)
class SearchParams:
    max_candidates: int = 10          # --align-max-candidates: distinct places tried
    candidate_threshold: float = 0.8  # --align-candidate-threshold: of the best place's 3-gram count
    sw: SwParams = SwParams()         # --align-match-score / -mismatch-score / -gap-score


@dataclass(frozen=True)
class Match:
    start: int      # clean-text span [start, end)
    end: int
    score: float    # normalised Smith-Waterman score (the `sws` metric)
    # Best score elsewhere in the searched interval relative to this one (upper bounds of both):
    # close to 1 when the transcript fits a repeated passage as well as here.
    ambiguity: float = 0.0


@njit(cache=True, nogil=True)
def _count_windows(codes, offsets, positions, lo, hi, window, counts, touched):
    """Add, per window (position // window), how many of the pattern's distinct 3-grams occur in it
    (within [lo, hi)); `codes` must be distinct.

    Returns the number of distinct windows touched (their ids are in `touched`, first-seen order).
    """
    nt = 0
    # p // window with a float reciprocal (+ exact correction): a 64-bit integer division per
    # occurrence was most of the search time.
    inv = 1.0 / window
    for c in codes:
        s = offsets[c]
        e = offsets[c + 1]
        if s == e:
            continue
        # binary search the sorted positions of this code for lo
        a = np.searchsorted(positions[s:e], lo)
        last = -1
        for k in range(s + a, e):
            p = positions[k]
            if p >= hi:
                break
            w = int(p * inv)
            if (w + 1) * window <= p:
                w += 1
            elif w * window > p:
                w -= 1
            # a 3-gram counts once per window: repeated phrases must not outweigh the true place
            if w == last:
                continue
            last = w
            if counts[w] == 0:
                touched[nt] = w
                nt += 1
            counts[w] += 1
    return nt


@njit(cache=True, nogil=True)
def _pattern_codes(pattern, cps, k, uniq):
    """Distinct compact 3-gram ids of ' ' + pattern + ' ' (those absent from the text dropped),
    sorted. Character ids: the index in the sorted code points `cps`, k - 1 for one the text
    lacks."""
    n = pattern.shape[0]
    ids = np.empty(n + 2, np.int64)
    space = np.searchsorted(cps, 32)
    ids[0] = space
    ids[n + 1] = space
    last = cps.shape[0] - 1
    for i in range(n):
        c = pattern[i]
        pos = min(np.searchsorted(cps, c), last)
        ids[i + 1] = pos if cps[pos] == c else k - 1
    out = np.empty(n, np.int64)
    m = 0
    top = uniq.shape[0] - 1
    for i in range(n):
        code = ids[i] * (k * k) + ids[i + 1] * k + ids[i + 2]
        pos = min(np.searchsorted(uniq, code), top)
        if uniq[pos] == code:
            out[m] = pos
            m += 1
    return np.unique(out[:m])


@njit(cache=True, nogil=True)
def _find_best(pattern, cps, k, uniq, text, offsets, positions, lo, hi, max_candidates, threshold,
               match, mismatch, gap, min_score, counts, touched, marks):
    n = pattern.shape[0]
    best_score = -1.0
    best = (0, 0, lo, lo)
    if n == 0 or hi <= lo:
        return 0.0, lo, lo, 0.0
    if hi - lo < 2 * n:
        raw, a0, a1, b0, b1 = sw_kernel(pattern, text, lo, hi, match, mismatch, gap)
        if raw == 0:
            return 0.0, lo, lo, 0.0
        d = match * max(b1 - b0, n)
        return raw / d, b0, b1, 0.0
    codes = _pattern_codes(pattern, cps, k, uniq)
    # Count in half-windows and rank pairs of neighbouring half-windows (one pattern length):
    # wherever the pattern's text lies, some pair holds it whole, so a true match is never split
    # between two windows that each count only part of it.
    half = max(1, n // 2)
    nt = _count_windows(codes, offsets, positions, lo, hi, half, counts, touched)
    if nt == 0:
        return 0.0, lo, lo, 0.0
    np_ = 0
    pair_ids = np.empty(2 * nt, np.int64)
    pair_cnt = np.empty(2 * nt, np.int64)
    for t in range(nt):
        h = touched[t]
        for st in (h - 1, h):
            if st < 0 or marks[st] != 0:
                continue
            marks[st] = 1
            pair_ids[np_] = st
            pair_cnt[np_] = counts[st] + counts[st + 1]
            np_ += 1
    for t in range(np_):
        marks[pair_ids[t]] = 0
    for t in range(nt):
        counts[touched[t]] = 0  # leave the scratch arrays clean for the next call
    # Only pairs within `threshold` of the best count can be tried (the loop below stops at the
    # first one under it): sort just those.
    keep = pair_cnt[:np_] / pair_cnt[:np_].max() >= threshold
    ids = pair_ids[:np_][keep]
    cnt = pair_cnt[:np_][keep]
    # most shared 3-grams first; ties: leftmost pair (deterministic)
    order = np.argsort(-cnt * (ids.max() + 1) + ids)
    first = 0.0
    tried = 0
    hm = np.empty(1, np.int32)  # the first candidate's score matrix
    bi = bj = 0
    cand_w = np.empty(max_candidates, np.int64)
    cand_bound = np.empty(max_candidates, np.float64)
    best_w = -1
    for r in range(ids.shape[0]):
        if tried >= max_candidates:
            break
        k = order[r]
        c = cnt[k]
        if first > 0 and c / first < threshold:
            break
        w = ids[k]
        # A pair next to one already taken is the same place (its region overlaps): the slots
        # go to distinct places, so a repeated passage never hides the true one.
        near = False
        for t in range(tried):
            if abs(cand_w[t] - w) <= 1:
                near = True
                break
        if near:
            continue
        if first == 0:
            first = c
        # the pair plus half a pattern length of slack on each side
        s = max(lo, (w - 1) * half)
        e = min(hi, (w + 3) * half)
        # raw / (match * n) bounds the normalised score from above: skip the span computation
        # for candidates that can neither pass min_score nor beat the best so far.
        # The first (best-counted) candidate is usually the winner: its score matrix is kept, so
        # its span is a traceback away; the others get the score-only pass first.
        store = tried == 0 and (n + 1) * (e - s + 1) <= MAX_MATRIX_CELLS and match * n < 1 << 31
        if store:
            hm = np.empty((n + 1) * (e - s + 1), np.int32)
            raw, bi, bj = sw_fill(pattern, text, s, e, match, mismatch, gap, hm)
        else:
            raw = sw_best_raw(pattern, text, s, e, match, mismatch, gap)
        bound = raw / (match * n)
        cand_w[tried] = w
        cand_bound[tried] = bound
        tried += 1
        if bound < min_score or bound <= best_score:
            continue
        if store:
            if raw == 0:
                continue
            a0, b0 = sw_trace(pattern, text, s, e, match, mismatch, gap, hm, bi, bj)
            a1 = bi
            b0 += s
            b1 = s + bj
        else:
            raw, a0, a1, b0, b1 = sw_kernel(pattern, text, s, e, match, mismatch, gap)
            if raw == 0:
                continue
        score = raw / (match * max(b1 - b0, n))
        if score > best_score:
            best_score = score
            best = (a0, a1, b0, b1)
            best_w = w
    if best_score < 0:
        return 0.0, lo, lo, 0.0
    # How close the best candidate elsewhere (regions not overlapping the winner's) came:
    # near 1 means the transcript fits two places of the text equally well.
    top = 0.0
    runner = 0.0
    for t in range(tried):
        if cand_w[t] == best_w:
            top = cand_bound[t]
        elif abs(cand_w[t] - best_w) >= 4 and cand_bound[t] > runner:
            runner = cand_bound[t]
    return best_score, best[2], best[3], runner / top if top > 0 else 0.0


class TrigramIndex:
    """The clean text of one document, encoded, with its 3-gram occurrence index."""

    def __init__(self, clean: str):
        self.clean = clean
        self.text = encode(clean)
        # Small dense ids per character so a 3-gram is one integer code.
        chars = sorted(set(clean) | {" "})
        self._cps = np.array([ord(ch) for ch in chars], dtype=np.int64)  # sorted: ids by binary search
        self._k = len(chars) + 1  # id k-1: a character the text does not contain
        padded = self._char_ids(" " + clean + " ")
        k = self._k
        codes = padded[:-2] * (k * k) + padded[1:-1] * k + padded[2:]
        self._ncodes = k ** 3
        # A 3-gram's position is the clean-text offset of its middle character.
        order = np.argsort(codes, kind="stable")
        self._sorted_codes = codes[order]
        self._positions = order.astype(np.int64)
        # first index of each distinct code in the sorted codes (np.unique would import numpy.ma)
        sc = self._sorted_codes
        starts = np.ones(len(sc), bool)
        starts[1:] = sc[1:] != sc[:-1]
        first = np.flatnonzero(starts)
        uniq = sc[first]
        # Compact code space: pattern codes are mapped through `uniq` by binary search.
        self._uniq = uniq
        self._offsets = np.append(first, len(order)).astype(np.int64)
        self._counts = np.zeros(len(clean) + 3, np.int64)
        self._touched = np.zeros(len(clean) + 3, np.int64)
        self._marks = np.zeros(len(clean) + 3, np.int8)

    def _char_ids(self, s: str) -> np.ndarray:
        """Dense ids of the characters of s (k-1 for a character the text lacks), vectorised."""
        cps = encode(s).astype(np.int64)
        pos = np.searchsorted(self._cps, cps)
        pos = np.minimum(pos, len(self._cps) - 1)
        return np.where(self._cps[pos] == cps, pos, self._k - 1)

    def pattern_codes(self, pattern: str) -> np.ndarray:
        """Distinct compact 3-gram ids of ' ' + pattern + ' ' (those absent from the text dropped)."""
        return _pattern_codes(encode(pattern), self._cps, self._k, self._uniq)

    def find_best(self, pattern: str, start: int, end: int, params: SearchParams, min_score: float = 0.0) -> Match | None:
        """Best match of `pattern` inside clean[start:end], or None when nothing aligns (with a
        normalised score of at least min_score)."""
        if not pattern or end <= start:
            return None
        p = encode(pattern)
        score, b0, b1, ambiguity = _find_best(
            p, self._cps, self._k, self._uniq, self.text, self._offsets, self._positions, start, end,
            params.max_candidates, params.candidate_threshold,
            params.sw.match, params.sw.mismatch, params.sw.gap, min_score, self._counts, self._touched, self._marks,
        )
        if score <= 0 or b1 <= b0:
            return None
        return Match(int(b0), int(b1), float(score), float(ambiguity))


__all__ = ["Match", "SearchParams", "TrigramIndex"]
