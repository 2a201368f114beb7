"""Numba kernels behind `align.text.similarity` (WNG, Editex, MRA), one call per batch.

Imported lazily by `similarity.py`, so that importing the package does not import numba.
Every kernel takes the strings of a batch as one array of code points `codes` and the
boundaries `offs` (string s is codes[offs[s]:offs[s + 1]]); string 0 is the reference `a`,
strings 1.. are the candidates. Hand-written because no well-kept library offers these
metrics at this speed (textdistance is pure Python); they are tested against textdistance
and a brute-force WNG in tests/text/test_similarity.py.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# One past the largest Unicode code point: n-gram keys are (rank of the (k-1)-gram prefix) *
# _CP_RANGE + last code point, exact for any n-gram size.
_CP_RANGE = 0x110000


# ---------------------------------------------------------------------------------------
# WNG (weighted n-gram similarity)


@njit(cache=True)
def _pos_weight(i, n, direction):
    """Position weight in [0, 1] of the i-th of n n-grams."""
    if n == 1:
        return 1.0
    if direction > 0:
        c = i / (n - 1)
        return c * c
    if direction < 0:
        c = (n - 1 - i) / (n - 1)
        return c * c
    c = (i - (n - 1) / 2.0) / (n - 1)
    return 4.0 * c * c


@njit(cache=True)
def _occ_weight(i, n, size, size_factor, position_factor, direction):
    w = _pos_weight(i, n, direction)
    return size * size_factor + w * w * position_factor


@njit(cache=True)
def _wng_total(length, min_size, max_size, size_factor, position_factor, direction):
    """Total weight of all n-gram occurrences of a string of `length` characters."""
    t = 0.0
    for k in range(min_size, max_size + 1):
        n = length - k + 1
        for i in range(n):
            t += _occ_weight(i, n, k, size_factor, position_factor, direction)
    return t


@njit(cache=True)
def _bsearch(arr, lo, count, key):
    """Index in arr[lo:lo+count] (sorted) of key, or -1."""
    left = 0
    right = count - 1
    while left <= right:
        mid = (left + right) >> 1
        v = arr[lo + mid]
        if v == key:
            return mid
        if v < key:
            left = mid + 1
        else:
            right = mid - 1
    return -1


@njit(cache=True)
def wng_batch(codes, offs, min_size, max_size, size_factor, position_factor, direction):
    nb = offs.shape[0] - 2
    out = np.empty(nb, np.float64)
    a0 = offs[0]
    la = offs[1] - a0
    kmax = min(max_size, la)
    blk = max(la, 1)
    # a's distinct n-grams of each size k, as sorted keys in block (k-1)*blk. Keys of size k
    # are built from the rank of the (k-1)-gram prefix, so ranks follow the lexicographic
    # order of the n-grams: the numerator below is summed in (size, lexicographic) order,
    # which makes the result independent of the batch and exactly symmetric in a and b.
    keys_sorted = np.empty(max(kmax, 1) * blk, np.int64)
    nuniq = np.zeros(max_size + 2, np.int64)
    base = np.zeros(max_size + 2, np.int64)
    wa = np.zeros(max(kmax, 1) * blk, np.float64)
    prev = np.empty(blk, np.int64)
    cur = np.empty(blk, np.int64)
    gid = 0
    for k in range(1, kmax + 1):
        n = la - k + 1
        keys = np.empty(n, np.int64)
        for i in range(n):
            if k == 1:
                keys[i] = codes[a0 + i]
            else:
                keys[i] = prev[i] * _CP_RANGE + codes[a0 + i + k - 1]
        order = np.argsort(keys)
        r = -1
        last = -1
        off = (k - 1) * blk
        for j in range(n):
            key = keys[order[j]]
            if r < 0 or key != last:
                r += 1
                keys_sorted[off + r] = key
                last = key
            cur[order[j]] = r
        nuniq[k] = r + 1
        base[k] = gid
        gid += r + 1
        if k >= min_size:
            for i in range(n):
                wa[base[k] + cur[i]] += _occ_weight(i, n, k, size_factor, position_factor, direction)
        tmp = prev
        prev = cur
        cur = tmp
    ngid = gid
    total_a = _wng_total(la, min_size, max_size, size_factor, position_factor, direction)

    maxlb = 1
    for bi in range(nb):
        maxlb = max(maxlb, offs[bi + 2] - offs[bi + 1])
    wb = np.zeros(max(ngid, 1), np.float64)
    cb = np.zeros(max(ngid, 1), np.int64)
    bprev = np.empty(maxlb, np.int64)
    bcur = np.empty(maxlb, np.int64)
    for bi in range(nb):
        b0 = offs[bi + 1]
        lb = offs[bi + 2] - b0
        if la == 0 or lb == 0:
            out[bi] = 1.0 if la == lb else 0.0
            continue
        if la >= lb:
            total = total_a
        else:
            total = _wng_total(lb, min_size, max_size, size_factor, position_factor, direction)
        if total <= 0.0:
            # No n-gram carries weight (both shorter than min_size, or zero factors).
            same = la == lb
            if same:
                for i in range(la):
                    if codes[a0 + i] != codes[b0 + i]:
                        same = False
                        break
            out[bi] = 1.0 if same else 0.0
            continue
        kb = min(kmax, lb)
        for k in range(1, kb + 1):
            n = lb - k + 1
            off = (k - 1) * blk
            for i in range(n):
                if k == 1:
                    bcur[i] = _bsearch(keys_sorted, off, nuniq[k], codes[b0 + i])
                else:
                    p = bprev[i]
                    if p < 0:
                        bcur[i] = -1
                    else:
                        bcur[i] = _bsearch(keys_sorted, off, nuniq[k], p * _CP_RANGE + codes[b0 + i + k - 1])
            if k >= min_size:
                for i in range(n):
                    if bcur[i] >= 0:
                        g = base[k] + bcur[i]
                        wb[g] += _occ_weight(i, n, k, size_factor, position_factor, direction)
                        cb[g] += 1
            tmp = bprev
            bprev = bcur
            bcur = tmp
        num = 0.0
        for g in range(ngid):
            if cb[g] > 0:
                num += min(wa[g], wb[g])
                wb[g] = 0.0
                cb[g] = 0
        out[bi] = num / total
    return out


# ---------------------------------------------------------------------------------------
# Editex (Zobel & Dart), normalised like textdistance: 1 - min(d, 2*maxlen) / (2*maxlen)


@njit(cache=True)
def _editex_r(x, y, masks):
    if x == y:
        return 0
    mx = masks[x] if x < masks.shape[0] else 0
    my = masks[y] if y < masks.shape[0] else 0
    if mx == 0 or my == 0:
        return 2
    if mx & my:
        return 1
    return 2


@njit(cache=True)
def _editex_d(prev, c, masks):
    # Deleting after H or W (letters that are often silent) costs 1.
    if prev != c and (prev == 72 or prev == 87):
        return 1
    return _editex_r(prev, c, masks)


@njit(cache=True)
def editex_batch(codes, offs, orig_len, masks):
    """codes: upper-cased strings; orig_len: lengths before upper-casing (the normaliser)."""
    nb = offs.shape[0] - 2
    out = np.empty(nb, np.float64)
    a0 = offs[0]
    la = offs[1] - a0
    da = np.empty(la + 1, np.int64)
    da[0] = 0
    prevc = 32  # the leading space textdistance pads with
    for i in range(la):
        da[i + 1] = _editex_d(prevc, codes[a0 + i], masks)
        prevc = codes[a0 + i]
    maxlb = 1
    for bi in range(nb):
        maxlb = max(maxlb, offs[bi + 2] - offs[bi + 1])
    row = np.empty(maxlb + 1, np.int64)
    db = np.empty(maxlb + 1, np.int64)
    for bi in range(nb):
        b0 = offs[bi + 1]
        lb = offs[bi + 2] - b0
        m = 2 * max(orig_len[0], orig_len[bi + 1])
        if m == 0:
            out[bi] = 1.0
            continue
        if orig_len[0] == 0 or orig_len[bi + 1] == 0:
            out[bi] = 0.0
            continue
        row[0] = 0
        prevc = 32
        for j in range(lb):
            c = codes[b0 + j]
            db[j + 1] = _editex_d(prevc, c, masks)
            row[j + 1] = row[j] + db[j + 1]
            prevc = c
        for i in range(1, la + 1):
            ca = codes[a0 + i - 1]
            diag = row[0]
            row[0] = row[0] + da[i]
            for j in range(1, lb + 1):
                up = row[j] + da[i]
                left = row[j - 1] + db[j]
                sub = diag + _editex_r(ca, codes[b0 + j - 1], masks)
                diag = row[j]
                best = up if up < left else left
                row[j] = sub if sub < best else best
        d = min(row[lb], m)
        out[bi] = 1.0 - d / m
    return out


# ---------------------------------------------------------------------------------------
# MRA (Match Rating Approach comparison), as textdistance computes it


@njit(cache=True)
def _mra_code(codes, start, length, out):
    """Write the MRA code of codes[start:start+length] (upper-cased) to out; return its length."""
    if length == 0:
        return 0
    out[0] = codes[start]
    n = 1
    for i in range(1, length):
        c = codes[start + i]
        if c == 65 or c == 69 or c == 73 or c == 79 or c == 85:  # A E I O U
            continue
        if c == out[n - 1]:
            continue
        out[n] = c
        n += 1
    if n > 6:
        out[3] = out[n - 3]
        out[4] = out[n - 2]
        out[5] = out[n - 1]
        n = 6
    return n


@njit(cache=True)
def _mra_unmatched(s, ls, t, lt, s2):
    """One left-to-right pass: keep the position-wise mismatches of s against t, then s's tail."""
    minlen = min(ls, lt)
    n = 0
    for i in range(minlen):
        if s[i] != t[i]:
            s2[n] = s[i]
            n += 1
    for i in range(minlen, ls):
        s2[n] = s[i]
        n += 1
    return n


@njit(cache=True)
def mra_batch(codes, offs):
    nb = offs.shape[0] - 2
    out = np.empty(nb, np.float64)
    a0 = offs[0]
    la = offs[1] - a0
    ca = np.empty(max(la, 1), np.int64)
    na = _mra_code(codes, a0, la, ca)
    maxlb = 1
    for bi in range(nb):
        maxlb = max(maxlb, offs[bi + 2] - offs[bi + 1])
    cb = np.empty(maxlb, np.int64)
    s = np.empty(8, np.int64)
    t = np.empty(8, np.int64)
    s2 = np.empty(8, np.int64)
    t2 = np.empty(8, np.int64)
    for bi in range(nb):
        b0 = offs[bi + 1]
        lb = offs[bi + 2] - b0
        if la == 0 or lb == 0:
            out[bi] = 1.0 if la == lb else 0.0
            continue
        nbc = _mra_code(codes, b0, lb, cb)
        maxlen = max(na, nbc)
        if abs(na - nbc) > 2:
            out[bi] = 0.0
            continue
        for i in range(na):
            s[i] = ca[i]
        for i in range(nbc):
            t[i] = cb[i]
        # One pass suffices: textdistance repeats it, but afterwards the two codes differ at
        # every position of their common length, so a second pass removes nothing.
        ls = _mra_unmatched(s, na, t, nbc, s2)
        lt = _mra_unmatched(t, nbc, s, na, t2)
        sim = maxlen - max(ls, lt)
        out[bi] = 1.0 - (maxlen - sim) / maxlen
    return out
