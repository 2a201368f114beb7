"""Smith-Waterman local alignment of a transcript (pattern) against a span of the clean text.

Written with numba rather than taken from a library (parasail, edlib) because the search needs
the exact span of the text that the best local alignment covers plus its raw score, in linear
memory, called thousands of times on short strings from inside other numba code; the libraries
either report only end positions or cost more per call than the alignment itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


@dataclass(frozen=True)
class SwParams:
    match: int = 100
    mismatch: int = -100
    gap: int = -100


@dataclass(frozen=True)
class SwResult:
    score: float        # normalised: raw / (match * max(text span length, pattern length)); 1.0 = perfect
    raw: int            # raw Smith-Waterman score
    text_start: int     # the aligned text span [text_start, text_end), absolute offsets
    text_end: int
    pattern_start: int  # the aligned part of the pattern
    pattern_end: int


def encode(s: str) -> np.ndarray:
    """A string as an array of code points (what the numba kernels compare)."""
    return np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32)


# Largest score matrix (cells) that sw_kernel stores for a traceback; bigger problems use the
# start-tracking kernel in linear memory (same result, about twice the time per cell).
MAX_MATRIX_CELLS = 1 << 22


@njit(cache=True, nogil=True, inline="always")
def _cell(diag, up, left, sub, gap):
    """One cell of the local-alignment recurrence (linear gaps, zero floor): the substitution
    from the diagonal unless a gap from above or the left scores strictly more."""
    v = diag + sub
    g = (up if up > left else left) + gap
    if g > v:
        v = g
    return v if v > 0 else 0


@njit(cache=True, nogil=True)
def sw_fill(a, b, b_lo, b_hi, match, mismatch, gap, h):
    """Fill the score matrix h[(n + 1) * (m + 1)] (row-major, zero borders) of a against
    b[b_lo:b_hi]; returns (raw, i, j): the best score and its first cell in row-major order."""
    n = a.shape[0]
    m = b_hi - b_lo
    w = m + 1
    for j in range(w):
        h[j] = 0
    best = 0
    bi = 0
    bj = 0
    s = np.empty(w, np.int64)  # the row's substitution scores (see sw_best_raw)
    for i in range(1, n + 1):
        ai = a[i - 1]
        for j in range(1, w):
            s[j] = match if ai == b[b_lo + j - 1] else mismatch
        row = i * w
        prev = row - w
        h[row] = 0
        diag = 0
        left = 0
        rowbest = 0
        rowj = 0
        for j in range(1, w):
            up = h[prev + j]
            v = _cell(diag, up, left, s[j], gap)
            h[row + j] = v
            diag = up
            left = v
            if v > rowbest:
                rowbest = v
                rowj = j
        if rowbest > best:
            best = rowbest
            bi = i
            bj = rowj
    return best, bi, bj


@njit(cache=True, nogil=True)
def sw_trace(a, b, b_lo, b_hi, match, mismatch, gap, h, i, j):
    """Start (a offset, b offset relative to b_lo) of the path into cell (i, j) of a matrix
    filled by sw_fill, with sw_kernel's tie rules: diagonal, then up, then left, each only when
    strictly better; the path starts where its predecessor cell scores 0."""
    w = b_hi - b_lo + 1
    while True:
        here = i * w + j
        diag = h[here - w - 1]
        v = diag + (match if a[i - 1] == b[b_lo + j - 1] else mismatch)
        pi = i - 1
        pj = j - 1
        pv = diag
        up = h[here - w]
        if up + gap > v:
            v = up + gap
            pi = i - 1
            pj = j
            pv = up
        left = h[here - 1]
        if left + gap > v:
            pi = i
            pj = j - 1
            pv = left
        i = pi
        j = pj
        if pv == 0:
            return i, j


@njit(cache=True, nogil=True)
def sw_kernel(a, b, b_lo, b_hi, match, mismatch, gap):
    """Best local alignment of a (pattern) against b[b_lo:b_hi].

    Returns (raw, a_start, a_end, b_start, b_end) with absolute b offsets; raw 0 means no
    alignment. Standard local alignment (zero borders, linear gaps). Ties: diagonal before gaps;
    the first best cell in row-major order (a-major) wins. The score matrix is stored and the
    start found by a traceback (sw_fill, sw_trace); problems over MAX_MATRIX_CELLS use
    sw_kernel_linear, which gives the same result.
    """
    n = a.shape[0]
    m = b_hi - b_lo
    if n == 0 or m <= 0:
        return 0, 0, 0, b_lo, b_lo
    if (n + 1) * (m + 1) > MAX_MATRIX_CELLS or match * n >= 1 << 31:  # int32 matrix
        return sw_kernel_linear(a, b, b_lo, b_hi, match, mismatch, gap)
    h = np.empty((n + 1) * (m + 1), np.int32)
    best, bi, bj = sw_fill(a, b, b_lo, b_hi, match, mismatch, gap, h)
    if best == 0:
        return 0, 0, 0, b_lo, b_lo
    sa, sb = sw_trace(a, b, b_lo, b_hi, match, mismatch, gap, h, bi, bj)
    return best, sa, bi, b_lo + sb, b_lo + bj


@njit(cache=True, nogil=True)
def sw_kernel_linear(a, b, b_lo, b_hi, match, mismatch, gap):
    """sw_kernel in linear memory: each cell carries the start (in a and b) of the path that
    reached it, so no traceback matrix is needed."""
    n = a.shape[0]
    m = b_hi - b_lo
    if n == 0 or m <= 0:
        return 0, 0, 0, b_lo, b_lo
    h = np.zeros(m + 1, np.int64)
    sa = np.zeros(m + 1, np.int64)   # a-start of the path ending at (i, j)
    sb = np.zeros(m + 1, np.int64)   # b-start of that path
    best = 0
    bi = 0
    bj = 0
    bsa = 0
    bsb = 0
    for i in range(1, n + 1):
        ai = a[i - 1]
        diag = 0          # h[i-1][j-1]
        dsa = i - 1
        dsb = 0
        left = 0          # h[i][j-1]
        lsa = i
        lsb = 0
        for j in range(1, m + 1):
            up = h[j]
            usa = sa[j]
            usb = sb[j]
            s = match if ai == b[b_lo + j - 1] else mismatch
            v = diag + s
            vsa = dsa
            vsb = dsb
            if diag == 0:
                # a path starting fresh at this cell
                vsa = i - 1
                vsb = j - 1
            g = up + gap
            if g > v:
                v = g
                vsa = usa
                vsb = usb
            g = left + gap
            if g > v:
                v = g
                vsa = lsa
                vsb = lsb
            if v <= 0:
                v = 0
                vsa = i
                vsb = j
            diag = up
            dsa = usa
            dsb = usb
            h[j] = v
            sa[j] = vsa
            sb[j] = vsb
            left = v
            lsa = vsa
            lsb = vsb
            if v > best:
                best = v
                bi = i
                bj = j
                bsa = vsa
                bsb = vsb
        # column 0 of the next row is the zero border
        diag = 0
    if best == 0:
        return 0, 0, 0, b_lo, b_lo
    return best, bsa, bi, b_lo + bsb, b_lo + bj


@njit(cache=True, nogil=True)
def sw_best_raw(a, b, b_lo, b_hi, match, mismatch, gap):
    """The best local alignment score only (no spans): a cheap first pass for the search."""
    n = a.shape[0]
    m = b_hi - b_lo
    if n == 0 or m <= 0:
        return 0
    h = np.zeros(m + 1, np.int64)
    # this row's substitution scores first, in their own loop (no dependency between cells:
    # compiled to vector code), so the recurrence's loop carries one load less
    s = np.empty(m, np.int64)
    best = 0
    for i in range(n):
        ai = a[i]
        for j in range(m):
            s[j] = match if ai == b[b_lo + j] else mismatch
        diag = 0
        left = 0
        for j in range(m):
            up = h[j + 1]
            v = _cell(diag, up, left, s[j], gap)
            diag = up
            h[j + 1] = v
            left = v
            if v > best:
                best = v
    return best


def smith_waterman(pattern: str, text: str, params: SwParams = SwParams(), start: int = 0, end: int | None = None) -> SwResult:
    """Convenience wrapper on strings (the search calls `sw_kernel` directly on encoded arrays)."""
    a, b = encode(pattern), encode(text)
    end = len(text) if end is None else end
    raw, a0, a1, b0, b1 = sw_kernel(a, b, start, end, params.match, params.mismatch, params.gap)
    return SwResult(normalised_score(raw, b1 - b0, len(pattern), params.match), int(raw), int(b0), int(b1), int(a0), int(a1))


def normalised_score(raw: int, span: int, n: int, match: int) -> float:
    """Raw score over the best a perfect match could reach: 1.0 only for an exact match."""
    denom = match * max(span, n)
    return float(raw) / denom if denom > 0 else 0.0
