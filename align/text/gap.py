"""Gap alignment: move the boundaries of the rough matches to where the transcripts fit best.

Smith-Waterman stops a match where the transcript stops agreeing with the text, which is often
a few letters short of a word end (an STT drops "-ed") or a few letters into the next word.
Each boundary may move inward by `shrink_fraction` and outward by `stretch_fraction` of its
match's length; every candidate position is scored by the similarity of the transcript with
the text the match would then cover, multiplied by `word_snap` where the boundary falls on a
word boundary and by `phrase_snap` where it falls on a phrase boundary. Two neighbours that
both want the text between them are resolved jointly: the pair of positions (left end <= right
start) with the best summed score wins, each score taken at its own position. Unlike the
reference, the start of the first match and the end of the last are moved too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from .similarity import WngParams, similarities


@dataclass(frozen=True)
class GapParams:
    shrink_fraction: float = 0.1       # --align-shrink-fraction
    stretch_fraction: float = 0.25     # --align-stretch-fraction
    word_snap: float = 1.5             # --align-word-snap-factor
    phrase_snap: float = 1.0           # --align-phrase-snap-factor
    algo: str = "levenshtein"          # --align-similarity-algo (see algo.md for why not wng)
    wng: WngParams = WngParams()       # --align-wng-*


class _Text:
    """Boundary factors and the space-free text, for every clean offset at once."""

    def __init__(self, clean: str, phrase_of: np.ndarray, p: GapParams):
        self.clean = clean
        self.n = n = len(clean)
        nonsp = np.frombuffer(clean.encode("utf-32-le"), dtype=np.uint32) != 32
        outside = np.asarray(phrase_of[:n]) < 0
        # word end at e: a letter before e and a space (or the text's end) at e; word start at s
        # likewise; phrase boundaries where the clean character lies outside every phrase
        word_end = np.zeros(n + 1, bool)
        word_end[1:] = nonsp & np.append(~nonsp[1:], True)
        word_start = np.zeros(n + 1, bool)
        word_start[:n] = nonsp & np.insert(~nonsp[:-1], 0, True)
        phrase_end = np.append(outside, True)
        phrase_start = np.insert(outside, 0, True)
        self.end_f = np.where(word_end, p.word_snap, 1.0) * np.where(phrase_end, p.phrase_snap, 1.0)
        self.start_f = np.where(word_start, p.word_snap, 1.0) * np.where(phrase_start, p.phrase_snap, 1.0)
        # Similarities are taken with spaces removed: STT output splits and merges words ("some
        # thing", "ofthe") and that must not decide where a boundary goes; word boundaries count
        # through the snap factors instead. clean[a:b] without spaces is squeezed[at[a]:at[b]].
        self.squeezed = clean.replace(" ", "")
        self.at = np.zeros(n + 1, np.int64)
        np.cumsum(nonsp, out=self.at[1:])


def _squeeze(s: str) -> str:
    return s.replace(" ", "")


def _end_values(t: _Text, transcript: str, start: int, ends: np.ndarray, p: GapParams) -> np.ndarray:
    sq, a = t.squeezed, int(t.at[start])
    cands = [sq[a:b] for b in t.at[ends].tolist()]
    sims = similarities(p.algo, _squeeze(transcript), cands, p.wng, direction=1)
    return sims * t.end_f[ends]


def _start_values(t: _Text, transcript: str, end: int, starts: np.ndarray, p: GapParams) -> np.ndarray:
    sq, b = t.squeezed, int(t.at[end])
    cands = [sq[a:b] for a in t.at[starts].tolist()]
    sims = similarities(p.algo, _squeeze(transcript), cands, p.wng, direction=-1)
    return sims * t.start_f[starts]


def _reach(length: int, fraction: float) -> int:
    return int(length * fraction)


def gap_align(
    clean: str,
    phrase_of: np.ndarray,
    spans: Sequence[tuple[int, int]],
    transcripts: Sequence[str],
    params: GapParams = GapParams(),
) -> list[tuple[int, int]]:
    """New (start, end) for ordered, disjoint spans; the result stays ordered and disjoint."""
    t = _Text(clean, phrase_of, params)
    out = [list(s) for s in spans]
    k = len(out)
    if k == 0:
        return []
    orig = [tuple(s) for s in spans]

    # Start of the first match: nothing competes for the text before it.
    s0, e0 = orig[0]
    ln = e0 - s0
    lo = max(0, s0 - _reach(ln, params.stretch_fraction))
    hi = min(e0 - 1, s0 + _reach(ln, params.shrink_fraction))
    if hi > lo:
        starts = np.arange(lo, hi + 1)
        v = _start_values(t, transcripts[0], e0, starts, params)
        out[0][0] = int(starts[int(np.argmax(v))])

    for i in range(k - 1):
        a_start, a_end = out[i][0], orig[i][1]
        b_start, b_end = orig[i + 1]
        la, lb = a_end - orig[i][0], b_end - b_start
        a_min = a_end - _reach(la, params.shrink_fraction)
        b_max = b_start + _reach(lb, params.shrink_fraction)
        ends = np.arange(max(a_start + 1, a_min), min(a_end + _reach(la, params.stretch_fraction), b_max) + 1)
        starts = np.arange(max(b_start - _reach(lb, params.stretch_fraction), a_min), min(b_max, b_end - 1) + 1)
        if len(ends) == 0 or len(starts) == 0:
            continue
        va = _end_values(t, transcripts[i], a_start, ends, params)
        vb = _start_values(t, transcripts[i + 1], b_end, starts, params)
        e, s = _best_pair(ends, va, starts, vb)
        out[i][1] = e
        out[i + 1][0] = s

    # End of the last match.
    s1, e1 = out[-1][0], orig[-1][1]
    ln = e1 - orig[-1][0]
    lo = max(s1 + 1, e1 - _reach(ln, params.shrink_fraction))
    hi = min(len(clean), e1 + _reach(ln, params.stretch_fraction))
    if hi > lo:
        ends = np.arange(lo, hi + 1)
        v = _end_values(t, transcripts[-1], s1, ends, params)
        out[-1][1] = int(ends[int(np.argmax(v))])
    return [(a, b) for a, b in out]


def _best_pair(ends: np.ndarray, va: np.ndarray, starts: np.ndarray, vb: np.ndarray) -> tuple[int, int]:
    """argmax va[e] + vb[s] subject to e <= s; ties: the first in (start, end) order."""
    best = -np.inf
    pair = (int(ends[0]), int(starts[-1]))
    j = 0
    run_best = -np.inf
    run_arg = -1
    for si in range(len(starts)):
        s = starts[si]
        while j < len(ends) and ends[j] <= s:
            if va[j] > run_best:
                run_best = va[j]
                run_arg = j
            j += 1
        if run_arg < 0:
            continue
        total = run_best + vb[si]
        if total > best:
            best = total
            pair = (int(ends[run_arg]), int(s))
    return pair


def strip_span(clean: str, start: int, end: int) -> Optional[tuple[int, int]]:
    """Drop spaces at the ends of a span; None if nothing but spaces is left."""
    while start < end and clean[start] == " ":
        start += 1
    while end > start and clean[end - 1] == " ":
        end -= 1
    return (start, end) if end > start else None
